import { FakeEventSource } from '../../../testing/fake-event-source';
import { EventStream, LiveEvent } from './event-stream';
import { isFinalStatus } from './event-stream.service';

describe('EventStream', () => {
  let received: LiveEvent[];

  function stream(url = '/api/workflows/w1/events', final = false): EventStream {
    const s = new EventStream(url, FakeEventSource.factory, [1000, 5000], final ? { endsWith: isFinalStatus } : {});
    s.events$.subscribe((event) => received.push(event));
    return s;
  }

  beforeEach(() => {
    FakeEventSource.reset();
    received = [];
    jasmine.clock().install();
  });

  afterEach(() => jasmine.clock().uninstall());

  it('connects, opens and delivers named events with their ids', () => {
    const s = stream();
    s.open();
    expect(s.state()).toBe('connecting');
    const source = FakeEventSource.latest();
    expect(source.url).toBe('/api/workflows/w1/events');

    source.open();
    expect(s.state()).toBe('open');
    source.send(7, 'new_message', { content: 'hello' });
    source.send(8, 'workflow_progress_update', { progress_percentage: 40 });

    expect(received.map((e) => [e.id, e.event_type])).toEqual([
      [7, 'new_message'],
      [8, 'workflow_progress_update'],
    ]);
    expect(received[0].data).toEqual({ content: 'hello' });
    expect(received[0].workflow_id).toBe('w1');
    expect(s.lastEventId()).toBe(8);
  });

  it('shows reconnecting while the browser retries by itself, without opening another source', () => {
    const s = stream();
    s.open();
    FakeEventSource.latest().open();
    FakeEventSource.latest().drop('retrying');
    expect(s.state()).toBe('reconnecting');
    jasmine.clock().tick(10_000);
    expect(FakeEventSource.instances.length).toBe(1);
    FakeEventSource.latest().open();
    expect(s.state()).toBe('open');
  });

  it('reopens after the browser gave up, with backoff, resuming after the last event', () => {
    const s = stream();
    s.open();
    const first = FakeEventSource.latest();
    first.open();
    first.send(41, 'new_message');
    first.drop('closed');

    expect(first.closed).toBeTrue();
    expect(s.state()).toBe('reconnecting');
    jasmine.clock().tick(999);
    expect(FakeEventSource.instances.length).toBe(1);
    jasmine.clock().tick(1);
    const second = FakeEventSource.latest();
    expect(second.url).toBe('/api/workflows/w1/events?last_event_id=41');

    second.drop('closed'); // still down: the next wait is longer
    jasmine.clock().tick(4999);
    expect(FakeEventSource.instances.length).toBe(2);
    jasmine.clock().tick(1);
    const third = FakeEventSource.latest();
    third.open();
    expect(s.state()).toBe('open');

    // once open again, a later drop starts from the shortest wait
    third.drop('closed');
    jasmine.clock().tick(1000);
    expect(FakeEventSource.instances.length).toBe(4);
  });

  it('delivers each event once across a reconnect', () => {
    const s = stream();
    s.open();
    const first = FakeEventSource.latest();
    first.send(1, 'new_message');
    first.send(2, 'new_message');
    first.drop('closed');
    jasmine.clock().tick(1000);
    const second = FakeEventSource.latest();
    second.send(2, 'new_message'); // sent again by a server that did not see our id
    second.send(3, 'new_message');
    expect(received.map((e) => e.id)).toEqual([1, 2, 3]);
  });

  it('ignores events of a source it has replaced', () => {
    const s = stream();
    s.open();
    const first = FakeEventSource.latest();
    first.drop('closed');
    jasmine.clock().tick(1000);
    first.send(5, 'new_message');
    expect(received).toEqual([]);
  });

  it('adds the resume id to a url that has a query already', () => {
    const s = stream('/api/events?x=1');
    s.open();
    FakeEventSource.latest().send(3, 'new_message');
    FakeEventSource.latest().drop('closed');
    jasmine.clock().tick(1000);
    expect(FakeEventSource.latest().url).toBe('/api/events?x=1&last_event_id=3');
  });

  it("stops after a run's final status instead of asking again", () => {
    const s = stream(undefined, true);
    s.open();
    const source = FakeEventSource.latest();
    source.open();
    source.send(10, 'workflow_status_changed', { status: 'running' });
    source.drop('retrying');
    expect(s.state()).toBe('reconnecting'); // not final yet: the browser retries
    source.open();
    source.send(11, 'workflow_status_changed', { status: 'completed' });
    source.drop('retrying'); // the server ended the stream

    expect(s.state()).toBe('closed');
    expect(s.ended()).toBeTrue();
    expect(source.closed).toBeTrue();
    jasmine.clock().tick(60_000);
    expect(FakeEventSource.instances.length).toBe(1);
  });

  it('restarts after the end from the last event (a resumed run)', () => {
    const s = stream(undefined, true);
    s.open();
    FakeEventSource.latest().send(11, 'workflow_status_changed', { status: 'cancelled' });
    FakeEventSource.latest().drop('closed');
    expect(s.ended()).toBeTrue();

    s.restart();
    expect(s.ended()).toBeFalse();
    expect(FakeEventSource.latest().url).toBe('/api/workflows/w1/events?last_event_id=11');
    expect(s.state()).toBe('reconnecting');
  });

  it('close stops a pending reconnect and the source', () => {
    const s = stream();
    s.open();
    FakeEventSource.latest().drop('closed');
    s.close();
    jasmine.clock().tick(60_000);
    expect(FakeEventSource.instances.length).toBe(1);
    expect(s.state()).toBe('closed');
  });

  it('filters by event type', () => {
    const s = stream();
    const messages: LiveEvent[] = [];
    s.on('new_message').subscribe((e) => messages.push(e));
    s.open();
    FakeEventSource.latest().send(1, 'step_started');
    FakeEventSource.latest().send(2, 'new_message');
    expect(messages.map((e) => e.id)).toEqual([2]);
  });
});
