"""SQLAlchemy models: the seed schema (names kept) plus events, artifacts, integration links and message usage.

Enumerated values are stored as strings and validated by the API's pydantic schemas (DESIGN.md, Data).
`updated_at` is kept current by a database trigger (see the initial migration), so every writer gets it.
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names, so migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        uuid.UUID: UUID(as_uuid=True),
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB,
        list[Any]: JSONB,
        list[str]: ARRAY(Text),
    }


def _uuid_pk(name: str | None = None) -> Any:
    return mapped_column(name, primary_key=True, server_default=text("gen_random_uuid()"), default=uuid.uuid4)


def _created_at() -> Any:
    return mapped_column(server_default=func.now())


def _updated_at() -> Any:
    # Set by the set_updated_at trigger on every UPDATE; FetchedValue makes the ORM re-read it.
    return mapped_column(server_default=func.now(), server_onupdate=FetchedValue())


class Project(Base):
    __tablename__ = "projects"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(50))
    repository_url: Mapped[str | None] = mapped_column(Text)
    repository_branch: Mapped[str | None] = mapped_column(String(255))
    jira_project_key: Mapped[str | None] = mapped_column(String(50))
    jira_enabled: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"))
    confluence_space_key: Mapped[str | None] = mapped_column(String(50))
    confluence_enabled: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"))
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime | None] = _created_at()
    updated_at: Mapped[datetime | None] = _updated_at()
    # `metadata` is taken by SQLAlchemy's declarative base; the column keeps the seed's name.
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)


class Workflow(Base):
    __tablename__ = "workflows"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        Index("idx_workflows_project", "project_id"),
        Index("idx_workflows_status", "status"),
    )

    workflow_id: Mapped[uuid.UUID] = _uuid_pk()
    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    workflow_type: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(50))
    priority: Mapped[str] = mapped_column(String(50))
    requirement: Mapped[str] = mapped_column(Text)
    assigned_agents: Mapped[list[str] | None]
    steps: Mapped[list[Any] | None]
    artifacts: Mapped[list[Any] | None]
    metrics: Mapped[dict[str, Any] | None]
    errors: Mapped[list[Any] | None]
    tags: Mapped[list[str] | None]
    created_by: Mapped[str] = mapped_column(String(255))
    # How the run was asked to go (review rounds, decisions that wait for a person); see workflows/templates.py.
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    # The Temporal run executing it now (a resume starts a new run of the same workflow id).
    temporal_run_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime | None] = _created_at()
    updated_at: Mapped[datetime | None] = _updated_at()


class Agent(Base):
    __tablename__ = "agents"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        Index("idx_agents_role", "role"),
        Index("idx_agents_project", "project_id"),
    )

    agent_id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(50))
    description: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(100))
    temperature: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    max_tokens: Mapped[int | None] = mapped_column(Integer)
    system_prompt: Mapped[str | None] = mapped_column(Text)
    capabilities: Mapped[list[str] | None]
    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    current_task: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = _created_at()
    updated_at: Mapped[datetime | None] = _updated_at()
    last_active: Mapped[datetime | None]
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)


class AgentMessage(Base):
    __tablename__ = "agent_messages"
    __table_args__ = (
        Index("idx_messages_workflow", "workflow_id"),
        Index("idx_messages_parent", "parent_message_id"),
    )

    message_id: Mapped[uuid.UUID] = _uuid_pk()
    workflow_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflows.workflow_id", ondelete="CASCADE"))
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.agent_id", ondelete="SET NULL"))
    agent_name: Mapped[str] = mapped_column(String(255))
    agent_role: Mapped[str] = mapped_column(String(50))
    message_type: Mapped[str] = mapped_column(String(50))
    content: Mapped[str] = mapped_column(Text)
    addressed_to: Mapped[list[str] | None]
    addressed_to_names: Mapped[list[str] | None]
    parent_message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent_messages.message_id"))
    requires_response: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"))
    urgency: Mapped[str | None] = mapped_column(String(50), server_default=text("'medium'"))
    attachments: Mapped[list[Any] | None]
    is_edited: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"))
    edited_at: Mapped[datetime | None]
    created_at: Mapped[datetime | None] = _created_at()
    # Usage of the model call that produced the message (absent for a person's message).
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)


class Decision(Base):
    __tablename__ = "decisions"

    decision_id: Mapped[uuid.UUID] = _uuid_pk()
    workflow_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflows.workflow_id", ondelete="CASCADE"))
    problem: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    variants: Mapped[list[Any]] = mapped_column(JSONB)
    chosen_variant_id: Mapped[str | None] = mapped_column(String(100))
    votes: Mapped[list[Any] | None]
    justification: Mapped[str | None] = mapped_column(Text)
    responsible_agents: Mapped[list[str] | None]
    discussion_thread_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent_messages.message_id"))
    # True when the lead gave fewer than two distinct options: recorded with one variant, without a vote.
    uncontested: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime | None] = _created_at()


class User(Base):
    __tablename__ = "users"

    user_id: Mapped[uuid.UUID] = _uuid_pk()
    username: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(50), server_default=text("'user'"))
    is_active: Mapped[bool | None] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime | None] = _created_at()
    last_login: Mapped[datetime | None]


class WorkflowEvent(Base):
    """The event log behind the SSE streams; ids are in commit order (DESIGN.md, Hard parts)."""

    __tablename__ = "workflow_events"
    __table_args__ = (Index("idx_events_workflow", "workflow_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    workflow_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflows.workflow_id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(50))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = _created_at()


class Artifact(Base):
    """A file an agent wrote; its bytes live in object storage under `object_key`."""

    __tablename__ = "artifacts"
    __table_args__ = (Index("idx_artifacts_workflow", "workflow_id"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    workflow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflows.workflow_id", ondelete="CASCADE"))
    step: Mapped[str | None] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(Text)
    object_key: Mapped[str] = mapped_column(Text, unique=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(255))
    created_by_agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.agent_id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _created_at()


class IntegrationLink(Base):
    """A Jira issue or Confluence page created for a run, recorded before reuse so a retry never duplicates it.

    `ref` names what the link is for within the run: '' for the run itself (epic, page), a step name for a story,
    a decision or message id for a comment.
    """

    __tablename__ = "integration_links"
    __table_args__ = (UniqueConstraint("workflow_id", "system", "kind", "ref", name="uq_integration_links_target"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    workflow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflows.workflow_id", ondelete="CASCADE"))
    system: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(50))
    ref: Mapped[str] = mapped_column(String(255), server_default=text("''"))
    step: Mapped[str | None] = mapped_column(String(100))
    decision_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("decisions.decision_id", ondelete="CASCADE"))
    external_key: Mapped[str] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
