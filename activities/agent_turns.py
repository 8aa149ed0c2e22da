"""An agent's turn, end to end: read the run's context, produce work or review it, store files, record it all.

The body of the `run_agent_turn` activity (the Temporal wrapper in activities/definitions.py adds heartbeats and
cancellation). It is idempotent: ids are derived from (run, step, turn), and a turn whose message is already recorded
returns what it recorded without calling the model again. The agent is busy around the model call, which runs with no
database transaction open; everything the turn writes (files' rows, message, events, agent status) is committed in
one transaction at the end, so a crash leaves either all of it or none (`BusyAgents`, activities/turn_io.py).
"""

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from activities.storage import ArtifactStore
from activities.turn_io import (
    Addressees,
    BusyAgents,
    StoredFile,
    TurnConfigurationError,
    addressees,
    agent_message,
    artifact_texts,
    attached_files,
    load_turn,
    optional_uuid,
    record_files,
    store_files,
    thread_of,
    turn_ids,
)
from activities.types import TurnRequest, TurnResult
from agents.config import AgentConfig
from agents.context import TurnContext
from agents.llm import LLMClient, TokenCallback, Usage
from agents.produce import produce
from agents.review import Verdict, review
from db.enums import MessageType
from db.models import AgentMessage
from db.records import MessageRecord, record_message
from db.session import transaction

SUMMARY_CHARS = 500


@dataclass(frozen=True)
class _Turn:
    """What a turn reads before the model is called."""

    agent: AgentConfig
    context: TurnContext
    work: str  # a review: the message and files it judges
    addressed: Addressees
    seed: int


@dataclass
class _Said:
    """What the agent answered: its text, the files it wrote and what its message carries."""

    text: str
    usage: Usage
    finish_reason: str
    verdict: Verdict | None = None
    files: list[tuple[str, str]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)


def run_agent_turn(
    request: TurnRequest,
    *,
    llm: LLMClient,
    engine: Engine,
    store: ArtifactStore,
    on_token: TokenCallback | None = None,
) -> TurnResult:
    """One agent's turn: it produces work (its message, and the files it wrote) or reviews work (its verdict)."""
    workflow_id, agent_id, message_id = turn_ids(request)
    with transaction(engine) as session:
        if (done := _recorded_turn(session, message_id)) is not None:
            return done
        turn = _read_turn(session, store, request)
        task = f"{request.step}: {request.task}"[:300]
        busy = BusyAgents.start(session, engine, workflow_id, [agent_id], task)

    with busy.model_call():
        said = _answer(llm, request, turn, on_token)
        stored = store_files(store, workflow_id, request.step, request.turn, agent_id, said.files)
        said.attachments += [{"kind": "artifact", **f.ref} for f in stored]

    with busy.finish() as session:
        record_files(session, workflow_id, request.step, agent_id, stored)
        record_message(session, _turn_message(request, message_id, workflow_id, turn, said))
    return _turn_result(message_id, turn.agent, said, stored)


def _recorded_turn(session: Session, message_id: uuid.UUID) -> TurnResult | None:
    message = session.get(AgentMessage, message_id)
    if message is None:
        return None
    attachments = message.attachments or []
    verdict = next((a for a in attachments if a.get("kind") == "verdict"), None)
    return TurnResult(
        message_id=str(message.message_id),
        agent_name=message.agent_name,
        summary=message.content[:SUMMARY_CHARS],
        artifacts=attached_files(attachments),
        prompt_tokens=message.prompt_tokens or 0,
        completion_tokens=message.completion_tokens or 0,
        latency_ms=message.latency_ms or 0,
        verdict=verdict["verdict"] if verdict else None,
        findings=len(verdict["findings"]) if verdict else 0,
        reused=True,
    )


def _read_turn(session: Session, store: ArtifactStore, request: TurnRequest) -> _Turn:
    """What the agent reads: the requirement, its task, the run's thread and files (a review: the work it judges)."""
    workflow, agent, seed = load_turn(session, request)
    workflow_id = workflow.workflow_id
    review_ids = [uuid.UUID(a) for a in request.review_artifact_ids]
    context = TurnContext(
        requirement=workflow.requirement,
        step=request.step,
        task=request.task,
        thread=thread_of(session, workflow_id),
        # a review sees the files it judges; every other turn (and a review naming none) the run's latest files
        artifacts=artifact_texts(session, store, workflow_id, review_ids or None),
    )
    work = _work_to_review(session, request, context) if request.kind == "review" else ""
    addressed = addressees(session, request.addressed_to)
    return _Turn(agent, context, work, addressed, seed)


def _work_to_review(session: Session, request: TurnRequest, context: TurnContext) -> str:
    """The message (if named) and the files a review judges, as the reviewer reads them."""
    work = ""
    if request.review_message_id:
        reviewed = session.get(AgentMessage, uuid.UUID(request.review_message_id))
        work = reviewed.content if reviewed else ""
    work = "\n\n".join([work, *(f"`{a.path}`\n```\n{a.content}\n```" for a in context.artifacts)]).strip()
    if not work:
        raise TurnConfigurationError("a review turn needs an artifact or a message to review")
    return work


def _answer(llm: LLMClient, request: TurnRequest, turn: _Turn, on_token: TokenCallback | None) -> _Said:
    """The model's part: a review (with its verdict) or the work produced (with its files)."""
    if request.kind == "review":
        judged = review(
            llm, turn.agent, turn.context, turn.work, subject=request.subject, seed=turn.seed, on_token=on_token
        )
        said = _Said(judged.text, judged.usage, "stop", verdict=judged.verdict)
        if judged.verdict is not None:
            said.attachments.append({"kind": "verdict", **judged.verdict.model_dump()})
        fallbacks = judged.fallbacks
    else:
        produced = produce(
            llm, turn.agent, turn.context, self_check=request.self_check, seed=turn.seed, on_token=on_token
        )
        said = _Said(produced.text, produced.usage, produced.finish_reason)
        said.files = [(f.path, f.code) for f in produced.files]
        fallbacks = produced.fallbacks
    said.attachments += [f.as_attachment() for f in fallbacks]
    return said


def _turn_message(
    request: TurnRequest, message_id: uuid.UUID, workflow_id: uuid.UUID, turn: _Turn, said: _Said
) -> MessageRecord:
    return agent_message(
        message_id,
        workflow_id,
        turn.agent,
        MessageType.REVIEW if request.kind == "review" else request.message_type,
        said.text,
        said.usage,
        parent=optional_uuid(request.parent_message_id),
        addressed=turn.addressed,
        requires_response=request.requires_response,
        urgency=request.urgency,
        attachments=said.attachments,
    )


def _turn_result(message_id: uuid.UUID, agent: AgentConfig, said: _Said, stored: list[StoredFile]) -> TurnResult:
    return TurnResult(
        message_id=str(message_id),
        agent_name=agent.name,
        summary=said.text[:SUMMARY_CHARS],
        artifacts=[f.ref for f in stored],
        prompt_tokens=said.usage.prompt_tokens,
        completion_tokens=said.usage.completion_tokens,
        latency_ms=said.usage.latency_ms,
        verdict=said.verdict.verdict if said.verdict else None,
        findings=len(said.verdict.findings) if said.verdict else 0,
        finish_reason=said.finish_reason,
    )
