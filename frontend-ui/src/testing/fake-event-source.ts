import { EventSourceLike } from '../app/core/events/event-stream';

/** An EventSource the test drives: open it, send it frames, drop it like the browser would. */
export class FakeEventSource implements EventSourceLike {
  static instances: FakeEventSource[] = [];

  readyState = 0; // CONNECTING
  onopen: ((event: Event) => unknown) | null = null;
  onerror: ((event: Event) => unknown) | null = null;
  closed = false;
  private readonly listeners = new Map<string, ((event: MessageEvent) => void)[]>();

  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }

  static reset(): void {
    FakeEventSource.instances = [];
  }

  static latest(): FakeEventSource {
    const last = FakeEventSource.instances[FakeEventSource.instances.length - 1];
    if (!last) {
      throw new Error('no EventSource was opened');
    }
    return last;
  }

  static factory = (url: string): EventSourceLike => new FakeEventSource(url);

  addEventListener(type: string, listener: (event: MessageEvent) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }

  /** The server answered: the stream is open. */
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }

  /** A frame `id: <id>`, `event: <type>`, `data: {event_type, workflow_id, data, timestamp}`. */
  send(id: number, type: string, data: Record<string, unknown> = {}, workflowId: string | null = 'w1'): void {
    const payload = { event_type: type, workflow_id: workflowId, data, timestamp: '2026-01-01T00:00:00Z' };
    const event = new MessageEvent(type, { data: JSON.stringify(payload), lastEventId: String(id) });
    for (const listener of this.listeners.get(type) ?? []) {
      listener(event);
    }
  }

  /** The connection dropped: the browser retries (CONNECTING) or gives up (CLOSED). */
  drop(state: 'retrying' | 'closed'): void {
    this.readyState = state === 'retrying' ? 0 : 2;
    this.onerror?.(new Event('error'));
  }
}
