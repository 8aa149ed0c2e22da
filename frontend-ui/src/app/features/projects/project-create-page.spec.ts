import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';

import { byTestId, testProviders } from '../../../testing/providers';
import { ProjectCreatePage } from './project-create-page';

const template = (role: string) => ({
  role, name: role.toUpperCase(), description: '', model: 'm', temperature: 0.2, max_tokens: 100, system_prompt: '',
  capabilities: [],
});

describe('ProjectCreatePage', () => {
  it('creates the project, then the agents of the checked roles and the chosen existing ones', async () => {
    TestBed.configureTestingModule({ providers: testProviders() });
    const http = TestBed.inject(HttpTestingController);
    const navigate = spyOn(TestBed.inject(Router), 'navigate').and.resolveTo(true);
    const fixture = TestBed.createComponent(ProjectCreatePage);
    await fixture.whenStable();

    http.expectOne('/api/agents/templates').flush(['product_owner', 'developer', 'devops'].map(template));
    http.expectOne((r) => r.url === '/api/agents').flush({
      items: [{ agent_id: 'free', name: 'Free', role: 'tester', project_id: null }, { agent_id: 'busy', project_id: 'p0' }],
      total: 2, skip: 0, limit: 500,
    });
    await fixture.whenStable();

    const page = fixture.componentInstance as unknown as {
      form: { patchValue(v: unknown): void };
      toggleExisting(id: string, on: boolean): void;
    };
    page.form.patchValue({ basics: { name: 'Shop' } });
    page.toggleExisting('free', true);
    await fixture.whenStable();
    const root: HTMLElement = fixture.nativeElement;
    // product_owner and developer are checked by default, devops is not
    expect(byTestId(root, 'wizard-role-devops').querySelector('input')?.checked).toBeFalse();

    byTestId<HTMLButtonElement>(root, 'wizard-create').click();
    const create = http.expectOne((r) => r.url === '/api/projects' && r.method === 'POST');
    expect(create.request.body.name).toBe('Shop');
    create.flush({ id: 'p1', name: 'Shop', warnings: [] });

    const agents = http.match((r) => r.url === '/api/agents' && r.method === 'POST');
    expect(agents.map((r) => r.request.body.role).sort()).toEqual(['developer', 'product_owner']);
    expect(agents.every((r) => r.request.body.project_id === 'p1')).toBeTrue();
    agents.forEach((r) => r.flush({}));
    const assign = http.expectOne('/api/agents/free/assign');
    expect(assign.request.body).toEqual({ project_id: 'p1' });
    assign.flush({});

    expect(navigate).toHaveBeenCalledWith(['/projects', 'p1']);
    http.verify();
  });

  it("shows the API's refusal and stays on the page", async () => {
    TestBed.configureTestingModule({ providers: testProviders() });
    const http = TestBed.inject(HttpTestingController);
    const fixture = TestBed.createComponent(ProjectCreatePage);
    await fixture.whenStable();
    http.expectOne('/api/agents/templates').flush([]);
    http.expectOne((r) => r.url === '/api/agents').flush({ items: [], total: 0, skip: 0, limit: 500 });
    (fixture.componentInstance as unknown as { form: { patchValue(v: unknown): void } }).form.patchValue({
      basics: { name: 'Shop' },
    });
    await fixture.whenStable();
    byTestId<HTMLButtonElement>(fixture.nativeElement, 'wizard-create').click();
    http.expectOne('/api/projects').flush(
      { detail: [{ type: 'value_error', loc: ['body', 'jira_project_key'], msg: 'is required when jira_enabled is true' }] },
      { status: 422, statusText: 'Unprocessable Entity' },
    );
    await fixture.whenStable();
    expect(byTestId(fixture.nativeElement, 'error-message').textContent).toContain(
      'jira_project_key: is required when jira_enabled is true',
    );
  });
});
