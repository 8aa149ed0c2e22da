"""The API's writes: create, change and delete projects, agents, runs and a person's messages.

Keyword-only data functions, as in the FastAPI template's `crud`: a route checks the request, calls one of these
and maps errors; each function commits its transaction. Changes that come with an event (a run's or an agent's
status, a message) are written through db/records.py, which the activities use too. Fields are given by column
name, as the API names them (the seed's `metadata` column is the models' `meta` attribute).
"""

import uuid
from typing import Any, TypeVar

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from db.enums import ACTIVE_WORKFLOW_STATUSES, AgentStatus, WorkflowStatus
from db.events import lock_event_log
from db.models import Agent, Artifact, Project, Workflow
from db.records import human_message, record_message, set_agent_status, set_workflow_status

RESUME_LOCK_CLASS = 0x636F6E63  # first key of the per-run advisory lock that serializes resumes ("conc")
# Column names that differ from the model's attribute (SQLAlchemy's declarative base reserves `metadata`).
_ATTRIBUTE = {"metadata": "meta"}
RowT = TypeVar("RowT")


def _set_fields(row: object, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(row, _ATTRIBUTE.get(name, name), value)


def _create(session: Session, row: RowT, fields: dict[str, Any]) -> RowT:
    _set_fields(row, fields)
    session.add(row)
    session.commit()
    return row


def _update(session: Session, row: RowT, changes: dict[str, Any]) -> RowT:
    _set_fields(row, changes)
    session.commit()
    return row


def _delete(session: Session, row: object) -> None:
    session.delete(row)  # the database cascades to what belongs to the row (see the models' foreign keys)
    session.commit()


# --- projects ---------------------------------------------------------------------------------------------------


def create_project(*, session: Session, fields: dict[str, Any]) -> Project:
    return _create(session, Project(), fields)


def update_project(*, session: Session, project: Project, changes: dict[str, Any]) -> Project:
    return _update(session, project, changes)


def active_workflow_ids(*, session: Session, project_id: uuid.UUID) -> list[uuid.UUID]:
    """The project's runs that may still do something (pending, running or paused)."""
    stmt = select(Workflow.workflow_id).where(
        Workflow.project_id == project_id, Workflow.status.in_(ACTIVE_WORKFLOW_STATUSES)
    )
    return list(session.scalars(stmt))


def delete_project(*, session: Session, project: Project) -> None:
    """Deletes the project with its runs (and their messages, decisions, events); its agents stay, unassigned."""
    _delete(session, project)


# --- agents -----------------------------------------------------------------------------------------------------


def create_agent(*, session: Session, fields: dict[str, Any]) -> Agent:
    return _create(session, Agent(), fields)


def update_agent(*, session: Session, agent: Agent, changes: dict[str, Any]) -> Agent:
    """Changes the fields given; a change of status is recorded with its event (`agent_status_changed`)."""
    changes = dict(changes)
    status = changes.pop("status", None)
    if status is not None:  # first: it takes the event lock, then the row (the lock order of db/events.py)
        set_agent_status(session, agent.agent_id, AgentStatus(status), agent.current_task)
    _update(session, agent, changes)
    session.refresh(agent)  # set_agent_status wrote the row with a statement, not through the object
    return agent


def assign_agent(*, session: Session, agent: Agent, project_id: uuid.UUID | None) -> Agent:
    return _update(session, agent, {"project_id": project_id})


def delete_agent(*, session: Session, agent: Agent) -> None:
    """Deletes the agent; messages it wrote stay, with its name and role, and no longer point to it."""
    _delete(session, agent)


# --- runs -------------------------------------------------------------------------------------------------------


def create_workflow(
    *, session: Session, fields: dict[str, Any], assigned_agents: list[str] | None, options: dict[str, Any]
) -> Workflow:
    """Stores a new run, `pending` until its first activity marks it `running`."""
    row = Workflow(status=WorkflowStatus.PENDING.value, assigned_agents=assigned_agents, options=options)
    return _create(session, row, fields)


def set_temporal_run_id(*, session: Session, workflow: Workflow, temporal_run_id: str) -> Workflow:
    """Records the Temporal run that executes the run now."""
    return _update(session, workflow, {"temporal_run_id": temporal_run_id})


def update_workflow(*, session: Session, workflow: Workflow, changes: dict[str, Any]) -> Workflow:
    return _update(session, workflow, changes)


def delete_workflow(*, session: Session, workflow: Workflow) -> list[str]:
    """Deletes the run with its messages, decisions, events and artifacts; returns the storage keys of its
    artifacts' files, for the caller to remove."""
    keys = list(session.scalars(select(Artifact.object_key).where(Artifact.workflow_id == workflow.workflow_id)))
    _delete(session, workflow)
    return keys


def lock_workflow(*, session: Session, workflow: Workflow) -> None:
    """Locks the run's row for the rest of the transaction and reads it again (the run may have changed it
    meanwhile); the event log's lock first, then the row: the lock order of db/events.py."""
    lock_event_log(session)
    session.refresh(workflow, with_for_update=True)


def mark_cancelled(*, session: Session, workflow: Workflow, reason: str) -> None:
    """Records `cancelled` for a run that ended in Temporal without recording it (e.g. terminated with the CLI)."""
    set_workflow_status(session, workflow, WorkflowStatus.CANCELLED.value, reason)
    session.commit()


def lock_resumes(*, session: Session, workflow_id: uuid.UUID) -> None:
    """Serializes the resumes of one run for the rest of the transaction (a second one waits here).

    Not a row lock: the resumed run's first activity locks the row as soon as Temporal has reset it, while the
    resuming request still writes."""
    run_key = func.hashtext(str(workflow_id))
    session.execute(select(func.pg_advisory_xact_lock(cast(RESUME_LOCK_CLASS, Integer), run_key)))


def mark_resumed(*, session: Session, workflow: Workflow, temporal_run_id: str) -> None:
    """Records the run's new Temporal run, counts the resume and sets the run `running`."""
    lock_workflow(session=session, workflow=workflow)
    workflow.temporal_run_id = temporal_run_id
    workflow.metrics = {**(workflow.metrics or {}), "resumes": (workflow.metrics or {}).get("resumes", 0) + 1}
    set_workflow_status(session, workflow, WorkflowStatus.RUNNING.value)
    session.commit()


# --- messages ---------------------------------------------------------------------------------------------------


def create_human_message(
    *,
    session: Session,
    message_id: uuid.UUID,
    workflow_id: uuid.UUID,
    author: str,
    content: str,
    parent_message_id: uuid.UUID | None,
) -> None:
    """Stores a person's message to a run (type `human`) with its event; nothing if it is stored already (the run
    records it under the same id too)."""
    record_message(session, human_message(message_id, workflow_id, author, content, parent_message_id))
    session.commit()
