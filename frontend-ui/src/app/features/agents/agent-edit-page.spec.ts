import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { byTestId, testProviders } from '../../../testing/providers';
import { AgentEditPage } from './agent-edit-page';

const CHAT = 'qwen2.5-coder-0.5b-instruct-q4_k_m';
const CODE = 'qwen2.5-coder-1.5b-instruct-q4_k_m';

describe('AgentEditPage', () => {
  it("hints the agent's role's model, and the role's again when the role changes", async () => {
    TestBed.configureTestingModule({ providers: testProviders() });
    const http = TestBed.inject(HttpTestingController);
    const fixture = TestBed.createComponent(AgentEditPage);
    fixture.componentRef.setInput('agentId', 'a1');
    await fixture.whenStable();
    http.expectOne('/api/agents/a1').flush({
      agent_id: 'a1', name: 'Tess', role: 'tester', status: 'idle', model: CODE, temperature: 0.2, max_tokens: 512,
      capabilities: [], project_id: null, created_at: '2026-05-01T10:00:00Z',
    });
    http.expectOne((r) => r.url === '/api/projects').flush({ items: [], total: 0, skip: 0, limit: 500 });
    http.expectOne('/api/agents/templates').flush([
      { role: 'tester', model: CODE }, { role: 'architect', model: CHAT },
    ]);
    http.expectOne('/api/health').flush({
      status: 'degraded', version: '1', components: {},
      models: [
        { model: CHAT, roles: ['architect'], backend: 'openai', url: 'http://gpu:8000/v1', status: 'up', slots: null },
        { model: CODE, roles: ['tester'], backend: 'openai', url: 'http://gpu:8001/v1', status: 'down', slots: null },
      ],
    });
    await fixture.whenStable();
    const root: HTMLElement = fixture.nativeElement;
    const hint = () => byTestId(root, 'agent-model-hint').textContent?.trim();
    expect(hint()).toBe(`Model map: tester → ${CODE} (OpenAI-compatible server, down).`);

    const page = fixture.componentInstance as unknown as { form: { patchValue(v: unknown): void } };
    page.form.patchValue({ role: 'architect' });
    await fixture.whenStable();
    expect(hint()).toBe(
      `Model map: architect → ${CHAT} (OpenAI-compatible server, up). This agent: ${CODE} (OpenAI-compatible server, down).`,
    );
    http.verify();
  });
});
