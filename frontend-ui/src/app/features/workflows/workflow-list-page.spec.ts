import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { LiveEvents } from '../../core/events/live-events';
import { FakeEventSource } from '../../../testing/fake-event-source';
import { byTestId, testProviders } from '../../../testing/providers';
import { WorkflowListPage } from './workflow-list-page';

const run = (id: string, status: string, progress: number) => ({
  workflow_id: id, project_id: 'p1', name: `Run ${id}`, description: null, workflow_type: 'bug_fix', status,
  priority: 'low', requirement: '', assigned_agents: null, steps: [], artifacts: [], errors: [], tags: [],
  metrics: { progress_percentage: progress, current_step: 'fix' }, created_by: 'me', started_at: null,
  completed_at: null, created_at: '2026-01-01T00:00:00Z', updated_at: null,
});

describe('WorkflowListPage', () => {
  it('lists runs by the filters and shows their progress live', async () => {
    FakeEventSource.reset();
    TestBed.configureTestingModule({ providers: testProviders() });
    const http = TestBed.inject(HttpTestingController);
    TestBed.inject(LiveEvents).start();
    const fixture = TestBed.createComponent(WorkflowListPage);
    await fixture.whenStable();

    http.expectOne((r) => r.url === '/api/projects').flush({ items: [], total: 0, skip: 0, limit: 500 });
    const list = http.expectOne((r) => r.url === '/api/workflows');
    expect(list.request.params.get('limit')).toBe('25');
    expect(list.request.params.has('status')).toBeFalse();
    list.flush({ items: [run('w1', 'running', 20)], total: 1, skip: 0, limit: 25 });
    await fixture.whenStable();
    const row = () => byTestId(fixture.nativeElement, 'workflow-row-w1');
    expect(row().textContent).toContain('20%');

    FakeEventSource.latest().send(3, 'workflow_progress_update', { progress_percentage: 80, current_step: 'verification' }, 'w1');
    await fixture.whenStable();
    expect(row().textContent).toContain('80%');
    expect(row().textContent).toContain('Verification');

    (fixture.componentInstance as unknown as { status: { set(v: string): void } }).status.set('failed');
    await fixture.whenStable();
    const filtered = http.expectOne((r) => r.url === '/api/workflows');
    expect(filtered.request.params.get('status')).toBe('failed');
    filtered.flush({ items: [], total: 0, skip: 0, limit: 25 });
    await fixture.whenStable();
    expect(byTestId(fixture.nativeElement, 'empty-state').textContent).toContain('No workflow matches these filters');
  });
});
