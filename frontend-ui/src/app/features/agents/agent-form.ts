import { FormBuilder, Validators } from '@angular/forms';

import { Agent, AgentCreate, AgentRole, AgentStatus, AgentTemplate, AgentUpdate } from '../../core/api/models';

/** An agent's configuration: what the create and edit pages share. */
export function agentForm(fb: FormBuilder) {
  return fb.nonNullable.group({
    name: ['', [Validators.required, Validators.maxLength(255)]],
    role: ['developer' as AgentRole, Validators.required],
    status: ['idle' as AgentStatus, Validators.required],
    description: [''],
    model: ['', [Validators.required, Validators.maxLength(100)]],
    temperature: [0.2, [Validators.required, Validators.min(0), Validators.max(2)]],
    max_tokens: [1024, [Validators.required, Validators.min(1), Validators.max(32768)]],
    system_prompt: [''],
    capabilities: [[] as string[]],
  });
}

export type AgentForm = ReturnType<typeof agentForm>;
type FormValue = ReturnType<AgentForm['getRawValue']>;

/** The form's value for a role's template (a new agent). */
export function fromTemplate(template: AgentTemplate): FormValue {
  return {
    name: template.name,
    role: template.role,
    status: 'idle',
    description: template.description,
    model: template.model,
    temperature: template.temperature,
    max_tokens: template.max_tokens,
    system_prompt: template.system_prompt,
    capabilities: [...template.capabilities],
  };
}

/** The form's value for an existing agent. */
export function fromAgent(agent: Agent): FormValue {
  return {
    name: agent.name,
    role: agent.role as AgentRole,
    status: agent.status as AgentStatus,
    description: agent.description ?? '',
    model: agent.model,
    temperature: agent.temperature ?? 0,
    max_tokens: agent.max_tokens ?? 1024,
    system_prompt: agent.system_prompt ?? '',
    capabilities: [...(agent.capabilities ?? [])],
  };
}

const text = (value: string): string | null => (value.trim() ? value.trim() : null);

export function toAgentCreate(value: FormValue, projectId: string | null): AgentCreate {
  return {
    name: value.name.trim(),
    role: value.role,
    status: value.status,
    description: text(value.description),
    model: value.model.trim(),
    temperature: Number(value.temperature),
    max_tokens: Number(value.max_tokens),
    system_prompt: value.system_prompt,
    capabilities: value.capabilities,
    project_id: projectId,
  };
}

export function toAgentUpdate(value: FormValue): AgentUpdate {
  return {
    name: value.name.trim(),
    role: value.role,
    status: value.status,
    description: text(value.description),
    model: value.model.trim(),
    temperature: Number(value.temperature),
    max_tokens: Number(value.max_tokens),
    system_prompt: value.system_prompt,
    capabilities: value.capabilities,
  };
}
