import { HttpClient, HttpParams } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { Observable } from 'rxjs';

import {
  Agent,
  AgentCreate,
  AgentQuery,
  AgentTemplate,
  AgentUpdate,
  Artifact,
  CommunicationStats,
  Decision,
  DecisionApproval,
  Health,
  Message,
  MessageCreate,
  MessageQuery,
  Page,
  PageQuery,
  Project,
  ProjectCreate,
  ProjectQuery,
  ProjectSaved,
  ProjectUpdate,
  ProjectWorkflowQuery,
  Thread,
  Workflow,
  WorkflowCreate,
  WorkflowDetail,
  WorkflowQuery,
  WorkflowTemplate,
} from './models';

export const API_BASE = '/api';

type QueryValue = string | number | boolean | null | undefined;

/** Query parameters without the empty ones (an empty filter means "any"). */
export function queryParams(query: object = {}): HttpParams {
  let params = new HttpParams();
  for (const [key, value] of Object.entries(query as Record<string, QueryValue>)) {
    if (value !== null && value !== undefined && value !== '') {
      params = params.set(key, String(value));
    }
  }
  return params;
}

const id = (value: string) => encodeURIComponent(value);

/** The Conclave API, one typed method per endpoint the UI uses. Errors stay HttpErrorResponse: see apiErrorMessage. */
@Injectable({ providedIn: 'root' })
export class ApiClient {
  private readonly http = inject(HttpClient);

  health(): Observable<Health> {
    return this.http.get<Health>(`${API_BASE}/health`);
  }

  // --- projects ---------------------------------------------------------------------------------------------------

  projects(query: ProjectQuery = {}): Observable<Page<Project>> {
    return this.http.get<Page<Project>>(`${API_BASE}/projects`, { params: queryParams(query) });
  }

  project(projectId: string): Observable<Project> {
    return this.http.get<Project>(`${API_BASE}/projects/${id(projectId)}`);
  }

  createProject(body: ProjectCreate): Observable<ProjectSaved> {
    return this.http.post<ProjectSaved>(`${API_BASE}/projects`, body);
  }

  updateProject(projectId: string, body: ProjectUpdate): Observable<ProjectSaved> {
    return this.http.put<ProjectSaved>(`${API_BASE}/projects/${id(projectId)}`, body);
  }

  deleteProject(projectId: string): Observable<void> {
    return this.http.delete<void>(`${API_BASE}/projects/${id(projectId)}`);
  }

  projectAgents(projectId: string, query: PageQuery = {}): Observable<Page<Agent>> {
    return this.http.get<Page<Agent>>(`${API_BASE}/projects/${id(projectId)}/agents`, { params: queryParams(query) });
  }

  projectWorkflows(projectId: string, query: ProjectWorkflowQuery = {}): Observable<Page<Workflow>> {
    return this.http.get<Page<Workflow>>(`${API_BASE}/projects/${id(projectId)}/workflows`, {
      params: queryParams(query),
    });
  }

  // --- agents -----------------------------------------------------------------------------------------------------

  agents(query: AgentQuery = {}): Observable<Page<Agent>> {
    return this.http.get<Page<Agent>>(`${API_BASE}/agents`, { params: queryParams(query) });
  }

  agentTemplates(): Observable<AgentTemplate[]> {
    return this.http.get<AgentTemplate[]>(`${API_BASE}/agents/templates`);
  }

  agent(agentId: string): Observable<Agent> {
    return this.http.get<Agent>(`${API_BASE}/agents/${id(agentId)}`);
  }

  createAgent(body: AgentCreate): Observable<Agent> {
    return this.http.post<Agent>(`${API_BASE}/agents`, body);
  }

  updateAgent(agentId: string, body: AgentUpdate): Observable<Agent> {
    return this.http.put<Agent>(`${API_BASE}/agents/${id(agentId)}`, body);
  }

  deleteAgent(agentId: string): Observable<void> {
    return this.http.delete<void>(`${API_BASE}/agents/${id(agentId)}`);
  }

  /** Assigns the agent to a project, or unassigns it (`null`). */
  assignAgent(agentId: string, projectId: string | null): Observable<Agent> {
    return this.http.post<Agent>(`${API_BASE}/agents/${id(agentId)}/assign`, { project_id: projectId });
  }

  // --- workflows --------------------------------------------------------------------------------------------------

  workflowTemplates(): Observable<WorkflowTemplate[]> {
    return this.http.get<WorkflowTemplate[]>(`${API_BASE}/workflows/templates`);
  }

  workflows(query: WorkflowQuery = {}): Observable<Page<Workflow>> {
    return this.http.get<Page<Workflow>>(`${API_BASE}/workflows`, { params: queryParams(query) });
  }

  workflow(workflowId: string): Observable<WorkflowDetail> {
    return this.http.get<WorkflowDetail>(`${API_BASE}/workflows/${id(workflowId)}`);
  }

  createWorkflow(body: WorkflowCreate): Observable<Workflow> {
    return this.http.post<Workflow>(`${API_BASE}/workflows`, body);
  }

  deleteWorkflow(workflowId: string): Observable<void> {
    return this.http.delete<void>(`${API_BASE}/workflows/${id(workflowId)}`);
  }

  cancelWorkflow(workflowId: string): Observable<Workflow> {
    return this.http.post<Workflow>(`${API_BASE}/workflows/${id(workflowId)}/cancel`, null);
  }

  resumeWorkflow(workflowId: string): Observable<Workflow> {
    return this.http.post<Workflow>(`${API_BASE}/workflows/${id(workflowId)}/resume`, null);
  }

  approveDecision(workflowId: string, decisionId: string, body: DecisionApproval): Observable<Workflow> {
    return this.http.post<Workflow>(
      `${API_BASE}/workflows/${id(workflowId)}/decisions/${id(decisionId)}/approval`,
      body,
    );
  }

  artifacts(workflowId: string, query: PageQuery = {}): Observable<Page<Artifact>> {
    return this.http.get<Page<Artifact>>(`${API_BASE}/workflows/${id(workflowId)}/artifacts`, {
      params: queryParams(query),
    });
  }

  /** Where the file itself is served (a link to download or open it). */
  artifactUrl(workflowId: string, artifactId: string): string {
    return `${API_BASE}/workflows/${id(workflowId)}/artifacts/${id(artifactId)}`;
  }

  /** The file as text, to show it. */
  artifactText(workflowId: string, artifactId: string): Observable<string> {
    return this.http.get(this.artifactUrl(workflowId, artifactId), { responseType: 'text' });
  }

  // --- communication ----------------------------------------------------------------------------------------------

  messages(workflowId: string, query: MessageQuery = {}): Observable<Page<Message>> {
    return this.http.get<Page<Message>>(`${API_BASE}/communication/${id(workflowId)}/messages`, {
      params: queryParams(query),
    });
  }

  sendMessage(workflowId: string, body: MessageCreate): Observable<Message> {
    return this.http.post<Message>(`${API_BASE}/communication/${id(workflowId)}/messages`, body);
  }

  threads(workflowId: string, query: PageQuery = {}): Observable<Page<Thread>> {
    return this.http.get<Page<Thread>>(`${API_BASE}/communication/${id(workflowId)}/threads`, {
      params: queryParams(query),
    });
  }

  decisions(workflowId: string, query: PageQuery = {}): Observable<Page<Decision>> {
    return this.http.get<Page<Decision>>(`${API_BASE}/communication/${id(workflowId)}/decisions`, {
      params: queryParams(query),
    });
  }

  stats(workflowId: string): Observable<CommunicationStats> {
    return this.http.get<CommunicationStats>(`${API_BASE}/communication/${id(workflowId)}/stats`);
  }

  // --- live streams -----------------------------------------------------------------------------------------------

  workflowEventsUrl(workflowId: string): string {
    return `${API_BASE}/workflows/${id(workflowId)}/events`;
  }

  eventsUrl(): string {
    return `${API_BASE}/events`;
  }
}
