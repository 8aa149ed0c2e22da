import uuid

from fastapi import APIRouter, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.roles import ROLE_TEMPLATES, role_model
from api.deps import PagingDep, SessionDep, SettingsDep, get_or_404, paginate
from api.errors import COMMON_ERRORS, NOT_FOUND, invalid
from api.schemas.agents import AgentAssignment, AgentCreate, AgentResponse, AgentTemplate, AgentUpdate
from api.schemas.common import Page
from db import crud
from db.enums import AgentRole, AgentStatus
from db.models import Agent, Project
from db.queries import where_given

router = APIRouter(prefix="/agents", tags=["agents"], responses=COMMON_ERRORS)

# What a new agent takes from its role's template when the request leaves it out (its model: the model map's).
_FROM_TEMPLATE = ("description", "temperature", "max_tokens", "system_prompt", "capabilities")


def _check_project(session: Session, project_id: uuid.UUID | None) -> None:
    if project_id is not None and session.get(Project, project_id) is None:
        raise invalid("project_id", f"Project {project_id} not found")


@router.get("", response_model=Page[AgentResponse])
def read_agents(
    session: SessionDep,
    paging: PagingDep,
    role: AgentRole | None = None,
    status: AgentStatus | None = None,
    project_id: uuid.UUID | None = None,
) -> Page[AgentResponse]:
    stmt = select(Agent).order_by(Agent.created_at.desc(), Agent.agent_id)
    stmt = where_given(stmt, role=role, status=status, project_id=project_id)
    return paginate(session, stmt, paging, AgentResponse)


@router.get("/templates", response_model=list[AgentTemplate])
def read_agent_templates(settings: SettingsDep) -> list[AgentTemplate]:
    """One template per role: a real system prompt, default temperature, max_tokens and capabilities, and the
    role's model from the model map (LLM_ROLE_MODELS)."""
    return [
        AgentTemplate.model_validate(
            {**{f: getattr(t, f) for f in AgentTemplate.model_fields}, "model": role_model(t.role, settings)}
        )
        for t in ROLE_TEMPLATES.values()
    ]


@router.post("", response_model=AgentResponse, status_code=201)
def create_agent(session: SessionDep, settings: SettingsDep, body: AgentCreate) -> Agent:
    _check_project(session, body.project_id)
    template = ROLE_TEMPLATES[body.role]
    values = body.model_dump(exclude_none=True)
    for field in _FROM_TEMPLATE:
        values.setdefault(field, getattr(template, field))
    values.setdefault("model", role_model(body.role, settings))
    return crud.create_agent(session=session, fields=values)


@router.get("/{agent_id}", response_model=AgentResponse, responses=NOT_FOUND)
def read_agent(session: SessionDep, agent_id: uuid.UUID) -> Agent:
    return get_or_404(session, Agent, agent_id, "Agent")


@router.put("/{agent_id}", response_model=AgentResponse, responses=NOT_FOUND)
def update_agent(session: SessionDep, agent_id: uuid.UUID, body: AgentUpdate) -> Agent:
    """Changes the fields sent; a change of status is announced to the live streams (`agent_status_changed`)."""
    agent = get_or_404(session, Agent, agent_id, "Agent")
    changes = body.model_dump(exclude_unset=True)
    if "project_id" in changes:
        _check_project(session, changes["project_id"])
    return crud.update_agent(session=session, agent=agent, changes=changes)


@router.delete("/{agent_id}", status_code=204, responses=NOT_FOUND)
def delete_agent(session: SessionDep, agent_id: uuid.UUID) -> Response:
    """Deletes the agent; messages it wrote stay, with its name and role, and no longer point to it."""
    agent = get_or_404(session, Agent, agent_id, "Agent")
    crud.delete_agent(session=session, agent=agent)
    return Response(status_code=204)


@router.post("/{agent_id}/assign", response_model=AgentResponse, responses=NOT_FOUND)
def assign_agent(session: SessionDep, agent_id: uuid.UUID, body: AgentAssignment) -> Agent:
    """Assigns the agent to a project (or unassigns it with `project_id: null`)."""
    agent = get_or_404(session, Agent, agent_id, "Agent")
    _check_project(session, body.project_id)
    return crud.assign_agent(session=session, agent=agent, project_id=body.project_id)
