"""What every model activity reads and writes, and the agents it holds busy while the model thinks.

- Reading: the run and its agents (`load_turn`, `load_workflow`, `load_agent`, `addressees`), the turn's seed,
  the run's thread and files (`thread_of`, `artifact_texts`, `read_files`).
- Writing: the files an agent wrote (`store_files` into storage, then `record_files` in the turn's transaction) and
  its message (`agent_message`).
- `BusyAgents`: the skeleton each model activity (activities/agent_turns.py, decisions.py, code_writing.py) follows:
  the agents marked `busy` in the transaction that reads their context, the model called with no transaction open
  (a failure releases them), and what they said recorded, with the agents `idle` again, in one transaction at the
  end, so a crash leaves either all of it or none.
"""

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from activities.storage import ArtifactStore, StoredObject, content_type_for
from agents.config import AgentConfig
from agents.context import ArtifactText, ThreadMessage
from agents.llm import LLMError, Usage, derive_seed
from db.enums import AgentStatus, MessageType
from db.models import Agent, AgentMessage, Artifact, Workflow
from db.records import ArtifactRecord, MessageRecord, derive_id, record_artifact, set_agent_status
from db.session import transaction

log = logging.getLogger(__name__)

THREAD_MESSAGES = 40
CONTEXT_FILE_BYTES = 64 * 1024


class TurnConfigurationError(ValueError):
    """The activity cannot run as asked (unknown run or agent): retrying will not help."""


def optional_uuid(value: str | None, *, invalid_is_none: bool = False) -> uuid.UUID | None:
    """The UUID a request names, None when it names none. A value that is not a UUID raises ValueError, unless
    `invalid_is_none` (for ids a person may have typed by hand): then it is None too."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        if invalid_is_none:
            return None
        raise


class OneAgentRequest(Protocol):
    """A request for one agent's turn (`TurnRequest`, `CodeRequest`, `RulingRequest`)."""

    workflow_id: str
    step: str
    turn: str
    agent_id: str


def turn_ids(request: OneAgentRequest) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """The ids of the run, of the agent and of the message the turn records."""
    workflow_id, agent_id = uuid.UUID(request.workflow_id), uuid.UUID(request.agent_id)
    return workflow_id, agent_id, turn_message_id(workflow_id, request.step, request.turn, agent_id)


def turn_message_id(workflow_id: uuid.UUID, step: str, turn: str, agent_id: uuid.UUID) -> uuid.UUID:
    """The id of the message an agent's turn records: a retried turn finds it and returns what it recorded."""
    return derive_id(workflow_id, step, turn, agent_id, "message")


# --- reading the context ---------------------------------------------------------------------------------------


def load_workflow(session: Session, workflow_id: uuid.UUID) -> Workflow:
    workflow = session.get(Workflow, workflow_id)
    if workflow is None:
        raise TurnConfigurationError(f"workflow {workflow_id} does not exist")
    return workflow


def load_agent(session: Session, agent_id: uuid.UUID) -> AgentConfig:
    """The agent as its model calls need it (its role, model settings and system prompt)."""
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise TurnConfigurationError(f"agent {agent_id} does not exist")
    return AgentConfig.from_row(agent)


def load_turn(session: Session, request: OneAgentRequest) -> tuple[Workflow, AgentConfig, int]:
    """The run and the agent of a one-agent turn, and the turn's sampling seed."""
    workflow = load_workflow(session, uuid.UUID(request.workflow_id))
    agent = load_agent(session, uuid.UUID(request.agent_id))
    return workflow, agent, turn_seed(workflow, request.step, request.turn, agent.name)


@dataclass(frozen=True)
class Addressees:
    """Whom a message is addressed to: agent ids and their names, in the same order."""

    ids: list[uuid.UUID] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, agents: list[AgentConfig]) -> "Addressees":
        return cls([a.agent_id for a in agents if a.agent_id], [a.name for a in agents])


def addressees(session: Session, agent_ids: list[str]) -> Addressees:
    """The agents a request addresses, with their names ("" for an id no agent has)."""
    ids = [uuid.UUID(a) for a in agent_ids]
    rows = session.execute(select(Agent.agent_id, Agent.name).where(Agent.agent_id.in_(ids)))
    names = {row.agent_id: row.name for row in rows}
    return Addressees(ids, [names.get(a, "") for a in ids])


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


def read_files(session: Session, store: ArtifactStore, refs: list[dict[str, str]]) -> dict[str, str]:
    """The text of the given artifacts, by path (in the order given)."""
    query = select(Artifact).where(Artifact.id.in_([r["artifact_id"] for r in refs]))
    rows = {str(a.id): a for a in session.scalars(query)}
    return {
        rows[r["artifact_id"]].path: store.get(rows[r["artifact_id"]].object_key).decode("utf-8", "replace")
        for r in refs
        if r["artifact_id"] in rows
    }


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
    store: ArtifactStore,
    workflow_id: uuid.UUID,
    step: str,
    turn: str,
    agent_id: uuid.UUID | None,
    files: list[tuple[str, str]],
) -> list[StoredFile]:
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
                artifact_id=f.artifact_id,
                workflow_id=workflow_id,
                step=step,
                path=f.path,
                object_key=f.stored.key,
                size_bytes=f.stored.size_bytes,
                sha256=f.stored.sha256,
                content_type=f.stored.content_type,
                created_by_agent_id=agent_id,
            ),
        )


def attached_files(attachments: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The files a recorded message names (its `artifact` attachments), as results name them."""
    return [{"artifact_id": a["artifact_id"], "path": a["path"]} for a in attachments if a.get("kind") == "artifact"]


def agent_message(
    message_id: uuid.UUID,
    workflow_id: uuid.UUID,
    agent: AgentConfig,
    message_type: str,
    content: str,
    usage: Usage,
    *,
    parent: uuid.UUID | None = None,
    addressed: Addressees | None = None,
    requires_response: bool = False,
    urgency: str = "medium",
    attachments: list[dict[str, Any]] | None = None,
) -> MessageRecord:
    """A message an agent says (its usage recorded when it took model calls)."""
    addressed = addressed or Addressees()
    return MessageRecord(
        message_id=message_id,
        workflow_id=workflow_id,
        agent_id=agent.agent_id,
        agent_name=agent.name,
        agent_role=agent.role.value,
        message_type=str(message_type),
        content=content,
        parent_message_id=parent,
        addressed_to=[str(a) for a in addressed.ids],
        addressed_to_names=addressed.names,
        requires_response=requires_response,
        urgency=urgency,
        attachments=attachments or [],
        prompt_tokens=usage.prompt_tokens if usage.calls else None,
        completion_tokens=usage.completion_tokens if usage.calls else None,
        latency_ms=usage.latency_ms if usage.calls else None,
    )


# --- the agents, busy around a model call -----------------------------------------------------------------------


@dataclass(frozen=True)
class BusyAgents:
    """The agents of one model call, `busy` from the transaction that reads their context to the one that records
    what they said. Every model activity reads:

        with transaction(engine) as session:
            ...                                      # the recorded answer of a retried activity, else the context
            busy = BusyAgents.start(session, engine, workflow_id, agent_ids, task)
        with busy.model_call():                      # no transaction open; a failure releases the agents
            ...
        with busy.finish() as session:               # what they said, and the agents `idle` again
            ...
    """

    engine: Engine
    workflow_id: uuid.UUID
    agent_ids: list[uuid.UUID]

    @classmethod
    def start(
        cls, session: Session, engine: Engine, workflow_id: uuid.UUID, agent_ids: list[uuid.UUID], task: str
    ) -> "BusyAgents":
        """Mark the agents busy with `task`, in the transaction that read their context."""
        for agent_id in agent_ids:
            set_agent_status(session, agent_id, AgentStatus.BUSY, task, workflow_id)
        return cls(engine, workflow_id, agent_ids)

    @contextmanager
    def model_call(self) -> Iterator[None]:
        """Around the model call (and the storing of what it wrote): a failure releases the agents, then goes on."""
        try:
            yield
        except Exception as exc:
            release_agents(self.engine, self.agent_ids, self.workflow_id, exc)
            raise

    @contextmanager
    def finish(self) -> Iterator[Session]:
        """The transaction that records what the agents said; at its end they are `idle` again."""
        with transaction(self.engine) as session:
            yield session
            for agent_id in self.agent_ids:
                set_agent_status(session, agent_id, AgentStatus.IDLE, None, self.workflow_id)


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
