import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from api.deps import PagingDep, SessionDep, assign_fields, get_or_404, paginate
from api.errors import COMMON_ERRORS, NOT_FOUND, invalid
from api.schemas.agents import AgentResponse
from api.schemas.common import Page
from api.schemas.projects import ProjectCreate, ProjectResponse, ProjectUpdate, integration_problem
from api.schemas.workflows import WorkflowResponse
from db.enums import ACTIVE_WORKFLOW_STATUSES, ProjectStatus, ProjectType, WorkflowStatus, WorkflowType
from db.models import Agent, Project, Workflow
from db.queries import contains_pattern

router = APIRouter(prefix="/projects", tags=["projects"], responses=COMMON_ERRORS)


def _check_integrations(project: Project) -> None:
    if problem := integration_problem(project):
        raise invalid(*problem)


@router.get("", response_model=Page[ProjectResponse])
def read_projects(
    session: SessionDep,
    paging: PagingDep,
    status: ProjectStatus | None = None,
    type: ProjectType | None = None,
    search: Annotated[str | None, Query(max_length=255, description="Part of the name, any case.")] = None,
) -> Page[ProjectResponse]:
    stmt = select(Project).order_by(Project.created_at.desc(), Project.id)
    if status is not None:
        stmt = stmt.where(Project.status == status)
    if type is not None:
        stmt = stmt.where(Project.type == type)
    if search:
        stmt = stmt.where(Project.name.ilike(contains_pattern(search.replace("\x00", ""))))
    return paginate(session, stmt, paging, ProjectResponse)


@router.post("", response_model=ProjectResponse, status_code=201)
def create_project(session: SessionDep, body: ProjectCreate) -> Project:
    values = body.model_dump(exclude_none=True)
    project = Project()
    assign_fields(project, values)
    _check_integrations(project)
    session.add(project)
    session.commit()
    return project


@router.get("/{project_id}", response_model=ProjectResponse, responses=NOT_FOUND)
def read_project(session: SessionDep, project_id: uuid.UUID) -> Project:
    return get_or_404(session, Project, project_id, "Project")


@router.put("/{project_id}", response_model=ProjectResponse, responses=NOT_FOUND)
def update_project(session: SessionDep, project_id: uuid.UUID, body: ProjectUpdate) -> Project:
    project = get_or_404(session, Project, project_id, "Project")
    assign_fields(project, body.model_dump(exclude_unset=True))
    _check_integrations(project)
    session.commit()
    return project


@router.delete("/{project_id}", status_code=204, responses=NOT_FOUND)
def delete_project(request: Request, session: SessionDep, project_id: uuid.UUID) -> Response:
    """Deletes the project with its workflows (and their messages, decisions, events); runs still going are
    terminated first. Its agents stay, unassigned."""
    project = get_or_404(session, Project, project_id, "Project")
    going = session.scalars(
        select(Workflow.workflow_id).where(
            Workflow.project_id == project_id, Workflow.status.in_(ACTIVE_WORKFLOW_STATUSES)
        )
    ).all()
    runs = request.app.state.runs
    for workflow_id in going:
        runs.call(runs.terminate, str(workflow_id), "its project was deleted through the Conclave API")
    session.delete(project)
    session.commit()
    return Response(status_code=204)


@router.get("/{project_id}/agents", response_model=Page[AgentResponse], responses=NOT_FOUND)
def read_project_agents(session: SessionDep, paging: PagingDep, project_id: uuid.UUID) -> Page[AgentResponse]:
    get_or_404(session, Project, project_id, "Project")
    stmt = select(Agent).where(Agent.project_id == project_id).order_by(Agent.created_at, Agent.agent_id)
    return paginate(session, stmt, paging, AgentResponse)


@router.get("/{project_id}/workflows", response_model=Page[WorkflowResponse], responses=NOT_FOUND)
def read_project_workflows(
    session: SessionDep,
    paging: PagingDep,
    project_id: uuid.UUID,
    status: WorkflowStatus | None = None,
    workflow_type: WorkflowType | None = None,
) -> Page[WorkflowResponse]:
    get_or_404(session, Project, project_id, "Project")
    stmt = (
        select(Workflow)
        .where(Workflow.project_id == project_id)
        .order_by(Workflow.created_at.desc(), Workflow.workflow_id)
    )
    if status is not None:
        stmt = stmt.where(Workflow.status == status)
    if workflow_type is not None:
        stmt = stmt.where(Workflow.workflow_type == workflow_type)
    return paginate(session, stmt, paging, WorkflowResponse)
