import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';

import { ApiClient } from './api-client';
import { Page, Project } from './models';

describe('ApiClient', () => {
  let api: ApiClient;
  let http: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [provideZonelessChangeDetection(), provideHttpClient(), provideHttpClientTesting()],
    });
    api = TestBed.inject(ApiClient);
    http = TestBed.inject(HttpTestingController);
  });

  afterEach(() => http.verify());

  it('lists projects with only the filters that are set', () => {
    let page: Page<Project> | undefined;
    api.projects({ search: 'web', status: null, type: undefined, skip: 0, limit: 25 }).subscribe((p) => (page = p));
    const request = http.expectOne((r) => r.url === '/api/projects');
    expect(request.request.method).toBe('GET');
    expect(request.request.params.keys().sort()).toEqual(['limit', 'search', 'skip']);
    expect(request.request.params.get('search')).toBe('web');
    request.flush({ items: [], total: 0, skip: 0, limit: 25 });
    expect(page?.total).toBe(0);
  });

  it('sends an empty search as no filter', () => {
    api.projects({ search: '' }).subscribe();
    const request = http.expectOne('/api/projects');
    expect(request.request.params.keys()).toEqual([]);
    request.flush({ items: [], total: 0, skip: 0, limit: 100 });
  });

  it('creates, updates and deletes a project', () => {
    api.createProject({ name: 'Shop', type: 'web_app' }).subscribe();
    const create = http.expectOne('/api/projects');
    expect(create.request.method).toBe('POST');
    expect(create.request.body).toEqual({ name: 'Shop', type: 'web_app' });
    create.flush({ id: 'p1', warnings: [] });

    api.updateProject('p1', { status: 'active' }).subscribe();
    const update = http.expectOne('/api/projects/p1');
    expect(update.request.method).toBe('PUT');
    update.flush({ id: 'p1' });

    api.deleteProject('p1').subscribe();
    const remove = http.expectOne('/api/projects/p1');
    expect(remove.request.method).toBe('DELETE');
    remove.flush(null, { status: 204, statusText: 'No Content' });
  });

  it('filters agents and assigns or unassigns one', () => {
    api.agents({ role: 'developer', status: 'idle', project_id: 'p1' }).subscribe();
    const list = http.expectOne((r) => r.url === '/api/agents');
    expect(list.request.params.get('role')).toBe('developer');
    expect(list.request.params.get('status')).toBe('idle');
    expect(list.request.params.get('project_id')).toBe('p1');
    list.flush({ items: [], total: 0, skip: 0, limit: 100 });

    api.assignAgent('a1', null).subscribe();
    const assign = http.expectOne('/api/agents/a1/assign');
    expect(assign.request.method).toBe('POST');
    expect(assign.request.body).toEqual({ project_id: null });
    assign.flush({});
  });

  it('cancels, resumes and answers a decision of a run', () => {
    api.cancelWorkflow('w1').subscribe();
    expect(http.expectOne('/api/workflows/w1/cancel').request.method).toBe('POST');
    api.resumeWorkflow('w1').subscribe();
    expect(http.expectOne('/api/workflows/w1/resume').request.method).toBe('POST');
    api.approveDecision('w1', 'd1', { action: 'override', variant_id: 'B', comment: 'safer' }).subscribe();
    const approval = http.expectOne('/api/workflows/w1/decisions/d1/approval');
    expect(approval.request.body).toEqual({ action: 'override', variant_id: 'B', comment: 'safer' });
    http.match(() => true).forEach((r) => r.flush({}));
  });

  it('reads an artifact as text and knows where to download it', () => {
    expect(api.artifactUrl('w 1', 'a1')).toBe('/api/workflows/w%201/artifacts/a1');
    let text = '';
    api.artifactText('w1', 'a1').subscribe((t) => (text = t));
    const request = http.expectOne('/api/workflows/w1/artifacts/a1');
    expect(request.request.responseType).toBe('text');
    request.flush('def slug(): ...');
    expect(text).toBe('def slug(): ...');
  });

  it("sends a person's message and reads the communication of a run", () => {
    api.sendMessage('w1', { content: 'Use UTF-8', message_id: 'm1' }).subscribe();
    const send = http.expectOne('/api/communication/w1/messages');
    expect(send.request.method).toBe('POST');
    expect(send.request.body).toEqual({ content: 'Use UTF-8', message_id: 'm1' });
    send.flush({});

    api.messages('w1', { message_type: 'review', agent_id: null, limit: 500 }).subscribe();
    const messages = http.expectOne((r) => r.url === '/api/communication/w1/messages' && r.method === 'GET');
    expect(messages.request.params.get('message_type')).toBe('review');
    expect(messages.request.params.has('agent_id')).toBeFalse();
    messages.flush({ items: [], total: 0, skip: 0, limit: 500 });

    api.threads('w1').subscribe();
    api.decisions('w1').subscribe();
    api.stats('w1').subscribe();
    http.expectOne('/api/communication/w1/threads').flush({ items: [], total: 0, skip: 0, limit: 100 });
    http.expectOne('/api/communication/w1/decisions').flush({ items: [], total: 0, skip: 0, limit: 100 });
    http.expectOne('/api/communication/w1/stats').flush({});
  });

  it('names the live streams', () => {
    expect(api.eventsUrl()).toBe('/api/events');
    expect(api.workflowEventsUrl('w1')).toBe('/api/workflows/w1/events');
  });
});
