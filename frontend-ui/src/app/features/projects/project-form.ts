import { AbstractControl, FormBuilder, ValidationErrors, ValidatorFn, Validators } from '@angular/forms';

import { Project, ProjectCreate, ProjectStatus, ProjectType, ProjectUpdate } from '../../core/api/models';

export const JIRA_KEY = /^[A-Z][A-Z0-9_]{0,49}$/;
export const SPACE_KEY = /^~?[A-Za-z0-9_]{1,49}$/;

/** An enabled integration needs its key (the API checks the same). */
function keyWhenEnabled(toggle: string, key: string): ValidatorFn {
  return (group: AbstractControl): ValidationErrors | null => {
    const enabled = group.get(toggle)?.value === true;
    const value = `${group.get(key)?.value ?? ''}`.trim();
    return enabled && !value ? { [`${key}_required`]: true } : null;
  };
}

/** The project's fields in three groups: the wizard shows one per step, the settings tab all of them. */
export function projectForm(fb: FormBuilder) {
  return fb.nonNullable.group({
    basics: fb.nonNullable.group({
      name: ['', [Validators.required, Validators.maxLength(255)]],
      description: [''],
      type: ['web_app' as ProjectType, Validators.required],
      status: ['planning' as ProjectStatus, Validators.required],
    }),
    repository: fb.nonNullable.group({
      repository_url: ['', Validators.maxLength(2048)],
      repository_branch: ['', Validators.maxLength(255)],
    }),
    integrations: fb.nonNullable.group(
      {
        jira_enabled: [false],
        jira_project_key: ['', Validators.pattern(JIRA_KEY)],
        confluence_enabled: [false],
        confluence_space_key: ['', Validators.pattern(SPACE_KEY)],
      },
      {
        validators: [
          keyWhenEnabled('jira_enabled', 'jira_project_key'),
          keyWhenEnabled('confluence_enabled', 'confluence_space_key'),
        ],
      },
    ),
  });
}

export type ProjectForm = ReturnType<typeof projectForm>;
type FormValue = ReturnType<ProjectForm['getRawValue']>;

const text = (value: string): string | null => (value.trim() ? value.trim() : null);

/** A new project from the form; empty optional fields are left out. */
export function toProjectCreate(value: FormValue): ProjectCreate {
  const { basics, repository, integrations } = value;
  const body: ProjectCreate = {
    name: basics.name.trim(),
    type: basics.type,
    status: basics.status,
    jira_enabled: integrations.jira_enabled,
    confluence_enabled: integrations.confluence_enabled,
  };
  const optional = {
    description: text(basics.description),
    repository_url: text(repository.repository_url),
    repository_branch: text(repository.repository_branch),
    jira_project_key: text(integrations.jira_project_key),
    confluence_space_key: text(integrations.confluence_space_key),
  };
  for (const [key, item] of Object.entries(optional)) {
    if (item !== null) {
      (body as Record<string, unknown>)[key] = item;
    }
  }
  return body;
}

/** The whole project from the form; an emptied optional field is cleared (null). */
export function toProjectUpdate(value: FormValue): ProjectUpdate {
  const { basics, repository, integrations } = value;
  return {
    name: basics.name.trim(),
    description: text(basics.description),
    type: basics.type,
    status: basics.status,
    repository_url: text(repository.repository_url),
    repository_branch: text(repository.repository_branch),
    jira_enabled: integrations.jira_enabled,
    jira_project_key: text(integrations.jira_project_key),
    confluence_enabled: integrations.confluence_enabled,
    confluence_space_key: text(integrations.confluence_space_key),
  };
}

/** The form's value for an existing project. */
export function fromProject(project: Project): FormValue {
  return {
    basics: {
      name: project.name,
      description: project.description ?? '',
      type: project.type as ProjectType,
      status: project.status as ProjectStatus,
    },
    repository: {
      repository_url: project.repository_url ?? '',
      repository_branch: project.repository_branch ?? '',
    },
    integrations: {
      jira_enabled: project.jira_enabled ?? false,
      jira_project_key: project.jira_project_key ?? '',
      confluence_enabled: project.confluence_enabled ?? false,
      confluence_space_key: project.confluence_space_key ?? '',
    },
  };
}
