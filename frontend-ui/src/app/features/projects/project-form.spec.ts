import { FormBuilder } from '@angular/forms';

import { Project } from '../../core/api/models';
import { fromProject, projectForm, toProjectCreate, toProjectUpdate } from './project-form';

describe('project form', () => {
  it('leaves empty optional fields out of a new project', () => {
    const form = projectForm(new FormBuilder());
    form.patchValue({ basics: { name: ' Shop ', type: 'api_service' } });
    expect(form.valid).toBeTrue();
    expect(toProjectCreate(form.getRawValue())).toEqual({
      name: 'Shop',
      type: 'api_service',
      status: 'planning',
      jira_enabled: false,
      confluence_enabled: false,
    });
  });

  it('needs a key for each integration turned on, in the API’s format', () => {
    const form = projectForm(new FormBuilder());
    const integrations = form.controls.integrations;
    integrations.patchValue({ jira_enabled: true });
    expect(integrations.hasError('jira_project_key_required')).toBeTrue();
    integrations.patchValue({ jira_project_key: 'conc' });
    expect(integrations.controls.jira_project_key.hasError('pattern')).toBeTrue();
    integrations.patchValue({ jira_project_key: 'CONC' });
    expect(integrations.valid).toBeTrue();
    integrations.patchValue({ confluence_enabled: true, confluence_space_key: '~me' });
    expect(integrations.valid).toBeTrue();
  });

  it('clears emptied fields on update and round-trips a project', () => {
    const project = {
      id: 'p1', name: 'Shop', description: 'Sells', type: 'web_app', status: 'active',
      repository_url: 'https://git/x.git', repository_branch: 'main', jira_project_key: 'SHOP', jira_enabled: true,
      confluence_space_key: null, confluence_enabled: false, created_by: 'me', created_at: null, updated_at: null,
      metadata: null,
    } as Project;
    const form = projectForm(new FormBuilder());
    form.reset(fromProject(project));
    form.patchValue({ repository: { repository_branch: '' } });
    const update = toProjectUpdate(form.getRawValue());
    expect(update.repository_branch).toBeNull();
    expect(update.repository_url).toBe('https://git/x.git');
    expect(update.jira_project_key).toBe('SHOP');
    expect(update.confluence_space_key).toBeNull();
  });
});
