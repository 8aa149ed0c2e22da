import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { ModelService } from '../../core/api/models';
import { byTestId, testProviders } from '../../../testing/providers';
import { AgentCreatePage } from './agent-create-page';

const CHAT = 'qwen2.5-coder-0.5b-instruct-q4_k_m';
const CODE = 'qwen2.5-coder-1.5b-instruct-q4_k_m';

const template = (role: string, model: string) => ({
  role, name: role, description: '', model, temperature: 0.2, max_tokens: 100, system_prompt: '', capabilities: [],
});

const service = (model: string, roles: string[], slots: number): ModelService => ({
  model, roles, backend: 'server', url: 'http://127.0.0.1:8081/v1', status: 'up', detail: 'serving', slots, busy: 0,
  queued: 0,
});

describe('AgentCreatePage', () => {
  it("hints the role's model from the model map and what serves it, as the role changes", async () => {
    TestBed.configureTestingModule({ providers: testProviders() });
    const http = TestBed.inject(HttpTestingController);
    const fixture = TestBed.createComponent(AgentCreatePage);
    await fixture.whenStable();
    http.expectOne('/api/agents/templates').flush([template('developer', CODE), template('reviewer', CHAT)]);
    http.expectOne((r) => r.url === '/api/projects').flush({ items: [], total: 0, skip: 0, limit: 500 });
    http.expectOne('/api/health').flush({
      status: 'ok', version: '1', components: {},
      models: [service(CHAT, ['reviewer'], 2), service(CODE, ['developer'], 4)],
    });
    await fixture.whenStable();
    const root: HTMLElement = fixture.nativeElement;
    const hint = () => byTestId(root, 'agent-model-hint').textContent?.trim();

    byTestId(root, 'agent-template-developer').click();
    await fixture.whenStable();
    expect(byTestId<HTMLInputElement>(root, 'agent-model').value).toBe(CODE);
    expect(hint()).toBe(`Model map: developer → ${CODE} (llama.cpp server, 4 slots, up).`);

    byTestId(root, 'agent-template-reviewer').click();
    await fixture.whenStable();
    expect(hint()).toBe(`Model map: reviewer → ${CHAT} (llama.cpp server, 2 slots, up).`);

    // The role alone changes: the hint follows it; the model typed stays, and is said to be another one.
    const page = fixture.componentInstance as unknown as { form: { patchValue(v: unknown): void } };
    page.form.patchValue({ role: 'developer' });
    await fixture.whenStable();
    expect(hint()).toBe(
      `Model map: developer → ${CODE} (llama.cpp server, 4 slots, up). This agent: ${CHAT} (llama.cpp server, 2 slots, up).`,
    );

    // Any name can be typed; one no service has goes to the default model's.
    const model = byTestId<HTMLInputElement>(root, 'agent-model');
    model.value = 'my-model';
    model.dispatchEvent(new Event('input'));
    await fixture.whenStable();
    expect(hint()).toContain("my-model is not a served model: its requests go to the default model's service");
    http.verify();
  });
});
