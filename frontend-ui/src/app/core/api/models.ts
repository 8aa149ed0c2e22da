/**
 * Names for the API's types. Everything here is derived from `schema.ts`, which is generated from the API's OpenAPI
 * schema (tests/ui/test_api_types.py fails when the two differ), so a change of the API shows up as a type error.
 */
import { components, operations } from './schema';

type Schemas = components['schemas'];

export type Health = Schemas['HealthResponse'];
export type ComponentHealth = Schemas['ComponentHealth'];
export type ModelService = Schemas['ModelService'];
export type ModelBackend = ModelService['backend'];

export type Project = Schemas['ProjectResponse'];
export type ProjectSaved = Schemas['ProjectSaved'];
export type ProjectCreate = Schemas['ProjectCreate'];
export type ProjectUpdate = Schemas['ProjectUpdate'];
export type ProjectStatus = Schemas['ProjectStatus'];
export type ProjectType = Schemas['ProjectType'];

export type Agent = Schemas['AgentResponse'];
export type AgentCreate = Schemas['AgentCreate'];
export type AgentUpdate = Schemas['AgentUpdate'];
export type AgentTemplate = Schemas['AgentTemplate'];
export type AgentRole = Schemas['AgentRole'];
export type AgentStatus = Schemas['AgentStatus'];

export type Workflow = Schemas['WorkflowResponse'];
export type WorkflowDetail = Schemas['WorkflowDetailResponse'];
export type WorkflowCreate = Schemas['WorkflowCreate'];
export type WorkflowTemplate = Schemas['WorkflowTemplateResponse'];
export type StepTemplate = Schemas['StepTemplateResponse'];
export type WorkflowStatus = Schemas['WorkflowStatus'];
export type WorkflowType = Schemas['WorkflowType'];
export type WorkflowPriority = Schemas['WorkflowPriority'];
export type IntegrationState = Schemas['IntegrationState'];
export type Artifact = Schemas['ArtifactResponse'];
export type DecisionApproval = Schemas['DecisionApprovalRequest'];

export type Message = Schemas['MessageResponse'];
export type MessageCreate = Schemas['MessageCreate'];
export type MessageType = Schemas['MessageType'];
export type ThreadMessage = Schemas['ThreadMessage'];
export type Thread = Schemas['ThreadResponse'];
export type Decision = Schemas['DecisionResponse'];
export type CommunicationStats = Schemas['CommunicationStats'];

export type EventType = Schemas['EventType'];
export type StreamEventData = Schemas['StreamEventResponse'];

/** One page of a list (`items`, and `total` across all pages). */
export interface Page<T> {
  items: T[];
  total: number;
  skip: number;
  limit: number;
}

/** The query parameters an operation takes, by its operation id. */
export type QueryOf<K extends keyof operations> = NonNullable<operations[K]['parameters']['query']>;

export type ProjectQuery = QueryOf<'projects-read_projects'>;
export type AgentQuery = QueryOf<'agents-read_agents'>;
export type WorkflowQuery = QueryOf<'workflows-read_workflows'>;
export type ProjectWorkflowQuery = QueryOf<'projects-read_project_workflows'>;
export type MessageQuery = QueryOf<'communication-read_messages'>;
export type PageQuery = QueryOf<'communication-read_threads'>;

// The enumerations, as lists for selects and filters. Each is written as an object with one key per value of the
// generated union, so a value the API adds (missing key) or drops (excess key) is a compile error here.
type All<T extends string> = { [K in T]: true };
const all = <T extends string>(values: All<T>): T[] => Object.keys(values) as T[];

export const PROJECT_STATUSES = all<ProjectStatus>({
  planning: true, active: true, paused: true, completed: true, archived: true,
});
export const PROJECT_TYPES = all<ProjectType>({
  web_app: true, api_service: true, mobile_app: true, library: true, data_pipeline: true, other: true,
});
export const AGENT_ROLES = all<AgentRole>({
  product_owner: true, architect: true, developer: true, reviewer: true, tester: true, devops: true,
  tech_writer: true,
});
export const AGENT_STATUSES = all<AgentStatus>({ idle: true, busy: true, offline: true, error: true });
export const WORKFLOW_STATUSES = all<WorkflowStatus>({
  pending: true, running: true, paused: true, completed: true, failed: true, cancelled: true,
});
export const WORKFLOW_TYPES = all<WorkflowType>({
  feature_development: true, bug_fix: true, code_review: true, refactoring: true, documentation: true,
});
export const WORKFLOW_PRIORITIES = all<WorkflowPriority>({ low: true, medium: true, high: true, critical: true });
export const MESSAGE_TYPES = all<MessageType>({
  proposal: true, question: true, answer: true, review: true, decision: true, status_update: true, handoff: true,
  human: true,
});

/** Runs that are still going: Cancel applies, and a person's message reaches them. */
export const ACTIVE_WORKFLOW_STATUSES: readonly string[] = ['pending', 'running', 'paused'];
/** Runs that ended without finishing: Resume applies. */
export const RESUMABLE_WORKFLOW_STATUSES: readonly string[] = ['failed', 'cancelled'];
export const FINISHED_WORKFLOW_STATUSES: readonly string[] = ['completed', 'failed', 'cancelled'];

/** A step of a run as the workflow records it (`workflows/types.py` StepState). */
export interface StepState {
  name: string;
  title: string;
  kind: string;
  status: string;
  agent?: string | null;
  started_at?: string | null;
  completed_at?: string | null;
  duration_ms?: number | null;
  summary?: string;
  error?: string | null;
  decision_id?: string | null;
  artifacts?: string[];
  turns?: number;
  prompt_tokens?: number;
  completion_tokens?: number;
  tests?: TestTally | null;
}

/** Where a step that runs tests stands (`workflows/types.py` TestTally). */
export interface TestTally {
  status: string;
  round: number;
  passed: number;
  total: number;
  ruled_out?: number;
  candidates?: number;
  reason?: string | null;
}

/** One test round in the sandbox: a `review` message's `test_run` attachment, or a progress event's `tests`. */
export interface TestRound {
  round: number;
  candidate: number;
  status: string;
  passed: number;
  failed: number;
  errors: number;
  total: number;
  reason?: string | null;
  result?: {
    tests?: { name: string; outcome: string; message?: string; seconds?: number }[];
    output?: string;
    duration_ms?: number;
  };
}

/** An entry of a run's `errors`. */
export interface RunError {
  error: string;
  status?: string;
  source?: string;
  final?: boolean;
  at?: string;
}

export interface Variant {
  id: string;
  title: string;
  description?: string;
}

export interface Vote {
  agent_id?: string | null;
  agent_name: string;
  agent_role: string;
  variant_id: string;
  reason?: string;
}

export const EVENT_TYPES = all<EventType>({
  workflow_status_changed: true, workflow_progress_update: true, agent_status_changed: true, new_message: true,
  new_decision: true, step_started: true, step_completed: true, artifact_created: true, integration_synced: true,
  error_occurred: true,
});
