import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';

import { byTestId, testProviders } from '../../../testing/providers';
import { WorkflowCreatePage } from './workflow-create-page';

const templates = [
  {
    workflow_type: 'bug_fix', title: 'Bug fix', description: 'Fix a bug', required_roles: ['tester', 'developer'],
    optional_roles: [],
    inputs: [
      { name: 'requirement', description: 'The bug', required: true },
      { name: 'options.code', description: 'The test loop', required: false },
      { name: 'options.approval', description: 'Approvals', required: false },
    ],
    steps: [
      { name: 'fix_approach', title: 'Approach', kind: 'decide', role: 'developer', reviewer_role: null, voter_roles: [], optional: false, task: '' },
    ],
  },
];

describe('WorkflowCreatePage', () => {
  async function render() {
    TestBed.configureTestingModule({ providers: testProviders() });
    const http = TestBed.inject(HttpTestingController);
    const fixture = TestBed.createComponent(WorkflowCreatePage);
    fixture.componentRef.setInput('project', 'p1');
    fixture.componentRef.setInput('type', 'bug_fix');
    await fixture.whenStable();
    http.expectOne('/api/workflows/templates').flush(templates);
    http.expectOne((r) => r.url === '/api/projects').flush({ items: [{ id: 'p1', name: 'Shop' }], total: 1, skip: 0, limit: 500 });
    http.expectOne((r) => r.url === '/api/projects/p1/agents').flush({
      items: [{ agent_id: 'a1', name: 'Dev', role: 'developer' }], total: 1, skip: 0, limit: 500,
    });
    await fixture.whenStable();
    return { fixture, http };
  }

  it('warns about the roles the team lacks, and reads the team only when the project changes', async () => {
    const { fixture, http } = await render();
    const root: HTMLElement = fixture.nativeElement;
    expect(byTestId(root, 'missing-roles-warning').textContent).toContain('the team has no tester');

    const name = byTestId<HTMLInputElement>(root, 'workflow-name');
    name.value = 'Fix login';
    name.dispatchEvent(new Event('input'));
    await fixture.whenStable();
    http.expectNone((r) => r.url === '/api/projects/p1/agents');
  });

  it("starts the run with the template's options and shows the API's refusal", async () => {
    const { fixture, http } = await render();
    const navigate = spyOn(TestBed.inject(Router), 'navigate').and.resolveTo(true);
    const page = fixture.componentInstance as unknown as { form: { patchValue(v: unknown): void } };
    page.form.patchValue({ name: 'Fix login', requirement: 'Login fails with UTF-8 names.', approval_decisions: ['*'] });
    await fixture.whenStable();
    byTestId<HTMLButtonElement>(fixture.nativeElement, 'workflow-create').click();

    const refused = http.expectOne((r) => r.url === '/api/workflows' && r.method === 'POST');
    expect(refused.request.body).toEqual({
      project_id: 'p1', name: 'Fix login', workflow_type: 'bug_fix', priority: 'medium',
      requirement: 'Login fails with UTF-8 names.', tags: [],
      options: { approval: { decisions: ['*'], timeout_seconds: 3600, on_timeout: 'accept' }, code: { rounds: 3, candidates: 1 } },
    });
    refused.flush(
      { detail: [{ type: 'value_error', loc: ['body', 'workflow_type'], msg: 'Bug fix needs agents with the roles tester, developer; project p1 has no tester' }] },
      { status: 422, statusText: 'Unprocessable Entity' },
    );
    await fixture.whenStable();
    expect(byTestId(fixture.nativeElement, 'error-message').textContent).toContain('workflow_type: Bug fix needs agents');
    expect(navigate).not.toHaveBeenCalled();

    byTestId<HTMLButtonElement>(fixture.nativeElement, 'workflow-create').click();
    http.expectOne((r) => r.url === '/api/workflows' && r.method === 'POST').flush({ workflow_id: 'w9', name: 'Fix login' });
    expect(navigate).toHaveBeenCalledWith(['/workflows', 'w9']);
  });
});
