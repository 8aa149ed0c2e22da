"""Workflow runs: create (and start in Temporal), list, read, update, delete, cancel, resume, approve decisions,
and the files a run wrote. Every run is a Temporal workflow whose id is the run's `workflow_id`."""

import contextlib
import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.storage import StorageError
from api.deps import PagingDep, SessionDep, get_or_404, paginate
from api.errors import COMMON_ERRORS, CONFLICT, NOT_FOUND, UNAVAILABLE, invalid
from api.schemas.common import Page
from api.schemas.workflows import (
    ArtifactResponse,
    DecisionApprovalRequest,
    IntegrationState,
    WorkflowCreate,
    WorkflowDetailResponse,
    WorkflowResponse,
    WorkflowTemplateResponse,
    WorkflowUpdate,
)
from api.temporal import TemporalRefused, TemporalUnavailable, run_control
from db import crud
from db.enums import ACTIVE_WORKFLOW_STATUSES, WorkflowStatus, WorkflowType
from db.events import EventType
from db.models import Artifact, Decision, IntegrationLink, Project, Workflow, WorkflowEvent
from db.queries import where_given
from db.team import missing_roles, team_agents
from integrations import CONFLUENCE, JIRA
from workflows.run_state import RunState
from workflows.templates import TEMPLATES, StepKind
from workflows.types import ApprovalOptions, CodeOptions, DecisionApproval, RunInput, RunOptions

router = APIRouter(prefix="/workflows", tags=["workflows"], responses=COMMON_ERRORS)


def _conflict(message: str) -> HTTPException:
    return HTTPException(status_code=409, detail=message)


def _run_input(settings: Any, workflow: Workflow) -> RunInput:
    options = dict(workflow.options or {})
    approval = ApprovalOptions(**options.pop("approval", {}))
    code = CodeOptions(**options.pop("code", {}))
    return RunInput(
        workflow_id=str(workflow.workflow_id),
        options=RunOptions(approval=approval, code=code, **options),
        heartbeat_timeout_seconds=settings.activity_heartbeat_timeout,
        integration_attempts=settings.integration_max_attempts,
    )


@router.get("/templates", response_model=list[WorkflowTemplateResponse])
def read_workflow_templates() -> list[WorkflowTemplateResponse]:
    """Each workflow type: its steps in order, the roles it needs, and its inputs. The workflows run these."""
    return [WorkflowTemplateResponse.model_validate(t) for t in TEMPLATES.values()]


@router.get("", response_model=Page[WorkflowResponse])
def read_workflows(
    session: SessionDep,
    paging: PagingDep,
    status: WorkflowStatus | None = None,
    workflow_type: WorkflowType | None = None,
    project_id: uuid.UUID | None = None,
) -> Page[WorkflowResponse]:
    stmt = select(Workflow).order_by(Workflow.created_at.desc(), Workflow.workflow_id)
    stmt = where_given(stmt, status=status, workflow_type=workflow_type, project_id=project_id)
    return paginate(session, stmt, paging, WorkflowResponse)


def _check_team(session: Session, body: WorkflowCreate) -> list[str]:
    template = TEMPLATES[body.workflow_type]
    assigned = body.assigned_agents or []
    if len(set(assigned)) != len(assigned):
        raise invalid("assigned_agents", "lists an agent more than once")
    agents = team_agents(session, body.project_id, [str(a) for a in assigned])
    if unknown := set(assigned) - {a.agent_id for a in agents}:
        raise invalid("assigned_agents", f"no agent {', '.join(sorted(map(str, unknown)))}")
    if missing := missing_roles(agents, [r.value for r in template.required_roles]):
        whose = "the assigned agents" if body.assigned_agents else f"project {body.project_id}"
        raise invalid(
            "workflow_type",
            f"{template.title} needs agents with the roles {', '.join(r.value for r in template.required_roles)}; "
            f"{whose} has no {', '.join(missing)}",
        )
    decisions = {s.name for s in template.steps if s.kind == StepKind.DECIDE}
    if unknown_steps := [d for d in body.options.approval.decisions if d != "*" and d not in decisions]:
        raise invalid(
            "options",
            f"approval.decisions names no decision step of {template.title}: {', '.join(unknown_steps)} "
            f"(its decisions: {', '.join(sorted(decisions))})",
        )
    return [str(a.agent_id) for a in agents] if body.assigned_agents else []


@router.post("", response_model=WorkflowResponse, status_code=201, responses=UNAVAILABLE)
def create_workflow(request: Request, session: SessionDep, body: WorkflowCreate) -> Workflow:
    """Checks the team, stores the run (`pending`) and starts it in Temporal; the worker marks it `running`."""
    if session.get(Project, body.project_id) is None:
        raise invalid("project_id", f"Project {body.project_id} not found")
    assigned = _check_team(session, body)
    workflow = crud.create_workflow(
        session=session,
        fields=body.model_dump(exclude={"assigned_agents", "options"}),
        assigned_agents=assigned or None,
        options=body.options.model_dump(),
    )
    runs = run_control(request)
    try:
        run_id = runs.call(
            runs.start,
            str(workflow.workflow_id),
            workflow.workflow_type,
            str(workflow.project_id),
            _run_input(request.app.state.settings, workflow),
        )
    except (TemporalUnavailable, TemporalRefused) as exc:
        crud.delete_workflow(session=session, workflow=workflow)  # nothing runs it: the request changes nothing
        # refused: e.g. a Temporal cluster without Conclave's search attributes (README, "Scaling out")
        raise HTTPException(status_code=503, detail=f"the run could not be started: {exc}") from exc
    return crud.set_temporal_run_id(session=session, workflow=workflow, temporal_run_id=run_id)


@router.get("/{workflow_id}", response_model=WorkflowDetailResponse, responses=NOT_FOUND)
def read_workflow(session: SessionDep, workflow_id: uuid.UUID) -> WorkflowDetailResponse:
    """The run, with its Jira epic and Confluence page and how their last sync went."""
    workflow = get_or_404(session, Workflow, workflow_id, "Workflow")
    detail = WorkflowDetailResponse.model_validate(workflow)
    mirrors = {JIRA: "epic", CONFLUENCE: "page"}  # what stands for the run in each system
    links = {
        link.system: link
        for link in session.scalars(
            select(IntegrationLink).where(
                IntegrationLink.workflow_id == workflow_id,
                IntegrationLink.ref == "",
                IntegrationLink.kind.in_(mirrors.values()),
            )
        )
    }
    for system in mirrors:
        link = links.get(system)
        last = session.scalars(
            select(WorkflowEvent)
            .where(WorkflowEvent.workflow_id == workflow_id, WorkflowEvent.event_type == EventType.INTEGRATION_SYNCED)
            .where(WorkflowEvent.data["system"].astext == system)
            .order_by(WorkflowEvent.id.desc())
            .limit(1)
        ).one_or_none()
        if link is None and last is None:
            continue
        state = IntegrationState(
            key=link.external_key if link else None,
            url=link.url if link else None,
            last_sync=last.data.get("status") if last else None,
            error=last.data.get("error") if last else None,
            synced_at=last.created_at if last else None,
        )
        setattr(detail, system, state)
    return detail


@router.put("/{workflow_id}", response_model=WorkflowResponse, responses=NOT_FOUND)
def update_workflow(session: SessionDep, workflow_id: uuid.UUID, body: WorkflowUpdate) -> Workflow:
    workflow = get_or_404(session, Workflow, workflow_id, "Workflow")
    return crud.update_workflow(session=session, workflow=workflow, changes=body.model_dump(exclude_unset=True))


@router.delete("/{workflow_id}", status_code=204, responses={**NOT_FOUND, **UNAVAILABLE})
def delete_workflow(request: Request, session: SessionDep, workflow_id: uuid.UUID) -> Response:
    """Deletes the run with its messages, decisions, events and artifacts; a run still going is terminated first."""
    workflow = get_or_404(session, Workflow, workflow_id, "Workflow")
    if workflow.status in ACTIVE_WORKFLOW_STATUSES:
        runs = run_control(request)
        runs.call(runs.terminate, str(workflow_id), "deleted through the Conclave API")
    keys = crud.delete_workflow(session=session, workflow=workflow)
    store = request.app.state.store
    for key in keys:
        with contextlib.suppress(StorageError):  # the rows are gone; an orphaned object is only disk space
            store.delete(key)
    return Response(status_code=204)


def _check_cancellable(workflow: Workflow) -> None:
    if workflow.status not in ACTIVE_WORKFLOW_STATUSES:
        raise _conflict(
            f"Workflow {workflow.workflow_id} is {workflow.status}: only a running or paused run can be cancelled"
        )


@router.post("/{workflow_id}/cancel", response_model=WorkflowResponse, responses={**NOT_FOUND, **CONFLICT})
def cancel_workflow(request: Request, session: SessionDep, workflow_id: uuid.UUID) -> Workflow:
    """Asks Temporal to cancel the run: the running activity stops and the run records `cancelled` (seconds)."""
    workflow = get_or_404(session, Workflow, workflow_id, "Workflow")
    _check_cancellable(workflow)
    runs = run_control(request)
    closed = runs.call(runs.cancel, str(workflow_id))
    if closed is None:
        return workflow
    crud.lock_workflow(session=session, workflow=workflow)  # the run may have recorded its end meanwhile
    _check_cancellable(workflow)
    if closed in ("terminated", "timed_out", "gone"):  # ended in Temporal without recording it (CLI terminate)
        crud.mark_cancelled(session=session, workflow=workflow, reason=f"the Temporal run was {closed}")
    return workflow


@router.post("/{workflow_id}/resume", response_model=WorkflowResponse, responses={**NOT_FOUND, **CONFLICT})
def resume_workflow(request: Request, session: SessionDep, workflow_id: uuid.UUID) -> Workflow:
    """Continues a failed or cancelled run after its last finished step (Temporal's reset): finished steps are not
    run again."""
    crud.lock_resumes(session=session, workflow_id=workflow_id)  # a second resume waits, then finds it running: 409
    workflow = get_or_404(session, Workflow, workflow_id, "Workflow")
    if workflow.status not in (WorkflowStatus.FAILED, WorkflowStatus.CANCELLED):
        raise _conflict(f"Workflow {workflow_id} is {workflow.status}: only a failed or cancelled run can be resumed")
    runs = run_control(request)
    run_id = runs.call(
        runs.resume,
        str(workflow_id),
        workflow.workflow_type,
        str(workflow.project_id),
        _run_input(request.app.state.settings, workflow),
    )
    crud.mark_resumed(session=session, workflow=workflow, temporal_run_id=run_id)
    return workflow


@router.post(
    "/{workflow_id}/decisions/{decision_id}/approval",
    response_model=WorkflowResponse,
    responses={**NOT_FOUND, **CONFLICT},
)
def approve_decision(
    request: Request, session: SessionDep, workflow_id: uuid.UUID, decision_id: uuid.UUID, body: DecisionApprovalRequest
) -> Workflow:
    """Approve the team's choice, or override it with another variant, for a decision the run waits on."""
    workflow = get_or_404(session, Workflow, workflow_id, "Workflow")
    decision = session.get(Decision, decision_id)
    if decision is None or decision.workflow_id != workflow_id:
        raise HTTPException(status_code=404, detail=f"Decision {decision_id} not found in workflow {workflow_id}")
    if (workflow.metrics or {}).get("awaiting_approval") != str(decision_id) or workflow.status != "paused":
        raise _conflict(f"Workflow {workflow_id} is not waiting for an approval of decision {decision_id}")
    if body.action == "override":
        ids = [v.get("id") for v in decision.variants]
        if body.variant_id not in ids:
            raise invalid("variant_id", f"must be one of the decision's variants: {', '.join(map(str, ids))}")
    runs = run_control(request)
    approval = DecisionApproval(str(decision_id), body.action, body.variant_id, body.comment, body.author)
    runs.call(runs.signal, str(workflow_id), RunState.approve_decision, approval)
    return workflow


@router.get("/{workflow_id}/artifacts", response_model=Page[ArtifactResponse], responses=NOT_FOUND)
def read_artifacts(session: SessionDep, paging: PagingDep, workflow_id: uuid.UUID) -> Page[ArtifactResponse]:
    """Every file the run's agents wrote (each revision is its own artifact), oldest first."""
    get_or_404(session, Workflow, workflow_id, "Workflow")
    stmt = select(Artifact).where(Artifact.workflow_id == workflow_id).order_by(Artifact.created_at, Artifact.path)
    return paginate(session, stmt, paging, ArtifactResponse)


@router.get(
    "/{workflow_id}/artifacts/{artifact_id}",
    response_class=Response,
    responses={**NOT_FOUND, 200: {"content": {"application/octet-stream": {}}, "description": "The file."}},
)
def read_artifact(request: Request, session: SessionDep, workflow_id: uuid.UUID, artifact_id: uuid.UUID) -> Response:
    """The file itself, with its content type."""
    artifact = session.get(Artifact, artifact_id)
    if artifact is None or artifact.workflow_id != workflow_id:
        raise HTTPException(status_code=404, detail=f"Artifact {artifact_id} not found in workflow {workflow_id}")
    try:
        data = request.app.state.store.get(artifact.object_key)
    except StorageError as exc:
        raise HTTPException(status_code=503, detail=f"the file cannot be read now: {exc}") from exc
    name = artifact.path.rsplit("/", 1)[-1]
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_").replace("\\", "_")
    disposition = f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(
        data,
        media_type=artifact.content_type,
        headers={"Content-Disposition": disposition, "X-Content-SHA256": artifact.sha256},
    )
