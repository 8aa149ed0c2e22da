import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from api.deps import PagingDep, SessionDep, get_or_404, paginate
from api.errors import COMMON_ERRORS, NOT_FOUND, invalid
from api.schemas.agents import AgentResponse
from api.schemas.common import Page
from api.schemas.projects import (
    ProjectCreate,
    ProjectResponse,
    ProjectSaved,
    ProjectUpdate,
    integration_fields,
    integration_problem,
)
from api.schemas.workflows import WorkflowResponse
from db import crud
from db.enums import ProjectStatus, ProjectType, WorkflowStatus, WorkflowType
from db.models import Agent, Project, Workflow
from db.queries import contains_pattern, where_given
from integrations import check_target, project_targets

TARGET_CHECK_TIMEOUT = 5  # seconds Jira or Confluence may take to confirm a project's key when it is saved

router = APIRouter(prefix="/projects", tags=["projects"], responses=COMMON_ERRORS)


def _check_integrations(fields: dict[str, Any]) -> None:
    if problem := integration_problem(fields):
        raise invalid(*problem)


def _saved(request: Request, project: Project) -> ProjectSaved:
    """The saved project, with a warning for each integration turned on that its runs could not use now."""
    settings = request.app.state.settings.model_copy(update={"integration_timeout": TARGET_CHECK_TIMEOUT})
    response = ProjectSaved.model_validate(project)
    for system, key in project_targets(project).items():
        if problem := check_target(settings, system, key):
            response.warnings.append(problem)
    return response


@router.get("", response_model=Page[ProjectResponse])
def read_projects(
    session: SessionDep,
    paging: PagingDep,
    status: ProjectStatus | None = None,
    type: ProjectType | None = None,
    search: Annotated[str | None, Query(max_length=255, description="Part of the name, any case.")] = None,
) -> Page[ProjectResponse]:
    stmt = where_given(select(Project).order_by(Project.created_at.desc(), Project.id), status=status, type=type)
    if search:
        stmt = stmt.where(Project.name.ilike(contains_pattern(search.replace("\x00", ""))))
    return paginate(session, stmt, paging, ProjectResponse)


@router.post("", response_model=ProjectSaved, status_code=201)
def create_project(request: Request, session: SessionDep, body: ProjectCreate) -> ProjectSaved:
    values = body.model_dump(exclude_none=True)
    _check_integrations(values)
    return _saved(request, crud.create_project(session=session, fields=values))


@router.get("/{project_id}", response_model=ProjectResponse, responses=NOT_FOUND)
def read_project(session: SessionDep, project_id: uuid.UUID) -> Project:
    return get_or_404(session, Project, project_id, "Project")


@router.put("/{project_id}", response_model=ProjectSaved, responses=NOT_FOUND)
def update_project(request: Request, session: SessionDep, project_id: uuid.UUID, body: ProjectUpdate) -> ProjectSaved:
    project = get_or_404(session, Project, project_id, "Project")
    changes = body.model_dump(exclude_unset=True)
    _check_integrations({**integration_fields(project), **changes})  # the project as it would be saved
    return _saved(request, crud.update_project(session=session, project=project, changes=changes))


@router.delete("/{project_id}", status_code=204, responses=NOT_FOUND)
def delete_project(request: Request, session: SessionDep, project_id: uuid.UUID) -> Response:
    """Deletes the project with its workflows (and their messages, decisions, events); runs still going are
    terminated first. Its agents stay, unassigned."""
    project = get_or_404(session, Project, project_id, "Project")
    runs = request.app.state.runs
    for workflow_id in crud.active_workflow_ids(session=session, project_id=project_id):
        runs.call(runs.terminate, str(workflow_id), "its project was deleted through the Conclave API")
    crud.delete_project(session=session, project=project)
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
    stmt = where_given(stmt, status=status, workflow_type=workflow_type)
    return paginate(session, stmt, paging, WorkflowResponse)
