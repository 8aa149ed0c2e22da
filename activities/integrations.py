"""A run's mirrors: its Jira issues and its Confluence page, brought up to the run's state in PostgreSQL.

Each sync reconciles: it reads the run as it is now and creates or changes in Jira or Confluence only what is not
there yet (integrations/__init__.py says how nothing is created twice). So the workflow may call it as often as it
likes: at the start, after every step, at the end, and again after a resume.

- Jira (`sync_jira`): an epic for the run; a story per step, linked to the epic, moved to in progress when the step
  starts and to done when it finishes; each decision as a comment on its step's story (variants, votes, reasons,
  justification); each message a person sent as a comment on the epic; the epic done when the run completes.
- Confluence (`sync_confluence`): the page "Workflow: <name>" with the overview, requirement, steps and outcomes,
  decisions with votes and justification, artifacts (links to Conclave), the agents' messages and the Jira epic.

A sync that changed something, or the last one of a run, appends `integration_synced`. A failure (after the
workflow's retries) is recorded by `record_sync_failure`: `error_occurred` and `integration_synced` with status
`failed`, and an entry in the run's `errors`; the run goes on.
"""

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from activities.decisions import decision_id_of
from activities.runs import locked_workflow
from activities.turn_io import TurnConfigurationError
from activities.types import SyncFailure, SyncRequest, SyncResult
from config import Settings
from db.enums import HUMAN_ROLE, MessageType, WorkflowStatus
from db.events import EventType, append_event
from db.models import Agent, AgentMessage, Artifact, Decision, Project, Workflow
from db.session import transaction
from integrations import CONFLUENCE, JIRA, TITLES, IntegrationError, project_targets
from integrations import confluence as confluence_api
from integrations import jira as jira_api
from integrations.jira import DONE, EPIC, IN_PROGRESS, STORY, JiraMirror, plain
from integrations.links import Links
from integrations.page import (
    MAX_MESSAGES,
    ArtifactReport,
    DecisionReport,
    MessageReport,
    RunReport,
    StepReport,
    VoteReport,
    render,
)
from workflows.types import StepStatus

SYNC_LOCK_CLASS = 0x73796E63  # first key of the per-run sync locks ("sync")
T = TypeVar("T")
STEP_CATEGORY = {
    StepStatus.RUNNING: IN_PROGRESS,
    StepStatus.WAITING_FOR_APPROVAL: IN_PROGRESS,
    StepStatus.COMPLETED: DONE,
    StepStatus.SKIPPED: DONE,
}


def run_url(settings: Settings, workflow_id: uuid.UUID | str) -> str:
    """The run's page in Conclave (the links from Jira and Confluence back to it)."""
    return f"{settings.public_url.rstrip('/')}/workflows/{workflow_id}"


def artifact_url(settings: Settings, workflow_id: uuid.UUID, artifact_id: uuid.UUID) -> str:
    return f"{settings.public_url.rstrip('/')}/api/workflows/{workflow_id}/artifacts/{artifact_id}"


@contextmanager
def one_sync_at_a_time(engine: Engine, workflow_id: str, system: str) -> Iterator[None]:
    """Hold the run's sync lock for this system. An attempt Temporal has given up on (its time ran out) may still be
    running in its thread; the next attempt fails, to be retried, rather than race it into creating things twice.
    The lock lives on a connection of its own (autocommit: no transaction stays open) and goes with it."""
    key = func.hashtext(f"{workflow_id}|{system}")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if not connection.execute(select(func.pg_try_advisory_lock(SYNC_LOCK_CLASS, key))).scalar():
            raise IntegrationError(f"another {TITLES[system]} sync of this run is still under way")
        try:
            yield
        finally:
            connection.execute(select(func.pg_advisory_unlock(SYNC_LOCK_CLASS, key)))


@dataclass(frozen=True)
class _MirroredRun:
    workflow: Workflow
    project: Project
    key: str  # the project's Jira project or Confluence space key


def _mirrored_run(session: Session, workflow_id: str, system: str) -> _MirroredRun | None:
    """The run, its project and the project's key in the system; None when the project has turned the system off
    since the run started."""
    workflow = session.get(Workflow, uuid.UUID(workflow_id))
    if workflow is None:
        raise TurnConfigurationError(f"workflow {workflow_id} does not exist (deleted while it ran?)")
    project = session.get(Project, workflow.project_id) if workflow.project_id else None
    key = project_targets(project).get(system) if project else None
    return _MirroredRun(workflow, project, key) if project and key else None


def _sync(
    engine: Engine,
    request: SyncRequest,
    system: str,
    read: Callable[[Session, _MirroredRun], T],
    mirror: Callable[[_MirroredRun, T], SyncResult],
) -> SyncResult:
    """One sync of the run into `system`, the run's sync lock held: `read` what the mirror shows, in one
    transaction, then `mirror` it with no transaction open ("off" when the project has turned the system off)."""
    with one_sync_at_a_time(engine, request.workflow_id, system):
        with transaction(engine) as session:
            if (run := _mirrored_run(session, request.workflow_id, system)) is None:
                return SyncResult(system, "off")
            shown = read(session, run)
        return mirror(run, shown)


def _synced(engine: Engine, workflow_id: uuid.UUID, result: SyncResult, final: bool) -> SyncResult:
    if result.created or result.changed or final:
        with transaction(engine) as session:
            append_event(
                session,
                workflow_id,
                EventType.INTEGRATION_SYNCED,
                {
                    "system": result.system,
                    "status": "ok",
                    "created": result.created,
                    "changed": result.changed,
                    "url": result.url,
                },
            )
    return result


# --- Jira ---------------------------------------------------------------------------------------------------


def sync_jira(engine: Engine, settings: Settings, request: SyncRequest) -> SyncResult:
    return _sync(
        engine,
        request,
        JIRA,
        _jira_records,
        lambda run, records: _mirror_into_jira(engine, settings, request, run, *records),
    )


def _jira_records(session: Session, run: _MirroredRun) -> tuple[Sequence[Decision], Sequence[AgentMessage]]:
    """The run's decisions and the messages a person sent to its team (detached: read after the transaction)."""
    decisions = _decisions_of(session, run.workflow.workflow_id)
    messages = session.scalars(
        select(AgentMessage)
        .where(AgentMessage.workflow_id == run.workflow.workflow_id)
        .where(AgentMessage.message_type == MessageType.HUMAN, AgentMessage.agent_role == HUMAN_ROLE)
        .order_by(AgentMessage.created_at, AgentMessage.message_id)
    ).all()
    session.expunge_all()
    return decisions, messages


def _mirror_into_jira(
    engine: Engine,
    settings: Settings,
    request: SyncRequest,
    run: _MirroredRun,
    decisions: Sequence[Decision],
    messages: Sequence[AgentMessage],
) -> SyncResult:
    workflow = run.workflow
    mirror = JiraMirror(jira_api.connect(settings), run.key, Links(engine, workflow.workflow_id, JIRA))
    epic = mirror.ensure_issue("", EPIC, workflow.name, _epic_description(settings, workflow))
    decision_steps: dict[str, str] = {}
    for step in workflow.steps or []:
        story = mirror.ensure_issue(
            step["name"],
            STORY,
            f"{workflow.name}: {step['title']}",
            plain(f"Step {step['title']!r} of the Conclave run {workflow.name}.")
            + f"\n\n{run_url(settings, workflow.workflow_id)}",
            epic=epic.key,
            step=step["name"],
        )
        # Known from the moment it is recorded, before the step's end writes it into the step's state.
        decision_steps[str(decision_id_of(workflow.workflow_id, step["name"], step["name"]))] = story.key
        if category := STEP_CATEGORY.get(step.get("status")):
            mirror.move("story", step["name"], story.key, category)
    for decision in decisions:
        target = decision_steps.get(str(decision.decision_id), epic.key)
        mirror.ensure_comment(
            target, str(decision.decision_id), _decision_comment(decision), decision_id=decision.decision_id
        )
    for message in messages:
        body = plain(f"{message.agent_name} wrote to the team:\n\n{message.content}")
        mirror.ensure_comment(epic.key, str(message.message_id), body)
    status = request.final_status or workflow.status
    if status == WorkflowStatus.COMPLETED:
        mirror.move("epic", "", epic.key, DONE)
    elif status in (WorkflowStatus.RUNNING, WorkflowStatus.PAUSED):
        mirror.move("epic", "", epic.key, IN_PROGRESS)
    result = SyncResult(JIRA, "synced", mirror.created, mirror.commented + mirror.moved, epic.url)
    return _synced(engine, workflow.workflow_id, result, request.final_status is not None)


def _epic_description(settings: Settings, workflow: Workflow) -> str:
    parts = [f"Conclave run ({workflow.workflow_type.replace('_', ' ')}, {workflow.priority} priority)."]
    if workflow.description:
        parts.append(plain(workflow.description))
    parts += ["Requirement:", plain(workflow.requirement), run_url(settings, workflow.workflow_id)]
    return "\n\n".join(parts)


def _decision_comment(decision: Decision) -> str:
    report = _decision_report(decision)
    lines = [f"Decision: {report.problem}", f"Chosen: {report.chosen}", ""]
    lines += [
        f"{id_}: {title}" + (f" - {description}" if description else "") for id_, title, description in report.variants
    ]
    lines += ["", "Votes:", *(f"{v.agent}: {v.variant_id} - {v.reason}" for v in report.votes)]
    lines += ["", "Justification:", report.justification or "-"]
    return plain("\n".join(lines))


# --- Confluence ---------------------------------------------------------------------------------------------


def sync_confluence(engine: Engine, settings: Settings, request: SyncRequest) -> SyncResult:
    return _sync(
        engine,
        request,
        CONFLUENCE,
        lambda session, run: _report(session, settings, run.workflow, run.project, request),
        lambda run, report: _publish(engine, settings, request, run.workflow, run.key, report),
    )


def _publish(
    engine: Engine, settings: Settings, request: SyncRequest, workflow: Workflow, space_key: str, report: RunReport
) -> SyncResult:
    jira_links = Links(engine, workflow.workflow_id, JIRA)
    if (epic := jira_links.get("epic")) is not None:
        report.jira_epic_key, report.jira_epic_url = epic.key, epic.url
    for step, name in zip(report.steps, [s["name"] for s in workflow.steps or []], strict=False):
        if (story := jira_links.get("story", name)) is not None:
            step.jira_key, step.jira_url = story.key, story.url
    mirror = confluence_api.ConfluenceMirror(
        confluence_api.connect(settings), space_key, Links(engine, workflow.workflow_id, CONFLUENCE)
    )
    page = mirror.publish(confluence_api.page_title(workflow.name), render(report))
    result = SyncResult(CONFLUENCE, "synced", mirror.created, mirror.updated, page.url)
    return _synced(engine, workflow.workflow_id, result, request.final_status is not None)


def _report(
    session: Session, settings: Settings, workflow: Workflow, project: Project, request: SyncRequest
) -> RunReport:
    wid = workflow.workflow_id
    decisions = _decisions_of(session, wid)
    artifacts = session.scalars(select(Artifact).where(Artifact.workflow_id == wid).order_by(Artifact.created_at)).all()
    writers = {a.created_by_agent_id for a in artifacts if a.created_by_agent_id}
    agents = dict(session.execute(select(Agent.agent_id, Agent.name).where(Agent.agent_id.in_(writers))).all())
    total = session.scalar(select(func.count()).select_from(AgentMessage).where(AgentMessage.workflow_id == wid)) or 0
    latest = session.scalars(
        select(AgentMessage)
        .where(AgentMessage.workflow_id == wid)
        .order_by(AgentMessage.created_at.desc(), AgentMessage.message_id.desc())
        .limit(MAX_MESSAGES)
    ).all()
    metrics = workflow.metrics or {}
    return RunReport(
        workflow_id=str(wid),
        name=workflow.name,
        workflow_type=workflow.workflow_type,
        status=request.final_status or workflow.status,
        priority=workflow.priority,
        project=project.name,
        requirement=workflow.requirement,
        description=workflow.description,
        created_by=workflow.created_by,
        started_at=_when(workflow.started_at),
        completed_at=_when(workflow.completed_at)
        or (_when(datetime.fromisoformat(request.finished_at)) if request.finished_at else None),
        tokens=int(metrics.get("prompt_tokens") or 0) + int(metrics.get("completion_tokens") or 0),
        conclave_url=run_url(settings, wid),
        steps=[
            StepReport(
                title=s["title"],
                status=s.get("status", ""),
                agent=s.get("agent"),
                summary=s.get("summary", ""),
                error=s.get("error"),
                artifacts=list(s.get("artifacts") or []),
            )
            for s in workflow.steps or []
        ],
        decisions=[_decision_report(d) for d in decisions],
        artifacts=[
            ArtifactReport(
                path=a.path,
                url=artifact_url(settings, wid, a.id),
                size_bytes=a.size_bytes,
                sha256=a.sha256,
                agent=agents.get(a.created_by_agent_id) if a.created_by_agent_id else None,
            )
            for a in artifacts
        ],
        messages=[
            MessageReport(m.agent_name, m.agent_role, m.message_type, _when(m.created_at) or "", m.content)
            for m in reversed(latest)
        ],
        total_messages=total,
        errors=[str(e.get("error")) for e in workflow.errors or [] if e.get("error")],
    )


def _decisions_of(session: Session, workflow_id: uuid.UUID) -> Sequence[Decision]:
    return session.scalars(
        select(Decision).where(Decision.workflow_id == workflow_id).order_by(Decision.created_at)
    ).all()


def _decision_report(d: Decision) -> DecisionReport:
    titles = {v.get("id"): v.get("title", "") for v in d.variants}
    return DecisionReport(
        problem=d.problem,
        chosen=f"{d.chosen_variant_id} - {titles.get(d.chosen_variant_id, '')}",
        variants=[(str(v.get("id")), str(v.get("title", "")), str(v.get("description") or "")) for v in d.variants],
        votes=[
            VoteReport(
                f"{v.get('agent_name')} ({v.get('agent_role')})", str(v.get("variant_id")), str(v.get("reason", ""))
            )
            for v in d.votes or []
        ],
        justification=d.justification or "",
    )


def _when(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else None


# --- failures -----------------------------------------------------------------------------------------------


def record_sync_failure(engine: Engine, failure: SyncFailure) -> None:
    """A sync that failed after its retries: recorded once (a retried activity finds its own entry)."""
    error = f"{TITLES[failure.system]} sync failed: {failure.error}"
    with transaction(engine) as session:
        workflow = locked_workflow(session, failure.workflow_id)
        errors = workflow.errors or []
        if errors and (errors[-1].get("error"), errors[-1].get("final")) == (error, failure.final):
            return  # this activity, retried
        entry = {
            "error": error,
            "source": failure.system,
            "final": failure.final,
            "status": workflow.status,
            "at": datetime.now(UTC).isoformat(),
        }
        workflow.errors = [*errors, entry]
        append_event(session, workflow.workflow_id, EventType.ERROR_OCCURRED, entry)
        append_event(
            session,
            workflow.workflow_id,
            EventType.INTEGRATION_SYNCED,
            {"system": failure.system, "status": "failed", "error": failure.error},
        )
