import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Subject } from 'rxjs';

import { LiveEvent } from '../../../core/events/event-stream';
import { byTestId, sleep, testProviders } from '../../../../testing/providers';
import { CommunicationTab } from './communication-tab';

const message = (id: string, content: string, extra: Record<string, unknown> = {}) => ({
  message_id: id, workflow_id: 'w1', agent_id: 'a1', agent_name: 'Ada', agent_role: 'architect',
  message_type: 'proposal', content, addressed_to: null, addressed_to_names: null, parent_message_id: null,
  requires_response: false, urgency: 'medium', attachments: null, created_at: '2026-01-01T10:00:00Z',
  prompt_tokens: 10, completion_tokens: 5, latency_ms: 1200, ...extra,
});

const stats = {
  total_messages: 2, by_type: { proposal: 1, review: 1 }, threads: 1, decisions: 0, prompt_tokens: 10,
  completion_tokens: 5, total_tokens: 15, average_latency_ms: 1200, awaiting_response: 0,
  by_agent: [{ agent_id: 'a1', agent_name: 'Ada', agent_role: 'architect', messages: 2, prompt_tokens: 10,
    completion_tokens: 5, average_latency_ms: 1200 }],
  first_message_at: null, last_message_at: null,
};

describe('CommunicationTab', () => {
  let http: HttpTestingController;
  let events: Subject<LiveEvent>;

  async function render(active = true) {
    TestBed.configureTestingModule({ providers: testProviders() });
    http = TestBed.inject(HttpTestingController);
    events = new Subject<LiveEvent>();
    const fixture = TestBed.createComponent(CommunicationTab);
    fixture.componentRef.setInput('workflowId', 'w1');
    fixture.componentRef.setInput('active', active);
    fixture.componentRef.setInput('events', events.asObservable());
    await fixture.whenStable();
    const thread = {
      ...message('m1', 'Use a slug table'),
      replies: [{ ...message('m2', 'Agreed', { agent_name: 'Rev', agent_role: 'reviewer', message_type: 'review', parent_message_id: 'm1' }), replies: [] }],
      message_count: 2, participants: ['Ada', 'Rev'], last_message_at: null,
    };
    http.expectOne((r) => r.url === '/api/communication/w1/threads').flush({ items: [thread], total: 1, skip: 0, limit: 500 });
    http.expectOne((r) => r.url === '/api/communication/w1/decisions').flush({ items: [], total: 0, skip: 0, limit: 500 });
    http.expectOne('/api/communication/w1/stats').flush(stats);
    await fixture.whenStable();
    return fixture;
  }

  it('shows threads with their replies nested, the statistics and the empty decisions', async () => {
    const fixture = await render();
    const root: HTMLElement = fixture.nativeElement;
    const thread = byTestId(root, 'thread-m1');
    expect(thread.textContent).toContain('2 message(s) · Ada, Rev');
    expect(byTestId(thread, 'message-m1').textContent).toContain('Use a slug table');
    expect(thread.querySelector('.replies [data-testid="message-m2"]')?.textContent).toContain('Agreed');
    expect(byTestId(root, 'communication-stats').textContent).toContain('15');
    expect(byTestId(root, 'empty-state').textContent).toContain('No decisions yet');
  });

  it('reads the conversation again when a message arrives live', async () => {
    const fixture = await render();
    events.next({ id: 12, event_type: 'new_message', workflow_id: 'w1', data: {}, timestamp: '' });
    events.next({ id: 13, event_type: 'new_message', workflow_id: 'w1', data: {}, timestamp: '' });
    await sleep(400);
    // one read for the burst
    const reread = http.expectOne((r) => r.url === '/api/communication/w1/threads');
    expect(reread.request.method).toBe('GET');
    reread.flush({ items: [], total: 0, skip: 0, limit: 500 });
    http.expectOne('/api/communication/w1/stats').flush(stats);
    await fixture.whenStable();
    http.verify();
  });

  it("sends a person's message with an id of its own", async () => {
    const fixture = await render();
    const root: HTMLElement = fixture.nativeElement;
    const input = byTestId<HTMLTextAreaElement>(root, 'message-input');
    input.value = 'Please handle unicode';
    input.dispatchEvent(new Event('input'));
    await fixture.whenStable();
    byTestId<HTMLButtonElement>(root, 'send-message-button').click();
    const request = http.expectOne((r) => r.url === '/api/communication/w1/messages' && r.method === 'POST');
    expect(request.request.body.content).toBe('Please handle unicode');
    expect(request.request.body.message_id).toMatch(/^[0-9a-f-]{36}$/);
    request.flush(message('m9', 'Please handle unicode', { message_type: 'human' }));
    await fixture.whenStable();
    expect(input.value).toBe('');
  });

  it('cannot write to a run that has ended', async () => {
    const fixture = await render(false);
    expect(byTestId<HTMLTextAreaElement>(fixture.nativeElement, 'message-input').disabled).toBeTrue();
    expect(byTestId<HTMLButtonElement>(fixture.nativeElement, 'send-message-button').disabled).toBeTrue();
  });

  it('lists messages of one type when filtered', async () => {
    const fixture = await render();
    (fixture.componentInstance as unknown as { messageType: { set(v: string): void } }).messageType.set('review');
    await fixture.whenStable();
    const request = http.expectOne((r) => r.url === '/api/communication/w1/messages' && r.method === 'GET');
    expect(request.request.params.get('message_type')).toBe('review');
    request.flush({ items: [message('m2', 'Agreed', { message_type: 'review' })], total: 1, skip: 0, limit: 500 });
    await fixture.whenStable();
    expect(byTestId(fixture.nativeElement, 'message-list').textContent).toContain('Agreed');
  });
});
