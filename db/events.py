"""The event log behind the live streams: `workflow_events` rows, announced by NOTIFY.

Ids are in commit order (DESIGN.md, Hard parts): every transaction that appends an event first takes one
transaction-scoped advisory lock, so a reader that resumes "after id N" can never miss a row committed later with
a smaller id. NOTIFY carries only the id; listeners read the row from the table. Both the lock and the NOTIFY take
effect with the surrounding transaction, so an event exists exactly when the change it describes does.

Lock order: a transaction that appends events and also locks rows (SELECT ... FOR UPDATE, UPDATE) takes the event
lock first (`lock_event_log`), before any row lock. Every writer then waits in the same order, and two of them
can never deadlock (one holding the event lock and waiting for a row, the other the other way round).
"""

import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from db.models import WorkflowEvent

CHANNEL = "conclave_events"
# pg_advisory_xact_lock key held while appending events ("conclave" in ASCII, as a bigint).
EVENT_LOCK_KEY = 0x636F6E636C617665


class EventType(StrEnum):
    WORKFLOW_STATUS_CHANGED = "workflow_status_changed"
    WORKFLOW_PROGRESS_UPDATE = "workflow_progress_update"
    AGENT_STATUS_CHANGED = "agent_status_changed"
    NEW_MESSAGE = "new_message"
    NEW_DECISION = "new_decision"
    STEP_STARTED = "step_started"
    STEP_COMPLETED = "step_completed"
    ARTIFACT_CREATED = "artifact_created"
    INTEGRATION_SYNCED = "integration_synced"
    ERROR_OCCURRED = "error_occurred"


def lock_event_log(session: Session) -> None:
    """Take the event log's lock for the rest of the transaction (again is harmless); before any row lock."""
    session.execute(select(func.pg_advisory_xact_lock(EVENT_LOCK_KEY)))


def append_event(session: Session, workflow_id: uuid.UUID | None, event_type: EventType, data: dict[str, Any]) -> int:
    """Add an event to the log within the caller's transaction; returns its id."""
    lock_event_log(session)
    event_id: int = session.execute(
        insert(WorkflowEvent)
        .values(workflow_id=workflow_id, event_type=event_type.value, data=data)
        .returning(WorkflowEvent.id)
    ).scalar_one()
    session.execute(select(func.pg_notify(CHANNEL, str(event_id))))
    return event_id


def events_after(
    session: Session, after_id: int, workflow_id: uuid.UUID | None = None, limit: int = 500
) -> list[WorkflowEvent]:
    """Events with an id above `after_id` (of one run, or of all), oldest first."""
    stmt = select(WorkflowEvent).where(WorkflowEvent.id > after_id).order_by(WorkflowEvent.id).limit(limit)
    if workflow_id is not None:
        stmt = stmt.where(WorkflowEvent.workflow_id == workflow_id)
    return list(session.scalars(stmt))


def last_event(session: Session, workflow_id: uuid.UUID, event_type: EventType) -> WorkflowEvent | None:
    """A run's latest event of that type."""
    stmt = (
        select(WorkflowEvent)
        .where(WorkflowEvent.workflow_id == workflow_id, WorkflowEvent.event_type == event_type.value)
        .order_by(WorkflowEvent.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()
