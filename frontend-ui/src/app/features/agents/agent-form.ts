import { FormBuilder, Validators } from '@angular/forms';

import {
  Agent, AgentCreate, AgentRole, AgentStatus, AgentTemplate, AgentUpdate, ModelService,
} from '../../core/api/models';
import { describeModelService } from '../../core/ui/labels';

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

/** The model map, role -> model, as the role templates carry it (each template's `model`). */
export function roleModels(templates: readonly AgentTemplate[]): Record<string, string> {
  return Object.fromEntries(templates.map((t) => [t.role, t.model]));
}

/**
 * What the model field's hint says: the model map's model for the role and what serves it, then, when the typed
 * model is another one, what serves that, or that no service has it (its requests go to the default model's
 * service). Empty until the model map or the services are known.
 */
export function modelHint(
  role: string,
  model: string,
  map: Record<string, string>,
  services: readonly ModelService[],
): string {
  const served = (name: string) => services.find((s) => s.model === name);
  const parts: string[] = [];
  const mapModel = map[role] ?? services.find((s) => s.roles.includes(role))?.model;
  if (mapModel) {
    // Without a service of that name (the in-process and scripted backends), the one the role's agents go to.
    const service = served(mapModel) ?? services.find((s) => s.roles.includes(role));
    const runBy = service && service.model !== mapModel ? `run by ${service.model}: ` : '';
    parts.push(`Model map: ${role} → ${mapModel}` + (service ? ` (${runBy}${describeModelService(service)})` : ''));
  }
  const typed = model.trim();
  if (typed && services.length) {
    const service = served(typed);
    if (!service) {
      const which = typed === mapModel ? 'It' : typed;
      parts.push(`${which} is not a served model: its requests go to the default model's service`);
    } else if (typed !== mapModel) {
      parts.push(`This agent: ${typed} (${describeModelService(service)})`);
    }
  }
  return parts.length ? parts.join('. ') + '.' : '';
}
