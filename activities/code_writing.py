"""Code the agents write: the bodies of the `write_code` and `rule_on_tests` activities (the Temporal wrappers in
activities/definitions.py add heartbeats and cancellation).

- `write_code`: the developer writes a module (or repairs it, shown the failing tests), or the tester writes its
  tests from the requirement and the module's signatures (never its bodies); `agents/write_code.py` guards the answer.
- `rule_on_tests`: the reviewer names failing tests that contradict the requirement (the workflow then has the team
  vote on ruling them out, as a decision).

The code is run in activities/pytest_runs.py. Like an agent's turn (activities/agent_turns.py), each is idempotent: ids
derive from (run, step, turn), and a turn already recorded is returned as recorded, without calling the model again;
the agent is busy around the model call (`BusyAgents`, activities/turn_io.py).
"""

import uuid
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from activities.storage import ArtifactStore
from activities.turn_io import (
    Addressees,
    BusyAgents,
    StoredFile,
    addressees,
    agent_message,
    artifact_texts,
    attached_files,
    load_turn,
    optional_uuid,
    read_files,
    record_files,
    store_files,
    thread_of,
    turn_ids,
)
from activities.types import CodeRequest, CodeResult, RulingRequest, RulingResult
from agents.config import AgentConfig
from agents.context import TurnContext
from agents.llm import LLMClient, TokenCallback
from agents.module_files import MISSING, CodeFiles, module_files
from agents.prompts import FailingTest, module_messages, repair_messages, tests_messages
from agents.pytest_file import guard_tests
from agents.python_source import interface, named_modules, path_for_tests, source_of_test
from agents.ruling import rule_on_tests
from agents.write_code import CodeAnswer, write_code
from db.enums import MessageType
from db.models import AgentMessage, Workflow
from db.records import MessageRecord, record_message
from db.session import transaction

# Each candidate after the first is written a little warmer (and with its own seed), so the k differ.
CANDIDATE_WARMER = 0.25
UNCHANGED = "it is the same code that failed: change it so that the failing tests pass"
# 4 to 8 short tests fit in this; a tester that goes on (small models loop) is cut off, and its last test dropped.
TESTS_MAX_TOKENS = 768


# --- writing code ----------------------------------------------------------------------------------------------


def _recorded_code(message: AgentMessage) -> CodeResult:
    attachments = message.attachments or []
    check: dict[str, Any] = next((a for a in attachments if a.get("kind") == "code_check"), {})
    return CodeResult(
        message_id=str(message.message_id),
        agent_name=message.agent_name,
        files=attached_files(attachments),
        error=check.get("error"),
        changes=check.get("changes", []),
        prompt_tokens=message.prompt_tokens or 0,
        completion_tokens=message.completion_tokens or 0,
        latency_ms=message.latency_ms or 0,
        reused=True,
    )


def _guard_note(answer: CodeAnswer) -> str:
    """What the guard did, appended to the message the team reads."""
    notes = [f"Not usable: {answer.error}." if answer.error else "Checked: it compiles."]
    if answer.changes:
        notes.append("The guard " + "; ".join(answer.changes[:6]) + ".")
    return " ".join(notes)


def write_code_turn(
    request: CodeRequest,
    *,
    llm: LLMClient,
    engine: Engine,
    store: ArtifactStore,
    on_token: TokenCallback | None = None,
) -> CodeResult:
    """The developer's module (or its repair), or the tester's tests: guarded, then stored as the turn's files."""
    workflow_id, agent_id, message_id = turn_ids(request)
    with transaction(engine) as session:
        if (existing := session.get(AgentMessage, message_id)) is not None:
            return _recorded_code(existing)
        workflow, agent, seed = load_turn(session, request)
        modules = read_files(session, store, request.modules)
        tests = read_files(session, store, request.tests)
        context = _context(session, store, workflow, request)
        addressed = addressees(session, request.addressed_to)
        busy = BusyAgents.start(session, engine, workflow_id, [agent_id], f"{request.step}: {request.turn}"[:300])

    requirement = workflow.requirement
    with busy.model_call():
        answer = _write(request, llm, agent, context, requirement, modules, tests, seed, on_token)
        stored = store_files(store, workflow_id, request.step, request.turn, agent_id, list(answer.files.items()))

    message = _code_message(request, message_id, workflow_id, agent, addressed, answer, stored)
    with busy.finish() as session:
        record_files(session, workflow_id, request.step, agent_id, stored)
        record_message(session, message)
    usage = answer.usage
    return CodeResult(
        message_id=str(message_id),
        agent_name=agent.name,
        files=[f.ref for f in stored],
        error=answer.error,
        changes=answer.changes,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        latency_ms=usage.latency_ms,
    )


def _code_message(
    request: CodeRequest,
    message_id: uuid.UUID,
    workflow_id: uuid.UUID,
    agent: AgentConfig,
    addressed: Addressees,
    answer: CodeAnswer,
    stored: list[StoredFile],
) -> MessageRecord:
    """The turn's message: the answer and what the guard did, with its files and the guard's check attached."""
    attachments: list[dict[str, Any]] = [{"kind": "artifact", **f.ref} for f in stored]
    check = {"kind": "code_check", "error": answer.error, "changes": answer.changes, "attempts": answer.attempts}
    attachments.append(check)
    return agent_message(
        message_id,
        workflow_id,
        agent,
        MessageType.PROPOSAL,
        f"{answer.text}\n\n{_guard_note(answer)}".strip(),
        answer.usage,
        parent=optional_uuid(request.parent_message_id),
        addressed=addressed,
        attachments=attachments,
    )


def _context(session: Session, store: ArtifactStore, workflow: Workflow, request: CodeRequest) -> TurnContext:
    """What each sees besides the requirement. The tester: the documents (the user stories), no code and no thread
    that quotes code, so its tests come from the requirement. The developer: the team's decisions and a person's
    messages, not the rest of the discussion nor the documents; a small model codes best from a short prompt."""
    if request.purpose == "tests":
        files = artifact_texts(session, store, workflow.workflow_id)
        documents = tuple(f for f in files if not f.path.endswith(".py"))
        return TurnContext(workflow.requirement, request.step, request.task, artifacts=documents)
    thread = thread_of(session, workflow.workflow_id)
    decided = tuple(m for m in thread if m.message_type == MessageType.DECISION or m.role == "human")
    return TurnContext(workflow.requirement, request.step, request.task, decided)


def _write(
    request: CodeRequest,
    llm: LLMClient,
    agent: AgentConfig,
    context: TurnContext,
    requirement: str,
    modules: dict[str, str],
    tests: dict[str, str],
    seed: int,
    on_token: TokenCallback | None,
) -> CodeAnswer:
    """The turn's code; `seed` is the turn's own (each candidate and rewrite is a turn of its own name)."""
    if request.purpose == "tests":
        path = path_for_tests(modules, requirement)
        api = interface(modules) or "(no usable module yet: use the names the requirement gives)"
        return write_code(
            llm,
            agent,
            tests_messages(agent, context, api, path),
            lambda text: guard_tests(text, path, modules),
            max_tokens=TESTS_MAX_TOKENS,
            seed=seed,
            on_token=on_token,
        )
    if request.purpose == "repair":
        failures = [FailingTest(f.name, source_of_test(tests, f.name), f.message) for f in request.failures]
        messages = repair_messages(agent, context, modules, request.passed, request.total, failures, request.problem)

        def changed(text: str) -> CodeFiles:
            """A "repair" that is the failing code again is sent back once; small models often answer so."""
            code = module_files(text, requirement, list(modules))
            same = code.files.keys() == modules.keys() and all(
                code.files[p].split() == modules[p].split() for p in modules
            )
            return replace(code, error=UNCHANGED) if code.error is None and same else code

        answer = write_code(
            llm,
            agent,
            messages,
            changed,
            temperature=_warmer(agent, request.candidate),
            seed=seed,
            on_token=on_token,
        )
        return replace(answer, error=None) if answer.error == UNCHANGED else _tested_anyway(answer)
    answer = write_code(
        llm,
        agent,
        module_messages(agent, context, named_modules(requirement)),
        lambda text: module_files(text, requirement),
        temperature=_warmer(agent, request.attempt),
        seed=seed,
        on_token=on_token,
    )
    return _tested_anyway(answer)


def _warmer(agent: AgentConfig, n: int) -> float:
    """The temperature of the n-th of several answers to one request (candidates, a round's rewrites)."""
    return min(agent.temperature + CANDIDATE_WARMER * (n - 1), 1.0)


def _tested_anyway(answer: CodeAnswer) -> CodeAnswer:
    """Code that still lacks a name the requirement gives, after it was sent back once, is run all the same: the
    failing tests say more to the next repair than a refusal would."""
    if answer.error and answer.error.startswith(MISSING):
        return replace(answer, error=None, changes=[*answer.changes, f"noted: it still {answer.error}"])
    return answer


# --- the reviewer's ruling on failing tests ---------------------------------------------------------------------


def _recorded_ruling(message: AgentMessage) -> RulingResult:
    ruling: dict[str, Any] = next((a for a in message.attachments or [] if a.get("kind") == "ruling"), {})
    proposed = ruling.get("proposed", [])
    return RulingResult(str(message.message_id), proposed, message.prompt_tokens or 0, message.completion_tokens or 0)


def rule_on_failures(
    request: RulingRequest,
    *,
    llm: LLMClient,
    engine: Engine,
    store: ArtifactStore,
    on_token: TokenCallback | None = None,
) -> RulingResult:
    """The reviewer's ruling: the failing tests that contradict the requirement (at most `request.limit`)."""
    workflow_id, agent_id, message_id = turn_ids(request)
    with transaction(engine) as session:
        if (existing := session.get(AgentMessage, message_id)) is not None:
            return _recorded_ruling(existing)
        workflow, agent, seed = load_turn(session, request)
        tests = read_files(session, store, request.tests)
        busy = BusyAgents.start(session, engine, workflow_id, [agent_id], f"{request.step}: ruling on failing tests")

    failures = [FailingTest(f.name, source_of_test(tests, f.name), f.message) for f in request.failures]
    with busy.model_call():
        answer = rule_on_tests(llm, agent, workflow.requirement, failures, seed=seed, on_token=on_token)

    proposed = [{"test": r.test, "reason": r.reason} for r in answer.ruled_out[: request.limit]]
    attachments: list[dict[str, Any]] = [{"kind": "ruling", "proposed": proposed}]
    if answer.fallback is not None:
        content = f"I could not give a readable ruling ({answer.fallback.reason}), so every failing test stands."
        attachments.append(answer.fallback.as_attachment())
    elif proposed:
        lines = "\n".join(f"- `{p['test']}`: {p['reason']}" for p in proposed)
        content = f"These failing tests contradict the requirement, and I propose to rule them out:\n{lines}"
    else:
        content = "Every failing test follows from the requirement: the code must change, not the tests."
    usage = answer.usage
    parent = optional_uuid(request.parent_message_id)
    with busy.finish() as session:
        message = agent_message(
            message_id, workflow_id, agent, MessageType.REVIEW, content, usage, parent=parent, attachments=attachments
        )
        record_message(session, message)
    return RulingResult(str(message_id), proposed, usage.prompt_tokens, usage.completion_tokens)
