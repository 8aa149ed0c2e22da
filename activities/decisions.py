"""A team decision, end to end: the agents read the run's context, the lead proposes options (or is given them),
each agent votes, the lead justifies the outcome; the thread and the decision are recorded.

The body of the `hold_decision` activity (the Temporal wrapper in activities/definitions.py adds heartbeats and
cancellation). It is idempotent: its ids are derived from (run, step, key), and a decision already recorded is
returned as recorded without calling the model again. The voters are busy around the model calls, which run with no
database transaction open; the thread (proposal, votes, outcome), the decision, its events and the agents' status are
committed in one transaction at the end (`BusyAgents`, activities/turn_io.py).
"""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from activities.storage import ArtifactStore
from activities.turn_io import (
    Addressees,
    BusyAgents,
    TurnConfigurationError,
    agent_message,
    artifact_texts,
    load_agent,
    load_workflow,
    thread_of,
    turn_seed,
)
from activities.types import DecisionOutcome, DecisionRequest
from agents.config import AgentConfig
from agents.context import TurnContext
from agents.decide import DecisionResult, Variant, decide, options_text
from agents.llm import LLMClient, TokenCallback
from db.enums import MessageType
from db.models import AgentMessage, Decision
from db.records import DecisionRecord, derive_id, record_decision, record_message
from db.session import transaction


def decision_id_of(workflow_id: uuid.UUID, step: str, key: str) -> uuid.UUID:
    """The id of the decision a step holds under `key` (the workflows use the step's name)."""
    return derive_id(workflow_id, step, key, "decision")


@dataclass(frozen=True)
class _Meeting:
    """What the voters read before the model is called; the first voter leads."""

    voters: list[AgentConfig]
    context: TurnContext
    seed: int


def hold_decision(
    request: DecisionRequest,
    *,
    llm: LLMClient,
    engine: Engine,
    store: ArtifactStore,
    on_token: TokenCallback | None = None,
) -> DecisionOutcome:
    """The team's decision: the options (given, or proposed by the lead), each voter's vote, the outcome."""
    workflow_id = uuid.UUID(request.workflow_id)
    decision_id = decision_id_of(workflow_id, request.step, request.key)
    agent_ids = [uuid.UUID(a) for a in dict.fromkeys(request.agent_ids)]
    with transaction(engine) as session:
        if (existing := session.get(Decision, decision_id)) is not None:
            return _recorded_outcome(session, existing)
        meeting = _read_meeting(session, store, request, workflow_id, agent_ids)
        task = f"{request.step}: voting on {request.problem}"[:300]
        busy = BusyAgents.start(session, engine, workflow_id, agent_ids, task)

    given = _given_variants(request)
    with busy.model_call():
        result = decide(
            llm,
            request.problem,
            meeting.voters,
            meeting.context,
            description=request.description,
            variants=given,
            seed=meeting.seed,
            on_token=on_token,
        )

    root_id = derive_id(workflow_id, request.step, request.key, "decision-thread")
    with busy.finish() as session:
        votes = _record_thread(session, request, workflow_id, root_id, meeting.voters, result)
        record_decision(
            session,
            DecisionRecord(
                decision_id=decision_id,
                workflow_id=workflow_id,
                problem=request.problem,
                description=request.description,
                variants=[v.as_dict() for v in result.variants],
                votes=votes,
                chosen_variant_id=result.chosen_variant_id,
                justification=result.justification,
                responsible_agents=[str(a) for a in agent_ids],
                discussion_thread_id=root_id,
                uncontested=result.uncontested,
            ),
        )
    return _outcome(decision_id, root_id, result, votes)


def _outcome(
    decision_id: uuid.UUID, root_id: uuid.UUID, result: DecisionResult, votes: list[dict[str, Any]]
) -> DecisionOutcome:
    return DecisionOutcome(
        decision_id=str(decision_id),
        chosen_variant_id=result.chosen_variant_id,
        chosen_title=result.chosen.title,
        tally=result.tally,
        votes=len(votes),
        discussion_thread_id=str(root_id),
        prompt_tokens=result.usage.prompt_tokens,
        completion_tokens=result.usage.completion_tokens,
        uncontested=result.uncontested,
    )


def _recorded_outcome(session: Session, existing: Decision) -> DecisionOutcome:
    """A decision held before (this activity, retried), as it was recorded."""
    chosen: dict[str, Any] = next((v for v in existing.variants if v.get("id") == existing.chosen_variant_id), {})
    return DecisionOutcome(
        decision_id=str(existing.decision_id),
        chosen_variant_id=existing.chosen_variant_id or "",
        chosen_title=chosen.get("title", ""),
        tally={v["id"]: sum(1 for x in existing.votes or [] if x["variant_id"] == v["id"]) for v in existing.variants},
        votes=len(existing.votes or []),
        discussion_thread_id=str(existing.discussion_thread_id),
        **_thread_usage(session, existing.discussion_thread_id),
        reused=True,
        uncontested=existing.uncontested,
    )


def _thread_usage(session: Session, root_id: uuid.UUID | None) -> dict[str, int]:
    """Tokens spent on a recorded decision's thread (its proposal, votes and justification)."""
    row = session.execute(
        select(
            func.coalesce(func.sum(AgentMessage.prompt_tokens), 0),
            func.coalesce(func.sum(AgentMessage.completion_tokens), 0),
        ).where(or_(AgentMessage.message_id == root_id, AgentMessage.parent_message_id == root_id))
    ).one()
    return {"prompt_tokens": int(row[0] or 0), "completion_tokens": int(row[1] or 0)}


def _read_meeting(
    session: Session, store: ArtifactStore, request: DecisionRequest, workflow_id: uuid.UUID, agent_ids: list[uuid.UUID]
) -> _Meeting:
    workflow = load_workflow(session, workflow_id)
    voters = [load_agent(session, a) for a in agent_ids]
    if not voters:
        raise TurnConfigurationError("a decision needs at least one responsible agent")
    context = TurnContext(
        requirement=workflow.requirement,
        step=request.step,
        task=f"Decide: {request.problem}",
        thread=thread_of(session, workflow_id),
        artifacts=artifact_texts(session, store, workflow_id),
    )
    return _Meeting(voters, context, turn_seed(workflow, request.step, request.key, "decision"))


def _given_variants(request: DecisionRequest) -> list[Variant] | None:
    """The options the workflow gives, with ids A, B, C... in order; None: the lead proposes them."""
    if not request.variants:
        return None
    return [
        Variant(id=chr(ord("A") + i), title=v["title"], description=v.get("description", ""))
        for i, v in enumerate(request.variants)
    ]


def _record_thread(
    session: Session,
    request: DecisionRequest,
    workflow_id: uuid.UUID,
    root_id: uuid.UUID,
    voters: list[AgentConfig],
    result: DecisionResult,
) -> list[dict[str, Any]]:
    """The decision's thread: the lead's proposal, each voter's answer, the outcome. Returns the votes cast (an
    abstention is in the thread, not among the votes)."""
    lead = voters[0]
    proposal = f"Decision needed: {request.problem}\n{request.description}".strip()
    proposal += f"\n\nOptions:\n{options_text(result.variants)}"
    record_message(
        session,
        agent_message(
            root_id,
            workflow_id,
            lead,
            MessageType.PROPOSAL,
            proposal,
            result.proposal_usage,
            addressed=Addressees.of(voters),
            requires_response=True,
        ),
    )
    votes = []
    for vote in result.votes:
        vote_id = derive_id(workflow_id, request.step, request.key, "vote", vote.agent.agent_id)
        content = f"I vote {vote.variant_id}: {vote.reason}" if vote.variant_id else f"I abstain: {vote.reason}"
        message = agent_message(
            vote_id, workflow_id, vote.agent, MessageType.ANSWER, content, vote.usage, parent=root_id
        )
        record_message(session, message)
        if vote.variant_id:
            votes.append({**vote.as_dict(), "message_id": str(vote_id)})
    label = "Decision (uncontested)" if result.uncontested else "Decision"
    outcome = f"{label}: {result.chosen.id} - {result.chosen.title}\n\n{result.justification}"
    record_message(
        session,
        agent_message(
            derive_id(workflow_id, request.step, request.key, "decision-message"),
            workflow_id,
            lead,
            MessageType.DECISION,
            outcome,
            result.justification_usage,
            parent=root_id,
            attachments=[f.as_attachment() for f in result.fallbacks],
        ),
    )
    return votes
