"""Workflows: the seed's columns, plus the options a run starts with and the templates it follows."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints

from db.enums import WorkflowPriority, WorkflowType
from workflows.templates import (
    DEFAULT_APPROVAL_TIMEOUT_SECONDS,
    DEFAULT_CANDIDATES,
    DEFAULT_REVIEW_ROUNDS,
    DEFAULT_TEST_ROUNDS,
    MAX_CANDIDATES,
    MAX_REVIEW_ROUNDS,
    MAX_TEST_ROUNDS,
)

from .common import InputModel, Name, Omittable, OutputModel, PartialUpdate, ShortText, Tag, Text, storable_text

Requirement = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100_000), AfterValidator(storable_text)
]
StepName = Annotated[str, StringConstraints(pattern=r"^(\*|[a-z_]{1,50})$")]


class ApprovalOptions(InputModel):
    decisions: list[StepName] = Field(
        default_factory=list,
        max_length=20,
        description="Decision steps whose choice waits for a person (see the template's steps), or ['*'] for all.",
    )
    timeout_seconds: int = Field(DEFAULT_APPROVAL_TIMEOUT_SECONDS, ge=1, le=30 * 24 * 3600)
    on_timeout: Literal["accept", "fail"] = Field(
        "accept", description="Without an answer in time: keep the team's choice, or fail the run."
    )


class CodeOptions(InputModel):
    rounds: int = Field(
        DEFAULT_TEST_ROUNDS,
        ge=1,
        le=MAX_TEST_ROUNDS,
        description="Test runs in the sandbox, the first included; each later one follows a repair of the code.",
    )
    candidates: int = Field(
        DEFAULT_CANDIDATES,
        ge=1,
        le=MAX_CANDIDATES,
        description="Modules written at first, and rewrites in each repair (other temperatures and seeds); the one "
        "passing most tests goes on.",
    )


class WorkflowOptions(InputModel):
    max_review_rounds: int = Field(
        DEFAULT_REVIEW_ROUNDS, ge=0, le=MAX_REVIEW_ROUNDS, description="Revisions a reviewer may ask for per loop."
    )
    approval: ApprovalOptions = ApprovalOptions.model_validate({})
    code: CodeOptions = Field(
        default_factory=lambda: CodeOptions.model_validate({}),
        description="The code loop of feature_development, bug_fix and refactoring.",
    )
    seed: int | None = Field(
        None,
        ge=0,
        le=2**31 - 1,
        description="Fixes the sampling of every model call of the run: with the same requirement, team, model and "
        "machine, a run gives the same answers again. Unset: each run samples anew (seeded from its id).",
    )


class WorkflowCreate(InputModel):
    project_id: uuid.UUID
    name: Name
    description: Text | None = None
    workflow_type: WorkflowType
    priority: WorkflowPriority = WorkflowPriority.MEDIUM
    requirement: Requirement
    assigned_agents: list[uuid.UUID] | None = Field(
        None, max_length=50, description="The team, if not the project's agents (the first of each role leads)."
    )
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    created_by: Name = "anonymous"
    options: WorkflowOptions = WorkflowOptions.model_validate({})


class WorkflowUpdate(PartialUpdate):
    """Only the description of a run changes; its status changes through cancel and resume."""

    NOT_NULL = ("name", "priority", "tags")

    name: Name | Omittable = None
    description: Text | None = None
    priority: WorkflowPriority | Omittable = None
    tags: Annotated[list[Tag], Field(max_length=50)] | Omittable = None


class DecisionApprovalRequest(InputModel):
    action: Literal["approve", "override"] = "approve"
    variant_id: ShortText | None = Field(None, description="For `override`: the variant to choose instead.")
    comment: Annotated[Text, StringConstraints(max_length=10_000)] = ""
    author: Name = "user"


class WorkflowResponse(OutputModel):
    workflow_id: uuid.UUID
    project_id: uuid.UUID | None
    name: str
    description: str | None
    workflow_type: str
    status: str
    priority: str
    requirement: str
    assigned_agents: list[str] | None
    steps: list[Any] | None
    artifacts: list[Any] | None
    metrics: dict[str, Any] | None
    errors: list[Any] | None
    tags: list[str] | None
    options: dict[str, Any] | None = None
    temporal_run_id: str | None = None
    created_by: str
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None


class IntegrationState(OutputModel):
    """Where a run is mirrored in Jira or Confluence, and how its last sync went."""

    key: str | None = Field(None, description="The Jira epic's key, or the Confluence page's id.")
    url: str | None = None
    last_sync: Literal["ok", "failed"] | None = None
    error: str | None = Field(None, description="Why the last sync failed.")
    synced_at: datetime | None = None


class WorkflowDetailResponse(WorkflowResponse):
    """One run, with its Jira epic and Confluence page (present once the first sync created them)."""

    jira: IntegrationState | None = None
    confluence: IntegrationState | None = None


class StepTemplateResponse(OutputModel):
    name: str
    title: str
    kind: str
    role: str
    reviewer_role: str | None
    voter_roles: list[str]
    optional: bool
    task: str


class InputTemplateResponse(OutputModel):
    name: str
    description: str
    required: bool


class WorkflowTemplateResponse(OutputModel):
    workflow_type: str
    title: str
    description: str
    required_roles: list[str]
    optional_roles: list[str]
    inputs: list[InputTemplateResponse]
    steps: list[StepTemplateResponse]


class ArtifactResponse(OutputModel):
    id: uuid.UUID
    workflow_id: uuid.UUID
    step: str | None
    path: str
    size_bytes: int
    sha256: str
    content_type: str
    created_by_agent_id: uuid.UUID | None
    created_at: datetime
