"""An agent's turn and a team decision, end to end: read the run's context, think, store files, record it all.

These are the bodies of the `run_agent_turn` and `hold_decision` activities (the Temporal wrappers only add
heartbeats and cancellation). Each is idempotent: ids are derived from (run, step, turn), and a turn whose message
is already recorded returns what it recorded without calling the model again. The model is called with no
database transaction open; everything a turn writes (files' rows, messages, decision, events, agent status) is
committed in one transaction at the end, so a crash leaves either all of it or none.
"""

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from activities.storage import ArtifactStore, StoredObject, content_type_for
from activities.types import DecisionOutcome, DecisionRequest, TurnRequest, TurnResult
from agents.config import AgentConfig
from agents.context import ArtifactText, ThreadMessage, TurnContext
from agents.decide import Variant, decide, options_text
from agents.llm import LLMClient, LLMError, TokenCallback, Usage, derive_seed
from agents.produce import produce
from agents.review import review
from db.enums import AgentStatus, MessageType
from db.models import Agent, AgentMessage, Artifact, Decision, Workflow
from db.records import (
    ArtifactRecord,
    DecisionRecord,
    MessageRecord,
    derive_id,
    record_artifact,
    record_decision,
    record_message,
    set_agent_status,
)
from db.session import transaction

log = logging.getLogger(__name__)

THREAD_MESSAGES = 40
CONTEXT_FILE_BYTES = 64 * 1024
SUMMARY_CHARS = 500


class TurnConfigurationError(ValueError):
    """The turn cannot run as asked (unknown run or agent): retrying will not help."""


# --- reading the context ---------------------------------------------------------------------------------------


def load_workflow(session: Session, workflow_id: uuid.UUID) -> Workflow:
    workflow = session.get(Workflow, workflow_id)
    if workflow is None:
        raise TurnConfigurationError(f"workflow {workflow_id} does not exist")
    return workflow


def load_agent(session: Session, agent_id: uuid.UUID) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise TurnConfigurationError(f"agent {agent_id} does not exist")
    return agent


def turn_seed(workflow: Workflow, *parts: object) -> int:
    """The sampling seed of one turn of a run (its step, turn and agent in `parts`): from the run's `options.seed`
    when set, so the same run samples alike again on the same machine and model, else from the run's id."""
    base = (workflow.options or {}).get("seed")
    return derive_seed(workflow.workflow_id if base is None else base, *parts)


def thread_of(session: Session, workflow_id: uuid.UUID) -> tuple[ThreadMessage, ...]:
    rows = session.scalars(
        select(AgentMessage)
        .where(AgentMessage.workflow_id == workflow_id)
        .order_by(AgentMessage.created_at.desc(), AgentMessage.message_id)
        .limit(THREAD_MESSAGES)
    ).all()
    return tuple(
        ThreadMessage(
            author=m.agent_name,
            role="human" if m.message_type == MessageType.HUMAN else m.agent_role,
            message_type=m.message_type,
            content=m.content,
        )
        for m in reversed(rows)
    )


def _file_text(store: ArtifactStore, artifact: Artifact) -> str | None:
    if artifact.size_bytes > CONTEXT_FILE_BYTES:
        return None
    return store.get(artifact.object_key).decode("utf-8", errors="replace")


def artifact_texts(
    session: Session, store: ArtifactStore, workflow_id: uuid.UUID, only: list[uuid.UUID] | None = None
) -> tuple[ArtifactText, ...]:
    """The latest version of each file of the run (or just the given artifacts), oldest first."""
    query = select(Artifact).where(Artifact.workflow_id == workflow_id).order_by(Artifact.created_at, Artifact.path)
    if only is not None:
        query = query.where(Artifact.id.in_(only))
    latest: dict[str, Artifact] = {}
    for artifact in session.scalars(query):
        latest.pop(artifact.path, None)
        latest[artifact.path] = artifact
    texts = []
    for artifact in latest.values():
        text = _file_text(store, artifact)
        if text is not None:
            texts.append(ArtifactText(path=artifact.path, content=text))
    return tuple(texts)


# --- files an agent wrote ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    artifact_id: uuid.UUID
    path: str
    stored: StoredObject

    @property
    def ref(self) -> dict[str, str]:
        """How results and messages name it."""
        return {"artifact_id": str(self.artifact_id), "path": self.path}


def store_files(
    store: ArtifactStore, workflow_id: uuid.UUID, step: str, turn: str, agent_id: uuid.UUID | None,
    files: list[tuple[str, str]],
) -> list[StoredFile]:  # fmt: skip
    """Put a turn's files in storage (before its transaction: an object without its row is harmless)."""
    stored = []
    for path, text in files:
        artifact_id = derive_id(workflow_id, step, turn, agent_id, "artifact", path)
        key = f"workflows/{workflow_id}/{step}/{turn}/{path}"
        stored.append(StoredFile(artifact_id, path, store.put(key, text.encode(), content_type_for(path))))
    return stored


def record_files(
    session: Session, workflow_id: uuid.UUID, step: str, agent_id: uuid.UUID | None, files: list[StoredFile]
) -> None:
    for f in files:
        record_artifact(
            session,
            ArtifactRecord(
                artifact_id=f.artifact_id, workflow_id=workflow_id, step=step, path=f.path, object_key=f.stored.key,
                size_bytes=f.stored.size_bytes, sha256=f.stored.sha256, content_type=f.stored.content_type,
                created_by_agent_id=agent_id,
            ),
        )  # fmt: skip


def read_files(session: Session, store: ArtifactStore, refs: list[dict[str, str]]) -> dict[str, str]:
    """The text of the given artifacts, by path (in the order given)."""
    query = select(Artifact).where(Artifact.id.in_([r["artifact_id"] for r in refs]))
    rows = {str(a.id): a for a in session.scalars(query)}
    return {
        rows[r["artifact_id"]].path: store.get(rows[r["artifact_id"]].object_key).decode("utf-8", "replace")
        for r in refs
        if r["artifact_id"] in rows
    }


# --- one agent's turn ------------------------------------------------------------------------------------------


def _existing_turn(session: Session, message_id: uuid.UUID) -> TurnResult | None:
    message = session.get(AgentMessage, message_id)
    if message is None:
        return None
    attachments = message.attachments or []
    verdict = next((a for a in attachments if a.get("kind") == "verdict"), None)
    return TurnResult(
        message_id=str(message.message_id),
        agent_name=message.agent_name,
        summary=message.content[:SUMMARY_CHARS],
        artifacts=[
            {"artifact_id": a["artifact_id"], "path": a["path"]} for a in attachments if a.get("kind") == "artifact"
        ],
        prompt_tokens=message.prompt_tokens or 0,
        completion_tokens=message.completion_tokens or 0,
        latency_ms=message.latency_ms or 0,
        verdict=verdict["verdict"] if verdict else None,
        findings=len(verdict["findings"]) if verdict else 0,
        reused=True,
    )


def names_of(session: Session, agent_ids: list[uuid.UUID]) -> list[str]:
    rows = session.execute(select(Agent.agent_id, Agent.name).where(Agent.agent_id.in_(agent_ids)))
    names = {row.agent_id: row.name for row in rows}
    return [names.get(a, "") for a in agent_ids]


def run_agent_turn(
    request: TurnRequest,
    *,
    llm: LLMClient,
    engine: Engine,
    store: ArtifactStore,
    on_token: TokenCallback | None = None,
) -> TurnResult:
    workflow_id, agent_id = uuid.UUID(request.workflow_id), uuid.UUID(request.agent_id)
    message_id = derive_id(workflow_id, request.step, request.turn, agent_id, "message")
    task_label = f"{request.step}: {request.task}"[:300]
    with transaction(engine) as session:
        if (done := _existing_turn(session, message_id)) is not None:
            return done
        workflow = load_workflow(session, workflow_id)
        agent = AgentConfig.from_row(load_agent(session, agent_id))
        review_ids = [uuid.UUID(a) for a in request.review_artifact_ids]
        context = TurnContext(
            requirement=workflow.requirement,
            step=request.step,
            task=request.task,
            thread=thread_of(session, workflow_id),
            # a review sees the files it judges; every other turn (and a review naming none) the run's latest files
            artifacts=artifact_texts(session, store, workflow_id, review_ids or None),
        )
        work = ""
        if request.kind == "review":
            if request.review_message_id:
                reviewed = session.get(AgentMessage, uuid.UUID(request.review_message_id))
                work = reviewed.content if reviewed else ""
            work = "\n\n".join([work, *(f"`{a.path}`\n```\n{a.content}\n```" for a in context.artifacts)]).strip()
            if not work:
                raise TurnConfigurationError("a review turn needs an artifact or a message to review")
        addressed = [uuid.UUID(a) for a in request.addressed_to]
        addressed_names = names_of(session, addressed)
        seed = turn_seed(workflow, request.step, request.turn, agent.name)
        set_agent_status(session, agent_id, AgentStatus.BUSY, task_label, workflow_id)

    try:
        attachments: list[dict[str, Any]] = []
        files: list[tuple[str, str]] = []
        verdict = None
        if request.kind == "review":
            judged = review(llm, agent, context, work, subject=request.subject, seed=seed, on_token=on_token)
            text, usage, finish, fallbacks = judged.text, judged.usage, "stop", judged.fallbacks
            verdict = judged.verdict
            if verdict is not None:
                attachments.append({"kind": "verdict", **verdict.model_dump()})
        else:
            produced = produce(llm, agent, context, self_check=request.self_check, seed=seed, on_token=on_token)
            text, usage, finish, fallbacks = produced.text, produced.usage, produced.finish_reason, produced.fallbacks
            files = [(f.path, f.code) for f in produced.files]
        attachments += [f.as_attachment() for f in fallbacks]

        stored = store_files(store, workflow_id, request.step, request.turn, agent_id, files)
        attachments += [{"kind": "artifact", "artifact_id": str(f.artifact_id), "path": f.path} for f in stored]
    except Exception as exc:
        release_agents(engine, [agent_id], workflow_id, exc)
        raise

    with transaction(engine) as session:
        record_files(session, workflow_id, request.step, agent_id, stored)
        record_message(
            session,
            MessageRecord(
                message_id=message_id,
                workflow_id=workflow_id,
                agent_id=agent_id,
                agent_name=agent.name,
                agent_role=agent.role.value,
                message_type=MessageType.REVIEW.value if request.kind == "review" else request.message_type,
                content=text,
                parent_message_id=uuid.UUID(request.parent_message_id) if request.parent_message_id else None,
                addressed_to=[str(a) for a in addressed],
                addressed_to_names=addressed_names,
                requires_response=request.requires_response,
                urgency=request.urgency,
                attachments=attachments,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                latency_ms=usage.latency_ms,
            ),
        )
        set_agent_status(session, agent_id, AgentStatus.IDLE, None, workflow_id)
    return TurnResult(
        message_id=str(message_id),
        agent_name=agent.name,
        summary=text[:SUMMARY_CHARS],
        artifacts=[f.ref for f in stored],
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        latency_ms=usage.latency_ms,
        verdict=verdict.verdict if verdict else None,
        findings=len(verdict.findings) if verdict else 0,
        finish_reason=finish,
    )


def release_agents(engine: Engine, agent_ids: list[uuid.UUID], workflow_id: uuid.UUID, exc: Exception) -> None:
    """After a failed turn: the agents are `error` when the model failed, else (e.g. cancelled) back to `idle`."""
    failed = isinstance(exc, LLMError)
    status, task = (AgentStatus.ERROR, f"failed: {exc}"[:300]) if failed else (AgentStatus.IDLE, None)
    try:
        with transaction(engine) as session:
            for agent_id in agent_ids:
                set_agent_status(session, agent_id, status, task, workflow_id)
    except Exception:  # the turn's own error is the one to report
        log.exception("could not reset the status of agents %s", agent_ids)


# --- a decision ------------------------------------------------------------------------------------------------


def decision_id_of(workflow_id: uuid.UUID, step: str, key: str) -> uuid.UUID:
    """The id of the decision a step holds under `key` (the workflows use the step's name)."""
    return derive_id(workflow_id, step, key, "decision")


def hold_decision(
    request: DecisionRequest,
    *,
    llm: LLMClient,
    engine: Engine,
    store: ArtifactStore,
    on_token: TokenCallback | None = None,
) -> DecisionOutcome:
    workflow_id = uuid.UUID(request.workflow_id)
    decision_id = decision_id_of(workflow_id, request.step, request.key)
    agent_ids = [uuid.UUID(a) for a in dict.fromkeys(request.agent_ids)]
    with transaction(engine) as session:
        existing = session.get(Decision, decision_id)
        if existing is not None:
            chosen: dict[str, Any] = next(
                (v for v in existing.variants if v.get("id") == existing.chosen_variant_id), {}
            )
            return DecisionOutcome(
                decision_id=str(decision_id),
                chosen_variant_id=existing.chosen_variant_id or "",
                chosen_title=chosen.get("title", ""),
                tally={
                    v["id"]: sum(1 for x in existing.votes or [] if x["variant_id"] == v["id"])
                    for v in existing.variants
                },
                votes=len(existing.votes or []),
                discussion_thread_id=str(existing.discussion_thread_id),
                **_thread_usage(session, existing.discussion_thread_id),
                reused=True,
                uncontested=existing.uncontested,
            )
        workflow = load_workflow(session, workflow_id)
        voters = [AgentConfig.from_row(load_agent(session, a)) for a in agent_ids]
        if not voters:
            raise TurnConfigurationError("a decision needs at least one responsible agent")
        context = TurnContext(
            requirement=workflow.requirement,
            step=request.step,
            task=f"Decide: {request.problem}",
            thread=thread_of(session, workflow_id),
            artifacts=artifact_texts(session, store, workflow_id),
        )
        seed = turn_seed(workflow, request.step, request.key, "decision")
        for a in agent_ids:
            set_agent_status(
                session, a, AgentStatus.BUSY, f"{request.step}: voting on {request.problem}"[:300], workflow_id
            )

    given = None
    if request.variants:
        given = [
            Variant(id=chr(ord("A") + i), title=v["title"], description=v.get("description", ""))
            for i, v in enumerate(request.variants)
        ]
    try:
        result = decide(
            llm, request.problem, voters, context, description=request.description, variants=given, seed=seed,
            on_token=on_token,
        )  # fmt: skip
    except Exception as exc:
        release_agents(engine, agent_ids, workflow_id, exc)
        raise

    lead = voters[0]
    usage = result.usage
    root_id = derive_id(workflow_id, request.step, request.key, "decision-thread")
    options = options_text(result.variants)
    with transaction(engine) as session:
        record_message(
            session,
            agent_message(
                root_id, workflow_id, lead, MessageType.PROPOSAL,
                f"Decision needed: {request.problem}\n{request.description}".strip() + f"\n\nOptions:\n{options}",
                result.proposal_usage, addressed=voters, requires_response=True,
            ),
        )  # fmt: skip
        votes = []
        for vote in result.votes:
            vote_id = derive_id(workflow_id, request.step, request.key, "vote", vote.agent.agent_id)
            content = f"I vote {vote.variant_id}: {vote.reason}" if vote.variant_id else f"I abstain: {vote.reason}"
            record_message(
                session,
                agent_message(
                    vote_id, workflow_id, vote.agent, MessageType.ANSWER, content, vote.usage, parent=root_id
                ),
            )
            if vote.variant_id:  # an abstention is in the thread, not among the votes
                votes.append({**vote.as_dict(), "message_id": str(vote_id)})
        winner = result.chosen
        label = "Decision (uncontested)" if result.uncontested else "Decision"
        record_message(
            session,
            agent_message(
                derive_id(workflow_id, request.step, request.key, "decision-message"), workflow_id, lead,
                MessageType.DECISION, f"{label}: {winner.id} - {winner.title}\n\n{result.justification}",
                result.justification_usage,
                parent=root_id, attachments=[f.as_attachment() for f in result.fallbacks],
            ),
        )  # fmt: skip
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
        for a in agent_ids:
            set_agent_status(session, a, AgentStatus.IDLE, None, workflow_id)
    return DecisionOutcome(
        decision_id=str(decision_id),
        chosen_variant_id=result.chosen_variant_id,
        chosen_title=winner.title,
        tally=result.tally,
        votes=len(votes),
        discussion_thread_id=str(root_id),
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        uncontested=result.uncontested,
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


def agent_message(
    message_id: uuid.UUID,
    workflow_id: uuid.UUID,
    agent: AgentConfig,
    message_type: MessageType,
    content: str,
    usage: Usage,
    *,
    parent: uuid.UUID | None = None,
    addressed: list[AgentConfig] | None = None,
    requires_response: bool = False,
    attachments: list[dict[str, Any]] | None = None,
) -> MessageRecord:
    """A message an agent says (its usage recorded when it took model calls)."""
    addressed = addressed or []
    return MessageRecord(
        message_id=message_id,
        workflow_id=workflow_id,
        agent_id=agent.agent_id,
        agent_name=agent.name,
        agent_role=agent.role.value,
        message_type=message_type.value,
        content=content,
        parent_message_id=parent,
        addressed_to=[str(a.agent_id) for a in addressed if a.agent_id],
        addressed_to_names=[a.name for a in addressed],
        requires_response=requires_response,
        attachments=attachments or [],
        prompt_tokens=usage.prompt_tokens if usage.calls else None,
        completion_tokens=usage.completion_tokens if usage.calls else None,
        latency_ms=usage.latency_ms if usage.calls else None,
    )
