import { FormBuilder } from '@angular/forms';

import { WorkflowTemplate } from '../../core/api/models';
import { decisionSteps, templateOptions, toWorkflowCreate, workflowForm } from './workflow-form';

const template = (type: string, inputs: string[]): WorkflowTemplate => ({
  workflow_type: type,
  title: type,
  description: '',
  required_roles: ['developer'],
  optional_roles: [],
  inputs: inputs.map((name) => ({ name, description: '', required: name === 'requirement' })),
  steps: [
    { name: 'design', title: 'Design', kind: 'decide', role: 'architect', reviewer_role: null, voter_roles: [], optional: false, task: '' },
    { name: 'implementation', title: 'Code', kind: 'code', role: 'developer', reviewer_role: null, voter_roles: [], optional: false, task: '' },
  ],
});

describe('workflow form', () => {
  const feature = template('feature_development', ['requirement', 'options.code', 'options.approval']);
  const documentation = template('documentation', ['requirement', 'options.max_review_rounds', 'options.approval']);

  function filled() {
    const form = workflowForm(new FormBuilder());
    form.patchValue({
      workflow_type: 'feature_development',
      project_id: 'p1',
      name: '  Slugify  ',
      requirement: ' Write slugify(text). ',
      tags: ['api'],
      approval_decisions: ['design'],
      code_rounds: 2,
      code_candidates: 3,
      max_review_rounds: 4,
    });
    return form;
  }

  it('knows which options a template takes and its decision steps', () => {
    expect(templateOptions(feature)).toEqual({ review: false, code: true, approval: true });
    expect(templateOptions(documentation)).toEqual({ review: true, code: false, approval: true });
    expect(decisionSteps(feature).map((s) => s.name)).toEqual(['design']);
  });

  it('sends only the options the template takes', () => {
    const body = toWorkflowCreate(filled().getRawValue(), feature);
    expect(body).toEqual({
      project_id: 'p1',
      name: 'Slugify',
      workflow_type: 'feature_development',
      priority: 'medium',
      requirement: 'Write slugify(text).',
      tags: ['api'],
      options: {
        approval: { decisions: ['design'], timeout_seconds: 3600, on_timeout: 'accept' },
        code: { rounds: 2, candidates: 3 },
      },
    });

    const docs = toWorkflowCreate({ ...filled().getRawValue(), workflow_type: 'documentation' }, documentation);
    expect(docs.options?.max_review_rounds).toBe(4);
    expect(docs.options?.code).toBeUndefined();
  });

  it('names the team only when chosen by hand', () => {
    const form = filled();
    expect(toWorkflowCreate(form.getRawValue(), feature).assigned_agents).toBeUndefined();
    form.patchValue({ assigned_agents: ['a1', 'a2'] });
    expect(toWorkflowCreate(form.getRawValue(), feature).assigned_agents).toEqual(['a1', 'a2']);
  });

  it('refuses what the API would refuse', () => {
    const form = filled();
    form.patchValue({ code_rounds: 7, requirement: '' });
    expect(form.controls.code_rounds.valid).toBeFalse();
    expect(form.controls.requirement.valid).toBeFalse();
  });
});
