import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { FakeEventSource } from '../../../testing/fake-event-source';
import { byTestId, sleep, testProviders } from '../../../testing/providers';
import { WorkflowDetailPage } from './workflow-detail-page';

function run(status: string, extra: Record<string, unknown> = {}) {
  return {
    workflow_id: 'w1', project_id: null, name: 'Slugify', description: null, workflow_type: 'feature_development',
    status, priority: 'high', requirement: 'Write slugify(text).', assigned_agents: null, tags: ['api'],
    steps: [
      { name: 'requirements', title: 'Requirements', kind: 'produce', status: 'completed', agent: 'Po', summary: 'Done' },
      { name: 'verification', title: 'Verification', kind: 'test_run', status: 'running', agent: 'Dev',
        tests: { status: 'failed', round: 1, passed: 3, total: 5 } },
    ],
    artifacts: [], metrics: { progress_percentage: 20, current_step: 'verification' }, errors: [],
    created_by: 'me', started_at: null, completed_at: null, created_at: null, updated_at: null,
    jira: { key: 'CONC-1', url: 'https://jira.example/browse/CONC-1', last_sync: 'ok', error: null, synced_at: null },
    confluence: null,
    ...extra,
  };
}

describe('WorkflowDetailPage', () => {
  let http: HttpTestingController;

  async function open(status: string, extra: Record<string, unknown> = {}) {
    FakeEventSource.reset();
    TestBed.configureTestingModule({ providers: testProviders() });
    http = TestBed.inject(HttpTestingController);
    const fixture = TestBed.createComponent(WorkflowDetailPage);
    fixture.componentRef.setInput('workflowId', 'w1');
    await fixture.whenStable();
    http.expectOne('/api/workflows/w1').flush(run(status, extra));
    http.expectOne((r) => r.url === '/api/communication/w1/messages').flush({
      items: [
        {
          message_id: 'm1', message_type: 'review', content: 'Round 1', agent_name: 'Dev', agent_role: 'developer',
          attachments: [{ kind: 'test_run', round: 1, candidate: 1, status: 'failed', passed: 3, failed: 2, errors: 0, total: 5,
            result: { tests: [{ name: 'tests/test_slug.py::test_empty', outcome: 'failed', message: 'assert 1 == 2' }], output: 'FAILED' } }],
        },
      ],
      total: 1, skip: 0, limit: 500,
    });
    await fixture.whenStable();
    return fixture;
  }

  const button = (fixture: { nativeElement: HTMLElement }, id: string) =>
    byTestId<HTMLButtonElement>(fixture.nativeElement, id);

  it('offers Cancel for a running run and not Resume', async () => {
    const fixture = await open('running');
    expect(button(fixture, 'cancel-button').disabled).toBeFalse();
    expect(button(fixture, 'resume-button').disabled).toBeTrue();
    expect(byTestId(fixture.nativeElement, 'workflow-title').textContent).toContain('Slugify');
    expect(byTestId(fixture.nativeElement, 'integration-links').textContent).toContain('CONC-1');
  });

  it('shows the steps with their test rounds', async () => {
    const fixture = await open('running');
    const step = byTestId(fixture.nativeElement, 'step-verification');
    expect(step.dataset['status']).toBe('running');
    expect(byTestId(step, 'test-tally').textContent).toContain('3 / 5 passed after round 1');
    expect(byTestId(step, 'test-round-1-1').textContent).toContain('3 / 5');
  });

  it('follows the run live: progress, test rounds and status', async () => {
    const fixture = await open('running');
    const source = FakeEventSource.latest();
    expect(source.url).toBe('/api/workflows/w1/events');
    source.open();
    source.send(5, 'workflow_progress_update', { progress_percentage: 60, current_step: 'verification' });
    source.send(6, 'workflow_progress_update', { step: 'verification', tests: { round: 2, candidate: 1, status: 'passed', passed: 5, failed: 0, errors: 0, total: 5 } });
    await fixture.whenStable();
    expect(byTestId(fixture.nativeElement, 'workflow-progress').dataset['progress']).toBe('60');
    expect(byTestId(fixture.nativeElement, 'test-tally').textContent).toContain('5 / 5 passed after round 2');
    expect(byTestId(fixture.nativeElement, 'run-connection-indicator').dataset['state']).toBe('open');

    source.send(7, 'workflow_status_changed', { status: 'cancelled', previous_status: 'running' });
    await fixture.whenStable();
    expect(button(fixture, 'cancel-button').disabled).toBeTrue();
    expect(button(fixture, 'resume-button').disabled).toBeFalse();

    // the row and the test rounds are read again shortly after
    await sleep(600);
    http.expectOne('/api/workflows/w1').flush(run('cancelled'));
    http.expectOne((r) => r.url === '/api/communication/w1/messages').flush({ items: [], total: 0, skip: 0, limit: 500 });
    source.drop('retrying'); // the run's stream ends with its final status
    await fixture.whenStable();
    expect(byTestId(fixture.nativeElement, 'run-connection-indicator').dataset['state']).toBe('closed');
  });

  it('resumes a cancelled run and follows it again', async () => {
    const fixture = await open('cancelled');
    FakeEventSource.latest().send(9, 'workflow_status_changed', { status: 'cancelled' });
    FakeEventSource.latest().drop('retrying');
    button(fixture, 'resume-button').click();
    http.expectOne('/api/workflows/w1/resume').flush(run('running'));
    http.expectOne('/api/workflows/w1').flush(run('running'));
    await fixture.whenStable();
    expect(FakeEventSource.latest().url).toBe('/api/workflows/w1/events?last_event_id=9');
    expect(button(fixture, 'cancel-button').disabled).toBeFalse();
  });

  it("shows why the API refused to cancel", async () => {
    const fixture = await open('running');
    button(fixture, 'cancel-button').click();
    http
      .expectOne('/api/workflows/w1/cancel')
      .flush({ detail: 'Workflow w1 is completed: only a running or paused run can be cancelled' }, { status: 409, statusText: 'Conflict' });
    http.expectOne('/api/workflows/w1').flush(run('completed'));
    await fixture.whenStable();
    expect(byTestId(fixture.nativeElement, 'error-message').textContent).toContain('only a running or paused run');
    expect(button(fixture, 'cancel-button').disabled).toBeTrue();
  });

  it('says when a decision waits for a person', async () => {
    const fixture = await open('paused', { metrics: { progress_percentage: 30, awaiting_approval: 'd1' } });
    expect(byTestId(fixture.nativeElement, 'awaiting-approval').textContent).toContain('paused until someone approves');
  });

  it('shows an unknown run as an error', async () => {
    FakeEventSource.reset();
    TestBed.configureTestingModule({ providers: testProviders() });
    http = TestBed.inject(HttpTestingController);
    const fixture = TestBed.createComponent(WorkflowDetailPage);
    fixture.componentRef.setInput('workflowId', 'nope');
    await fixture.whenStable();
    http.expectOne('/api/workflows/nope').flush({ detail: 'Workflow nope not found' }, { status: 404, statusText: 'Not Found' });
    http.expectOne((r) => r.url === '/api/communication/nope/messages').flush({ detail: 'Workflow nope not found' }, { status: 404, statusText: 'Not Found' });
    await fixture.whenStable();
    expect(byTestId(fixture.nativeElement, 'error-message').textContent).toContain('Workflow nope not found');
    expect(FakeEventSource.latest().closed).toBeTrue();
  });
});
