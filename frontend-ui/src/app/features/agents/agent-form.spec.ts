import { FormBuilder } from '@angular/forms';

import { AgentTemplate, ModelService } from '../../core/api/models';
import { agentForm, fromTemplate, modelHint, roleModels, toAgentCreate } from './agent-form';

const CHAT = 'qwen2.5-coder-0.5b-instruct-q4_k_m';
const CODE = 'qwen2.5-coder-1.5b-instruct-q4_k_m';

const service = (model: string, roles: string[], extra: Partial<ModelService> = {}): ModelService => ({
  model, roles, backend: 'server', url: 'http://127.0.0.1:8081/v1', status: 'up', detail: 'serving', slots: 4,
  busy: 0, queued: 0, ...extra,
});

const SERVED = [service(CHAT, ['product_owner', 'reviewer']), service(CODE, ['developer', 'tester'], { slots: 1 })];
const MAP = { developer: CODE, tester: CODE, reviewer: CHAT, product_owner: CHAT };

describe('agent form', () => {
  it('reads the model map from the role templates', () => {
    const templates = [{ role: 'developer', model: CODE }, { role: 'reviewer', model: CHAT }] as AgentTemplate[];
    expect(roleModels(templates)).toEqual({ developer: CODE, reviewer: CHAT });
  });

  it("names the role's model and what serves it", () => {
    expect(modelHint('developer', CODE, MAP, SERVED)).toBe(
      `Model map: developer → ${CODE} (llama.cpp server, 1 slot, up).`,
    );
    expect(modelHint('reviewer', CHAT, MAP, SERVED)).toBe(
      `Model map: reviewer → ${CHAT} (llama.cpp server, 4 slots, up).`,
    );
  });

  it('says where another model goes: its own service, or the default model’s', () => {
    expect(modelHint('developer', CHAT, MAP, SERVED)).toBe(
      `Model map: developer → ${CODE} (llama.cpp server, 1 slot, up). This agent: ${CHAT} (llama.cpp server, 4 slots, up).`,
    );
    expect(modelHint('developer', ' gpt-x ', MAP, SERVED)).toBe(
      `Model map: developer → ${CODE} (llama.cpp server, 1 slot, up). ` +
        "gpt-x is not a served model: its requests go to the default model's service.",
    );
  });

  it('names the one service of the in-process and scripted backends', () => {
    const scripted = [service('scripted', Object.keys(MAP), { backend: 'scripted', url: null, slots: null })];
    expect(modelHint('reviewer', CHAT, MAP, scripted)).toBe(
      `Model map: reviewer → ${CHAT} (run by scripted: scripted replies, up). ` +
        "It is not a served model: its requests go to the default model's service.",
    );
  });

  it('says what it knows before the services or the map are loaded', () => {
    expect(modelHint('developer', 'gpt-x', MAP, [])).toBe(`Model map: developer → ${CODE}.`);
    expect(modelHint('developer', CODE, {}, SERVED)).toBe(
      `Model map: developer → ${CODE} (llama.cpp server, 1 slot, up).`,
    );
    expect(modelHint('developer', '', {}, [])).toBe('');
  });

  it("creates an agent with the template's model", () => {
    const form = agentForm(new FormBuilder());
    form.reset(
      fromTemplate({
        role: 'developer', name: 'Developer', description: '', model: CODE, temperature: 0.2, max_tokens: 100,
        system_prompt: 'p', capabilities: ['code'],
      } as AgentTemplate),
    );
    expect(toAgentCreate(form.getRawValue(), null).model).toBe(CODE);
  });
});
