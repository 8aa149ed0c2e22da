"""What a run's agents said and decided: messages (oldest first) and decisions with their votes."""

import uuid

from fastapi import APIRouter
from sqlalchemy import select

from api.deps import PagingDep, SessionDep, get_or_404, paginate
from api.errors import COMMON_ERRORS, NOT_FOUND
from api.schemas.common import Page
from api.schemas.communication import DecisionResponse, MessageResponse
from db.enums import MessageType
from db.models import AgentMessage, Decision, Workflow

router = APIRouter(prefix="/communication", tags=["communication"], responses=COMMON_ERRORS)


@router.get("/{workflow_id}/messages", response_model=Page[MessageResponse], responses=NOT_FOUND)
def read_messages(
    session: SessionDep,
    paging: PagingDep,
    workflow_id: uuid.UUID,
    message_type: MessageType | None = None,
    agent_id: uuid.UUID | None = None,
) -> Page[MessageResponse]:
    get_or_404(session, Workflow, workflow_id, "Workflow")
    stmt = (
        select(AgentMessage)
        .where(AgentMessage.workflow_id == workflow_id)
        .order_by(AgentMessage.created_at, AgentMessage.message_id)
    )
    if message_type is not None:
        stmt = stmt.where(AgentMessage.message_type == message_type)
    if agent_id is not None:
        stmt = stmt.where(AgentMessage.agent_id == agent_id)
    return paginate(session, stmt, paging, MessageResponse)


@router.get("/{workflow_id}/decisions", response_model=Page[DecisionResponse], responses=NOT_FOUND)
def read_decisions(session: SessionDep, paging: PagingDep, workflow_id: uuid.UUID) -> Page[DecisionResponse]:
    """Decisions in the order they were taken, each with its votes and the chosen variant spelled out."""
    get_or_404(session, Workflow, workflow_id, "Workflow")
    stmt = select(Decision).where(Decision.workflow_id == workflow_id).order_by(Decision.created_at)
    page = paginate(session, stmt, paging, DecisionResponse)
    for decision in page.items:
        chosen = [v for v in decision.variants if v.get("id") == decision.chosen_variant_id]
        decision.chosen_variant = chosen[0] if chosen else None
    return page
