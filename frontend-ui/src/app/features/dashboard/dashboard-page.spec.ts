import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { ModelService } from '../../core/api/models';
import { byTestId, testProviders } from '../../../testing/providers';
import { DashboardPage } from './dashboard-page';

const models: ModelService[] = [
  {
    model: 'qwen2.5-coder-0.5b-instruct-q4_k_m', roles: ['product_owner', 'reviewer'], backend: 'server',
    url: 'http://127.0.0.1:8081/v1', status: 'up', detail: 'serving', slots: 4, busy: 1, queued: 0,
  },
  {
    model: 'qwen2.5-coder-1.5b-instruct-q4_k_m', roles: ['developer', 'tester'], backend: 'server',
    url: 'http://127.0.0.1:8082/v1', status: 'degraded', detail: 'answered 503', slots: 2, busy: 2, queued: 3,
  },
  {
    model: 'elsewhere', roles: [], backend: 'openai', url: null, status: 'down', detail: 'no service runs it',
    slots: null, busy: null, queued: null,
  },
];

describe('DashboardPage', () => {
  it('lists each model service with its status, roles, slots, busy and queued requests, and URL', async () => {
    TestBed.configureTestingModule({ providers: testProviders() });
    const http = TestBed.inject(HttpTestingController);
    const fixture = TestBed.createComponent(DashboardPage);
    await fixture.whenStable();
    http.expectOne('/api/health').flush({
      status: 'degraded', version: '1.2.3', components: { llm: { status: 'degraded', detail: '3 models' } }, models,
    });
    await fixture.whenStable();

    const card = byTestId(fixture.nativeElement, 'model-services');
    const rows = Array.from(card.querySelectorAll<HTMLElement>('[data-testid="model-service-row"]'));
    expect(rows.length).toBe(3);
    const text = (row: HTMLElement, id: string) => byTestId(row, id).textContent?.replace(/\s+/g, ' ').trim();

    expect(text(rows[0], 'model-service-name')).toBe('qwen2.5-coder-0.5b-instruct-q4_k_m');
    expect(text(rows[0], 'model-service-roles')).toBe('Product owner, Reviewer');
    expect(rows[0].querySelector('app-status-chip [data-status]')?.getAttribute('data-status')).toBe('up');
    expect(text(rows[0], 'model-service-slots')).toBe('4 slots');
    expect(text(rows[0], 'model-service-busy')).toBe('1 busy');
    expect(text(rows[0], 'model-service-queued')).toBe('0 queued');
    expect(text(rows[0], 'model-service-url')).toBe('llama.cpp server · http://127.0.0.1:8081/v1');

    expect(rows[1].querySelector('app-status-chip [data-status]')?.getAttribute('data-status')).toBe('degraded');
    expect(text(rows[1], 'model-service-slots')).toBe('2 slots');
    expect(text(rows[1], 'model-service-busy')).toBe('2 busy');
    expect(text(rows[1], 'model-service-queued')).toBe('3 queued');

    expect(text(rows[2], 'model-service-roles')).toBe('no role by default');
    expect(text(rows[2], 'model-service-slots')).toBe('– slots');
    expect(text(rows[2], 'model-service-url')).toBe('OpenAI-compatible server');
    fixture.destroy();
  });
});
