"""Writing what runs and agents do: messages, decisions, artifacts, agent and run status, each with its event.

Every writer is idempotent: ids are derived from what the row records (`derive_id`), inserts do nothing on
conflict, and an event is appended only when its row was actually inserted or changed. Run the same turn twice
and the second run writes nothing.
"""

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Session

from db.enums import FINISHED_WORKFLOW_STATUSES, HUMAN_ROLE, AgentStatus, MessageType
from db.events import EventType, append_event, lock_event_log
from db.models import Agent, AgentMessage, Artifact, Decision, Workflow

NAMESPACE = uuid.UUID("6f1c2d8e-4b7a-5c3e-9d1f-0a2b3c4d5e6f")
EVENT_TEXT_CHARS = 4000


def derive_id(*parts: object) -> uuid.UUID:
    """A stable id for the thing these parts name (uuid5), so a retried activity finds what it wrote before."""
    return uuid.uuid5(NAMESPACE, "|".join(str(p) for p in parts))


def _insert_once(session: Session, model: type[Any], values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was new."""
    key = model.__mapper__.primary_key[0]
    statement = insert(model).values(**values).on_conflict_do_nothing().returning(key)
    return session.execute(statement).scalar_one_or_none() is not None


@dataclass
class MessageRecord:
    message_id: uuid.UUID
    workflow_id: uuid.UUID
    agent_id: uuid.UUID | None
    agent_name: str
    agent_role: str
    message_type: str
    content: str
    parent_message_id: uuid.UUID | None = None
    addressed_to: list[str] = field(default_factory=list)
    addressed_to_names: list[str] = field(default_factory=list)
    requires_response: bool = False
    urgency: str = "medium"
    attachments: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: int | None = None


def record_message(session: Session, m: MessageRecord) -> bool:
    """Insert the message and its `new_message` event; False (and nothing written) if it exists already."""
    # clock_timestamp, not now(): messages written in one transaction keep their order.
    if not _insert_once(session, AgentMessage, {**asdict(m), "created_at": func.clock_timestamp()}):
        return False
    append_event(
        session,
        m.workflow_id,
        EventType.NEW_MESSAGE,
        {
            "message_id": str(m.message_id),
            "agent_id": str(m.agent_id) if m.agent_id else None,
            "agent_name": m.agent_name,
            "agent_role": m.agent_role,
            "message_type": m.message_type,
            "parent_message_id": str(m.parent_message_id) if m.parent_message_id else None,
            "addressed_to_names": m.addressed_to_names,
            "requires_response": m.requires_response,
            "urgency": m.urgency,
            "content": m.content[:EVENT_TEXT_CHARS],
            "truncated": len(m.content) > EVENT_TEXT_CHARS,
        },
    )
    return True


def human_message(
    message_id: uuid.UUID, workflow_id: uuid.UUID, author: str, content: str, parent_message_id: uuid.UUID | None = None
) -> MessageRecord:
    """A person's message to a run (type `human`); store it with `record_message`."""
    return MessageRecord(
        message_id=message_id,
        workflow_id=workflow_id,
        agent_id=None,
        agent_name=author,
        agent_role=HUMAN_ROLE,
        message_type=MessageType.HUMAN.value,
        content=content,
        parent_message_id=parent_message_id,
    )


@dataclass
class DecisionRecord:
    decision_id: uuid.UUID
    workflow_id: uuid.UUID
    problem: str
    description: str
    variants: list[dict[str, Any]]
    votes: list[dict[str, Any]]
    chosen_variant_id: str
    justification: str
    responsible_agents: list[str]
    discussion_thread_id: uuid.UUID | None
    uncontested: bool = False


def record_decision(session: Session, d: DecisionRecord) -> bool:
    if not _insert_once(session, Decision, asdict(d)):
        return False
    chosen = next((v for v in d.variants if v.get("id") == d.chosen_variant_id), {})
    append_event(
        session,
        d.workflow_id,
        EventType.NEW_DECISION,
        {
            "decision_id": str(d.decision_id),
            "problem": d.problem,
            "chosen_variant_id": d.chosen_variant_id,
            "chosen_variant": chosen.get("title"),
            "votes": len(d.votes),
            "uncontested": d.uncontested,
            "discussion_thread_id": str(d.discussion_thread_id) if d.discussion_thread_id else None,
        },
    )
    return True


@dataclass
class ArtifactRecord:
    artifact_id: uuid.UUID
    workflow_id: uuid.UUID
    step: str
    path: str
    object_key: str
    size_bytes: int
    sha256: str
    content_type: str
    created_by_agent_id: uuid.UUID | None


def record_artifact(session: Session, a: ArtifactRecord) -> bool:
    """Insert the artifact row, list it on its workflow, and emit `artifact_created`; False if it exists."""
    values = asdict(a)
    values["id"] = values.pop("artifact_id")
    lock_event_log(session)  # before the run's row is locked by the update below
    if not _insert_once(session, Artifact, values):
        return False
    summary = {"artifact_id": str(a.artifact_id), "path": a.path, "step": a.step, "size_bytes": a.size_bytes}
    session.execute(
        update(Workflow)
        .where(Workflow.workflow_id == a.workflow_id)
        .values(artifacts=func.coalesce(Workflow.artifacts, literal([], JSONB)).op("||")(literal([summary], JSONB)))
    )
    append_event(
        session,
        a.workflow_id,
        EventType.ARTIFACT_CREATED,
        {
            **summary,
            "sha256": a.sha256,
            "content_type": a.content_type,
            "agent_id": str(a.created_by_agent_id) if a.created_by_agent_id else None,
        },
    )
    return True


def set_agent_status(
    session: Session,
    agent_id: uuid.UUID,
    status: AgentStatus,
    current_task: str | None,
    workflow_id: uuid.UUID | None = None,
) -> bool:
    """Set an agent's status and task (and `last_active`); emits `agent_status_changed` when either changed."""
    lock_event_log(session)  # before the agent's row
    row = session.execute(
        select(Agent.status, Agent.current_task, Agent.name, Agent.role)
        .where(Agent.agent_id == agent_id)
        .with_for_update()
    ).one_or_none()
    if row is None:
        return False
    session.execute(
        update(Agent)
        .where(Agent.agent_id == agent_id)
        .values(status=status.value, current_task=current_task, last_active=func.now())
    )
    if (row.status, row.current_task) == (status.value, current_task):
        return False
    append_event(
        session,
        workflow_id,
        EventType.AGENT_STATUS_CHANGED,
        {
            "agent_id": str(agent_id),
            "agent_name": row.name,
            "agent_role": row.role,
            "status": status.value,
            "previous_status": row.status,
            "current_task": current_task,
        },
    )
    return True


def set_workflow_status(
    session: Session, workflow: Workflow, status: str, error: str | None = None, at: datetime | None = None
) -> bool:
    """Set a run's status (with `completed_at` for a finished run); emits `workflow_status_changed` when it changed,
    and records the error (`errors` list, `error_occurred`) once per attempt, however often it is reported."""
    previous = workflow.status
    workflow.status = status
    if status in FINISHED_WORKFLOW_STATUSES:
        workflow.completed_at = workflow.completed_at if previous == status else (at or datetime.now(UTC))
    else:
        workflow.completed_at = None
    repeated = previous == status and workflow.errors and workflow.errors[-1].get("error") == error
    if error and not repeated:
        entry = {"error": error, "status": status, "at": datetime.now(UTC).isoformat()}
        workflow.errors = [*(workflow.errors or []), entry]
        append_event(session, workflow.workflow_id, EventType.ERROR_OCCURRED, entry)
    if previous == status:
        return False
    append_event(
        session,
        workflow.workflow_id,
        EventType.WORKFLOW_STATUS_CHANGED,
        {"status": status, "previous_status": previous, "error": error},
    )
    return True
