import { FormBuilder, Validators } from '@angular/forms';

import { WorkflowCreate, WorkflowPriority, WorkflowTemplate, WorkflowType } from '../../core/api/models';

/** The API's defaults (api/schemas/workflows.py); the form starts from them. */
export const DEFAULTS = {
  approvalTimeoutSeconds: 3600,
  maxReviewRounds: 1,
  codeRounds: 3,
  codeCandidates: 1,
};

export function workflowForm(fb: FormBuilder) {
  return fb.nonNullable.group({
    workflow_type: ['' as WorkflowType | '', Validators.required],
    project_id: ['', Validators.required],
    name: ['', [Validators.required, Validators.maxLength(255)]],
    description: [''],
    requirement: ['', [Validators.required, Validators.maxLength(100_000)]],
    priority: ['medium' as WorkflowPriority],
    tags: [[] as string[]],
    assigned_agents: [[] as string[]],
    approval_decisions: [[] as string[]],
    approval_timeout_seconds: [
      DEFAULTS.approvalTimeoutSeconds,
      [Validators.required, Validators.min(1), Validators.max(30 * 24 * 3600)],
    ],
    approval_on_timeout: ['accept' as 'accept' | 'fail'],
    max_review_rounds: [DEFAULTS.maxReviewRounds, [Validators.required, Validators.min(0), Validators.max(5)]],
    code_rounds: [DEFAULTS.codeRounds, [Validators.required, Validators.min(1), Validators.max(6)]],
    code_candidates: [DEFAULTS.codeCandidates, [Validators.required, Validators.min(1), Validators.max(4)]],
  });
}

export type WorkflowForm = ReturnType<typeof workflowForm>;
type FormValue = ReturnType<WorkflowForm['getRawValue']>;

/** Which options a template takes (its `inputs`: options.max_review_rounds, options.code, options.approval). */
export function templateOptions(template: WorkflowTemplate | null | undefined) {
  const names = new Set((template?.inputs ?? []).map((i) => i.name));
  return {
    review: names.has('options.max_review_rounds'),
    code: names.has('options.code'),
    approval: names.has('options.approval'),
  };
}

/** The decision steps of a template: what `options.approval.decisions` may name. */
export function decisionSteps(template: WorkflowTemplate | null | undefined) {
  return (template?.steps ?? []).filter((s) => s.kind === 'decide');
}

/** The request body: only the options the template takes; the team only when chosen by hand. */
export function toWorkflowCreate(value: FormValue, template: WorkflowTemplate): WorkflowCreate {
  const takes = templateOptions(template);
  const body: WorkflowCreate = {
    project_id: value.project_id,
    name: value.name.trim(),
    workflow_type: value.workflow_type as WorkflowType,
    priority: value.priority,
    requirement: value.requirement.trim(),
    tags: value.tags,
    options: {
      approval: {
        decisions: value.approval_decisions,
        timeout_seconds: Number(value.approval_timeout_seconds),
        on_timeout: value.approval_on_timeout,
      },
    },
  };
  if (value.description.trim()) {
    body.description = value.description.trim();
  }
  if (value.assigned_agents.length) {
    body.assigned_agents = value.assigned_agents;
  }
  if (takes.review) {
    body.options!.max_review_rounds = Number(value.max_review_rounds);
  }
  if (takes.code) {
    body.options!.code = { rounds: Number(value.code_rounds), candidates: Number(value.code_candidates) };
  }
  return body;
}
