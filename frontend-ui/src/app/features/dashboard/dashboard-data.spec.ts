import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { ApiClient } from '../../core/api/api-client';
import { testProviders } from '../../../testing/providers';
import { Counts, TokensToday, loadCounts, loadTokensToday, startOfDay } from './dashboard-data';

describe('dashboard data', () => {
  let api: ApiClient;
  let http: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: testProviders() });
    api = TestBed.inject(ApiClient);
    http = TestBed.inject(HttpTestingController);
  });

  afterEach(() => http.verify());

  it('counts by status from the lists’ totals', () => {
    let counts: Counts | undefined;
    loadCounts(api).subscribe((c) => (counts = c));
    for (const request of http.match(() => true)) {
      const status = request.request.params.get('status');
      const total = status === 'running' ? 2 : status ? 1 : 10;
      expect(request.request.params.get('limit')).toBe('1');
      request.flush({ items: [], total, skip: 0, limit: 1 });
    }
    expect(counts?.workflows.total).toBe(10);
    expect(counts?.workflows.byStatus['running']).toBe(2);
    expect(counts?.projects.byStatus['archived']).toBe(1);
    expect(Object.keys(counts!.agents.byStatus)).toEqual(['idle', 'busy', 'offline', 'error']);
  });

  it("adds up the tokens of today's messages of the runs changed today", () => {
    const now = new Date(2026, 0, 15, 12, 0, 0);
    const today = new Date(2026, 0, 15, 9, 0, 0).toISOString();
    const yesterday = new Date(2026, 0, 14, 23, 0, 0).toISOString();
    let tokens: TokensToday | undefined;
    loadTokensToday(api, now).subscribe((t) => (tokens = t));

    http.expectOne((r) => r.url === '/api/workflows').flush({
      items: [
        { workflow_id: 'w1', updated_at: today, created_at: yesterday },
        { workflow_id: 'w2', updated_at: yesterday, created_at: yesterday },
      ],
      total: 2, skip: 0, limit: 200,
    });
    const first = http.expectOne((r) => r.url === '/api/communication/w1/messages' && r.params.get('limit') === '1');
    first.flush({ items: [], total: 3, skip: 0, limit: 1 });
    const page = http.expectOne((r) => r.url === '/api/communication/w1/messages' && r.params.get('limit') === '500');
    expect(page.request.params.get('skip')).toBe('0');
    page.flush({
      items: [
        { created_at: yesterday, prompt_tokens: 1000, completion_tokens: 1000 },
        { created_at: today, prompt_tokens: 100, completion_tokens: 20 },
        { created_at: today, prompt_tokens: null, completion_tokens: null },
      ],
      total: 3, skip: 0, limit: 500,
    });
    expect(tokens).toEqual({ prompt: 100, completion: 20, runs: 1, partial: false });
  });

  it('starts the day at local midnight', () => {
    expect(startOfDay(new Date(2026, 4, 3, 17, 45)).getHours()).toBe(0);
  });
});
