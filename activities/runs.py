"""A run's bookkeeping in PostgreSQL: its team, status, steps and progress, a person's messages and approvals.

These are the bodies of the small database activities the workflows call between agent turns. Each locks the run's
row, writes the new state and appends an event only when something changed, so a retried activity (its worker died
after committing) writes nothing twice.
"""

import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from activities.turn_io import TurnConfigurationError, optional_uuid
from db.enums import FINISHED_WORKFLOW_STATUSES, HUMAN_ROLE, MessageType, WorkflowStatus, WorkflowType
from db.events import EventType, append_event, lock_event_log
from db.models import AgentMessage, Decision, Project, Workflow
from db.records import MessageRecord, derive_id, human_message, record_message, set_workflow_status
from db.session import transaction
from db.team import missing_roles, team_agents
from integrations import project_targets
from workflows.templates import TEMPLATES
from workflows.types import (
    ApprovalOutcome,
    ApprovalRequest,
    HumanMessageRequest,
    ProgressUpdate,
    RunProgress,
    StartRequest,
    StatusUpdate,
    StepStatus,
    Team,
    TeamMember,
)


def locked_workflow(session: Session, workflow_id: str) -> Workflow:
    lock_event_log(session)  # first: the lock order of db/events.py
    workflow = session.scalars(
        select(Workflow).where(Workflow.workflow_id == uuid.UUID(workflow_id)).with_for_update()
    ).one_or_none()
    if workflow is None:
        raise TurnConfigurationError(f"workflow {workflow_id} does not exist (deleted while it ran?)")
    return workflow


def _progress_event(progress: RunProgress) -> dict[str, Any]:
    return {
        "progress_percentage": progress.progress_percentage,
        "current_step": progress.current_step,
        "completed_steps": progress.completed_steps,
        "total_steps": progress.total_steps,
        "prompt_tokens": progress.prompt_tokens,
        "completion_tokens": progress.completion_tokens,
        "awaiting_approval": progress.awaiting_approval,
    }


def _code_metrics(progress: RunProgress) -> dict[str, Any]:
    """Where the code loop stands (the last step that ran tests): what the run may claim about its code."""
    tally = next((s.tests for s in reversed(progress.steps) if s.tests is not None), None)
    if tally is None:
        return {}
    return {
        "code_status": tally.status,
        "code_rounds": tally.round,
        "code_tests_passed": tally.passed,
        "code_tests_total": tally.total,
        "code_tests_ruled_out": tally.ruled_out,
        "code_candidates": tally.candidates,
    }


def _write_progress(workflow: Workflow, progress: RunProgress) -> None:
    workflow.steps = [asdict(step) for step in progress.steps]
    workflow.temporal_run_id = progress.run_id or workflow.temporal_run_id
    durations = {s.name: s.duration_ms for s in progress.steps if s.duration_ms is not None}
    workflow.metrics = {
        **(workflow.metrics or {}),
        **_progress_event(progress),
        **_code_metrics(progress),
        "step_durations_ms": durations,
    }


def start_run(engine: Engine, request: StartRequest) -> Team:
    """Pick the team (the run's named agents, else the project's; the first of each role leads), mark the run
    running and lay out its steps. Fails for good when a role the workflow type needs is missing."""
    template = TEMPLATES[WorkflowType(request.workflow_type)]
    with transaction(engine) as session:
        workflow = locked_workflow(session, request.workflow_id)
        agents = team_agents(session, workflow.project_id, workflow.assigned_agents)
        if missing := missing_roles(agents, template.required_roles):
            raise TurnConfigurationError(
                f"{template.title} needs an agent for each of these roles, and the team has none: "
                f"{', '.join(missing)}. Add them to the project and resume the run."
            )
        project = session.get(Project, workflow.project_id) if workflow.project_id else None
        team = Team(
            [TeamMember(str(a.agent_id), a.name, a.role, a.max_tokens or 1024) for a in agents],
            integrations=list(project_targets(project)) if project else [],
        )
        workflow.assigned_agents = [m.agent_id for m in team.members]
        workflow.started_at = workflow.started_at or datetime.now(UTC)
        _write_progress(workflow, request.progress)
        set_workflow_status(session, workflow, WorkflowStatus.RUNNING.value)
    return team


def record_progress(engine: Engine, update: ProgressUpdate) -> None:
    """Store the steps and progress; `step_started` / `step_completed` and `workflow_progress_update` when the
    named step's status changed."""
    step = next(s for s in update.progress.steps if s.name == update.step)
    with transaction(engine) as session:
        workflow = locked_workflow(session, update.workflow_id)
        before = {s.get("name"): s.get("status") for s in workflow.steps or []}
        new_run = update.progress.run_id and update.progress.run_id != workflow.temporal_run_id
        finished = workflow.status in FINISHED_WORKFLOW_STATUSES
        if update.progress.status == WorkflowStatus.RUNNING and finished and new_run:
            # going again after a reset that did not come through the API (`temporal workflow reset`)
            set_workflow_status(session, workflow, WorkflowStatus.RUNNING.value)
        _write_progress(workflow, update.progress)
        if before.get(step.name) == step.status:
            return
        workflow_id = workflow.workflow_id
        if step.status == StepStatus.RUNNING:
            append_event(
                session,
                workflow_id,
                EventType.STEP_STARTED,
                {"step": step.name, "title": step.title, "kind": step.kind, "agent": step.agent},
            )
        elif step.status in (StepStatus.COMPLETED, StepStatus.SKIPPED):
            append_event(
                session,
                workflow_id,
                EventType.STEP_COMPLETED,
                {
                    "step": step.name,
                    "title": step.title,
                    "status": step.status,
                    "summary": step.summary,
                    "duration_ms": step.duration_ms,
                    "artifacts": step.artifacts,
                    "decision_id": step.decision_id,
                },
            )
        append_event(session, workflow_id, EventType.WORKFLOW_PROGRESS_UPDATE, _progress_event(update.progress))


def record_status(engine: Engine, update: StatusUpdate) -> None:
    with transaction(engine) as session:
        workflow = locked_workflow(session, update.workflow_id)
        if update.progress is not None:
            _write_progress(workflow, update.progress)
        at = datetime.fromisoformat(update.at) if update.at else None
        set_workflow_status(session, workflow, update.status, update.error, at)


def record_human_message(engine: Engine, request: HumanMessageRequest) -> str:
    """Store a person's message sent to the run (once, however often the signal is delivered). A signal sent by hand
    (`temporal workflow signal`) is not checked like the API's request: an id that is not a UUID is turned into
    one, and a parent that is not a message of this run is dropped, rather than failing the run's bookkeeping."""
    message = request.message
    workflow_id = uuid.UUID(request.workflow_id)
    given_id = optional_uuid(message.message_id, invalid_is_none=True)
    message_id = given_id or derive_id(workflow_id, "human", message.message_id or uuid.uuid4())
    with transaction(engine) as session:
        parent = optional_uuid(message.parent_message_id, invalid_is_none=True)
        if parent is not None:
            row = session.get(AgentMessage, parent)
            parent = parent if row is not None and row.workflow_id == workflow_id else None
        record_message(session, human_message(message_id, workflow_id, message.author, message.content, parent))
    return str(message_id)


def apply_approval(engine: Engine, request: ApprovalRequest) -> ApprovalOutcome:
    """A person's answer to a waiting decision (or the timeout's default), recorded in the decision's thread; an
    override changes the chosen variant. An override naming no known variant keeps the team's choice."""
    workflow_id = uuid.UUID(request.workflow_id)
    approval = request.approval
    with transaction(engine) as session:
        lock_event_log(session)
        decision = session.scalars(
            select(Decision).where(Decision.decision_id == uuid.UUID(request.decision_id)).with_for_update()
        ).one_or_none()
        if decision is None:
            raise TurnConfigurationError(f"decision {request.decision_id} does not exist")
        ids = [v.get("id") for v in decision.variants]
        chosen = decision.chosen_variant_id or ""
        overridden = False
        if approval is None:
            note, author = f"No answer in time: the team's choice {chosen} stands.", "Conclave"
        elif approval.action == "override" and approval.variant_id in ids and approval.variant_id != chosen:
            chosen, overridden = str(approval.variant_id), True
            note, author = f"Overridden by {approval.author}: {chosen} instead.", approval.author
        elif approval.action == "override" and approval.variant_id not in ids:
            note = f"{approval.author} asked for variant {approval.variant_id!r}, which does not exist; {chosen} stands"
            author = approval.author
        else:
            note, author = f"Approved by {approval.author}: {chosen}.", approval.author
        if approval is not None and approval.comment.strip():
            note += f"\n\n{approval.comment.strip()}"
        inserted = record_message(
            session,
            MessageRecord(
                message_id=derive_id(workflow_id, request.step, request.decision_id, "approval"),
                workflow_id=workflow_id,
                agent_id=None,
                agent_name=author,
                agent_role=HUMAN_ROLE,
                message_type=MessageType.HUMAN.value if approval is not None else MessageType.STATUS_UPDATE.value,
                content=note,
                parent_message_id=decision.discussion_thread_id,
            ),
        )
        if inserted and overridden:
            decision.chosen_variant_id = chosen
            decision.justification = f"{decision.justification or ''}\n\n{note}".strip()
        if inserted:
            title = next((v.get("title") for v in decision.variants if v.get("id") == chosen), None)
            append_event(
                session,
                workflow_id,
                EventType.NEW_DECISION,
                {
                    "decision_id": request.decision_id,
                    "problem": decision.problem,
                    "chosen_variant_id": chosen,
                    "chosen_variant": title,
                    "approval": "overridden" if overridden else ("approved" if approval is not None else "timed_out"),
                },
            )
        return ApprovalOutcome(chosen_variant_id=decision.chosen_variant_id or chosen, overridden=overridden, note=note)
