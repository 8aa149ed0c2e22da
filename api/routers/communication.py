"""What a run's agents said and decided: messages (oldest first), threads, decisions with their votes, statistics;
and a person's message to a run that is still going."""

import uuid
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from api.deps import PagingDep, SessionDep, get_or_404, paginate
from api.errors import COMMON_ERRORS, CONFLICT, NOT_FOUND, UNAVAILABLE, invalid
from api.schemas.common import Page
from api.schemas.communication import (
    AgentStats,
    CommunicationStats,
    DecisionResponse,
    MessageCreate,
    MessageResponse,
    ThreadMessage,
    ThreadResponse,
)
from api.temporal import run_control
from db import crud
from db.enums import ACTIVE_WORKFLOW_STATUSES, MessageType
from db.models import AgentMessage, Decision, Workflow
from db.queries import where_given
from workflows.run_state import RunState
from workflows.types import HumanMessage

router = APIRouter(prefix="/communication", tags=["communication"], responses=COMMON_ERRORS)


def _messages(workflow_id: uuid.UUID) -> Select[Any]:
    return (
        select(AgentMessage)
        .where(AgentMessage.workflow_id == workflow_id)
        .order_by(AgentMessage.created_at, AgentMessage.message_id)
    )


@router.get("/{workflow_id}/messages", response_model=Page[MessageResponse], responses=NOT_FOUND)
def read_messages(
    session: SessionDep,
    paging: PagingDep,
    workflow_id: uuid.UUID,
    message_type: MessageType | None = None,
    agent_id: uuid.UUID | None = None,
) -> Page[MessageResponse]:
    get_or_404(session, Workflow, workflow_id, "Workflow")
    stmt = where_given(_messages(workflow_id), message_type=message_type, agent_id=agent_id)
    return paginate(session, stmt, paging, MessageResponse)


@router.post(
    "/{workflow_id}/messages",
    response_model=MessageResponse,
    status_code=201,
    responses={**NOT_FOUND, **CONFLICT, **UNAVAILABLE},
)
def create_message(request: Request, session: SessionDep, workflow_id: uuid.UUID, body: MessageCreate) -> AgentMessage:
    """A person's message to the team (type `human`): stored, and delivered to the run as a signal, so the next agent
    turn reads it. Only for a run that is still going (pending, running or paused): 409 otherwise. Sent again with
    the same `message_id`, it answers with the message already posted."""
    workflow = get_or_404(session, Workflow, workflow_id, "Workflow")
    if body.message_id is not None and (posted := session.get(AgentMessage, body.message_id)) is not None:
        if (posted.workflow_id, posted.message_type, posted.content) != (workflow_id, MessageType.HUMAN, body.content):
            raise HTTPException(status_code=409, detail=f"message_id {body.message_id} is taken by another message")
        return posted
    if workflow.status not in ACTIVE_WORKFLOW_STATUSES:
        raise HTTPException(
            status_code=409,
            detail=f"Workflow {workflow_id} is {workflow.status}: messages reach only a run that is still going "
            "(resume it first)",
        )
    if body.parent_message_id is not None:
        parent = session.get(AgentMessage, body.parent_message_id)
        if parent is None or parent.workflow_id != workflow_id:
            raise invalid("parent_message_id", f"no message {body.parent_message_id} in workflow {workflow_id}")
    session.rollback()  # hold no transaction while Temporal is asked
    message_id = body.message_id or uuid.uuid4()
    signal = HumanMessage(
        content=body.content,
        author=body.author,
        message_id=str(message_id),
        parent_message_id=str(body.parent_message_id) if body.parent_message_id else None,
    )
    # Signal first: a refused signal (the run just closed) stores nothing. The run records the message under the same
    # id before its next turn, so whichever insert comes second does nothing.
    runs = run_control(request)
    runs.call(runs.signal, str(workflow_id), RunState.human_message, signal)
    crud.create_human_message(
        session=session,
        message_id=message_id,
        workflow_id=workflow_id,
        author=body.author,
        content=body.content,
        parent_message_id=body.parent_message_id,
    )
    return get_or_404(session, AgentMessage, message_id, "Message")


@router.get("/{workflow_id}/threads", response_model=Page[ThreadResponse], responses=NOT_FOUND)
def read_threads(session: SessionDep, paging: PagingDep, workflow_id: uuid.UUID) -> Page[ThreadResponse]:
    """Conversations, oldest first: each root message (no parent) with its replies nested under the message they
    answer. Paging counts threads."""
    get_or_404(session, Workflow, workflow_id, "Workflow")
    rows = session.scalars(_messages(workflow_id)).all()
    nodes = {m.message_id: ThreadMessage.model_validate(m) for m in rows}
    roots: list[ThreadMessage] = []
    for node in nodes.values():
        parent = nodes.get(node.parent_message_id) if node.parent_message_id else None
        (parent.replies if parent is not None else roots).append(node)
    page = [_thread(root) for root in roots[paging.skip : paging.skip + paging.limit]]
    return Page[ThreadResponse](items=page, total=len(roots), skip=paging.skip, limit=paging.limit)


def _thread(root: ThreadMessage) -> ThreadResponse:
    everyone: list[ThreadMessage] = []
    pending = [root]
    while pending:  # iterative: a long review loop nests deeply
        node = pending.pop()
        everyone.append(node)
        pending.extend(reversed(node.replies))
    everyone.sort(key=lambda m: (m.created_at is None, m.created_at))
    return ThreadResponse(
        **root.model_dump(exclude={"replies"}),
        replies=root.replies,
        message_count=len(everyone),
        participants=list(dict.fromkeys(m.agent_name for m in everyone)),
        last_message_at=everyone[-1].created_at,
    )


@router.get("/{workflow_id}/decisions", response_model=Page[DecisionResponse], responses=NOT_FOUND)
def read_decisions(session: SessionDep, paging: PagingDep, workflow_id: uuid.UUID) -> Page[DecisionResponse]:
    """Decisions in the order they were taken, each with its votes and the chosen variant spelled out."""
    get_or_404(session, Workflow, workflow_id, "Workflow")
    stmt = (
        select(Decision).where(Decision.workflow_id == workflow_id).order_by(Decision.created_at, Decision.decision_id)
    )
    page = paginate(session, stmt, paging, DecisionResponse)
    for decision in page.items:
        chosen = [v for v in decision.variants if v.get("id") == decision.chosen_variant_id]
        decision.chosen_variant = chosen[0] if chosen else None
    return page


@router.get("/{workflow_id}/stats", response_model=CommunicationStats, responses=NOT_FOUND)
def read_stats(session: SessionDep, workflow_id: uuid.UUID) -> CommunicationStats:
    """Counts by message type and by author, decisions, tokens, the model's mean latency, and the messages that
    asked for a response and have none yet."""
    get_or_404(session, Workflow, workflow_id, "Workflow")
    m = AgentMessage
    authors = session.execute(
        select(
            m.agent_id,
            m.agent_name,
            m.agent_role,
            func.count(),
            func.coalesce(func.sum(m.prompt_tokens), 0),
            func.coalesce(func.sum(m.completion_tokens), 0),
            func.avg(m.latency_ms),
        )
        .where(m.workflow_id == workflow_id)
        .group_by(m.agent_id, m.agent_name, m.agent_role)
        .order_by(func.count().desc(), m.agent_name)
    ).all()
    by_agent = [
        AgentStats(
            agent_id=agent_id,
            agent_name=name,
            agent_role=role,
            messages=count,
            prompt_tokens=prompt,
            completion_tokens=completion,
            average_latency_ms=_rounded(latency),
        )
        for agent_id, name, role, count, prompt, completion, latency in authors
    ]
    of_run = m.workflow_id == workflow_id
    by_type = session.execute(select(m.message_type, func.count()).where(of_run).group_by(m.message_type)).all()
    latency, first, last, total, roots = session.execute(
        select(
            func.avg(m.latency_ms),
            func.min(m.created_at),
            func.max(m.created_at),
            func.count(),
            func.count().filter(m.parent_message_id.is_(None)),
        ).where(of_run)
    ).one()
    decisions = session.scalar(select(func.count()).select_from(Decision).where(Decision.workflow_id == workflow_id))
    prompt_tokens = sum(a.prompt_tokens for a in by_agent)
    completion_tokens = sum(a.completion_tokens for a in by_agent)
    return CommunicationStats(
        total_messages=total,
        by_type={message_type: count for message_type, count in by_type},
        by_agent=by_agent,
        threads=roots,
        decisions=decisions or 0,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
        average_latency_ms=_rounded(latency),
        awaiting_response=_awaiting_response(session, workflow_id),
        first_message_at=first,
        last_message_at=last,
    )


def _awaiting_response(session: Session, workflow_id: uuid.UUID) -> int:
    reply = aliased(AgentMessage)
    answered = select(reply.message_id).where(reply.parent_message_id == AgentMessage.message_id).exists()
    count = session.scalar(
        select(func.count())
        .select_from(AgentMessage)
        .where(AgentMessage.workflow_id == workflow_id, AgentMessage.requires_response.is_(True), ~answered)
    )
    return count or 0


def _rounded(value: Decimal | float | None) -> float | None:
    return None if value is None else round(float(value), 1)
