"""Code that is run: the bodies of the `write_code`, `rule_on_tests`, `run_tests` and `record_test_outcome`
activities (the Temporal wrappers in activities/definitions.py add heartbeats and cancellation).

- `write_code`: the developer writes a module (or repairs it, shown the failing tests), or the tester writes its
  tests from the requirement and the module's signatures (never its bodies); `agents/write_code.py` guards the answer.
- `rule_on_tests`: the reviewer names failing tests that contradict the requirement (the workflow then has the team
  vote on ruling them out, as a decision).
- `run_tests`: the files go into the sandbox (activities/sandbox.py); the round's result is recorded as the tester's
  `review` message and a `workflow_progress_update` event with the tests passed and total.
- `record_test_outcome`: the final module, its tests and the test report become the step's artifacts.

Like an agent's turn (activities/agent_turns.py), each is idempotent: ids derive from (run, step, turn), and a turn
or test round already recorded is returned as recorded, without calling the model or the sandbox again.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from activities import sandbox
from activities.agent_turns import (
    StoredFile,
    TurnConfigurationError,
    agent_message,
    artifact_texts,
    load_agent,
    load_workflow,
    names_of,
    read_files,
    record_files,
    release_agents,
    store_files,
    thread_of,
    turn_seed,
)
from activities.sandbox import Limits, SandboxResult, TestOutcome
from activities.storage import ArtifactStore
from activities.types import (
    CodeRequest,
    CodeResult,
    RulingRequest,
    RulingResult,
    TestOutcomeRequest,
    TestRound,
    TestRunRequest,
)
from agents.config import AgentConfig
from agents.context import TurnContext
from agents.llm import LLMClient, TokenCallback, Usage
from agents.prompts import FailingTest, first_line, module_messages, repair_messages, tests_messages
from agents.python_source import (
    MISSING,
    CodeFiles,
    exception_names,
    guard_tests,
    interface,
    is_test_path,
    module_files,
    named_modules,
    path_for_tests,
    source_of_test,
)
from agents.write_code import CodeAnswer, rule_on_tests, write_code
from db.enums import AgentStatus, MessageType
from db.events import EventType, append_event
from db.models import AgentMessage, Workflow
from db.records import MessageRecord, derive_id, record_message, set_agent_status
from db.session import transaction

# Each candidate after the first is written a little warmer (and with its own seed), so the k differ.
CANDIDATE_WARMER = 0.25
UNCHANGED = "it is the same code that failed: change it so that the failing tests pass"
# 4 to 8 short tests fit in this; a tester that goes on (small models loop) is cut off, and its last test dropped.
TESTS_MAX_TOKENS = 768
REPORT_TESTS = 200


# --- writing code ----------------------------------------------------------------------------------------------


def _recorded_code(message: AgentMessage) -> CodeResult:
    attachments = message.attachments or []
    check: dict[str, Any] = next((a for a in attachments if a.get("kind") == "code_check"), {})
    return CodeResult(
        message_id=str(message.message_id),
        agent_name=message.agent_name,
        files=[
            {"artifact_id": a["artifact_id"], "path": a["path"]} for a in attachments if a.get("kind") == "artifact"
        ],
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
    workflow_id, agent_id = uuid.UUID(request.workflow_id), uuid.UUID(request.agent_id)
    message_id = derive_id(workflow_id, request.step, request.turn, agent_id, "message")
    with transaction(engine) as session:
        if (existing := session.get(AgentMessage, message_id)) is not None:
            return _recorded_code(existing)
        workflow = load_workflow(session, workflow_id)
        agent = AgentConfig.from_row(load_agent(session, agent_id))
        modules = read_files(session, store, request.modules)
        tests = read_files(session, store, request.tests)
        context = _context(session, store, workflow, request)
        addressed = [uuid.UUID(a) for a in request.addressed_to]
        addressed_names = names_of(session, addressed)
        seed = turn_seed(workflow, request.step, request.turn, agent.name)
        set_agent_status(session, agent_id, AgentStatus.BUSY, f"{request.step}: {request.turn}"[:300], workflow_id)

    requirement = workflow.requirement
    try:
        answer = _write(request, llm, agent, context, requirement, modules, tests, seed, on_token)
        stored = store_files(store, workflow_id, request.step, request.turn, agent_id, list(answer.files.items()))
    except Exception as exc:
        release_agents(engine, [agent_id], workflow_id, exc)
        raise

    attachments: list[dict[str, Any]] = [{"kind": "artifact", **f.ref} for f in stored]
    attachments.append({"kind": "code_check", "error": answer.error, "changes": answer.changes,
                        "attempts": answer.attempts})  # fmt: skip
    with transaction(engine) as session:
        record_files(session, workflow_id, request.step, agent_id, stored)
        record_message(
            session,
            MessageRecord(
                message_id=message_id, workflow_id=workflow_id, agent_id=agent_id, agent_name=agent.name,
                agent_role=agent.role.value, message_type=MessageType.PROPOSAL.value,
                content=f"{answer.text}\n\n{_guard_note(answer)}".strip(),
                parent_message_id=_as_uuid(request.parent_message_id),
                addressed_to=[str(a) for a in addressed], addressed_to_names=addressed_names,
                attachments=attachments, prompt_tokens=answer.usage.prompt_tokens,
                completion_tokens=answer.usage.completion_tokens, latency_ms=answer.usage.latency_ms,
            ),
        )  # fmt: skip
        set_agent_status(session, agent_id, AgentStatus.IDLE, None, workflow_id)
    return CodeResult(
        message_id=str(message_id), agent_name=agent.name, files=[f.ref for f in stored], error=answer.error,
        changes=answer.changes, prompt_tokens=answer.usage.prompt_tokens,
        completion_tokens=answer.usage.completion_tokens, latency_ms=answer.usage.latency_ms,
    )  # fmt: skip


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
    request: CodeRequest, llm: LLMClient, agent: AgentConfig, context: TurnContext, requirement: str,
    modules: dict[str, str], tests: dict[str, str], seed: int, on_token: TokenCallback | None,
) -> CodeAnswer:  # fmt: skip
    """The turn's code; `seed` is the turn's own (each candidate and rewrite is a turn of its own name)."""
    if request.purpose == "tests":
        path = path_for_tests(modules, requirement)
        api = interface(modules) or "(no usable module yet: use the names the requirement gives)"
        return write_code(
            llm, agent, tests_messages(agent, context, api, path), lambda text: guard_tests(text, path, modules),
            max_tokens=TESTS_MAX_TOKENS, seed=seed, on_token=on_token,
        )  # fmt: skip
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
            llm, agent, messages, changed, temperature=_warmer(agent, request.candidate), seed=seed, on_token=on_token,
        )  # fmt: skip
        return replace(answer, error=None) if answer.error == UNCHANGED else _tested_anyway(answer)
    answer = write_code(
        llm, agent, module_messages(agent, context, named_modules(requirement)),
        lambda text: module_files(text, requirement), temperature=_warmer(agent, request.attempt), seed=seed,
        on_token=on_token,
    )  # fmt: skip
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


def rule_on_failures(
    request: RulingRequest,
    *,
    llm: LLMClient,
    engine: Engine,
    store: ArtifactStore,
    on_token: TokenCallback | None = None,
) -> RulingResult:
    workflow_id, agent_id = uuid.UUID(request.workflow_id), uuid.UUID(request.agent_id)
    message_id = derive_id(workflow_id, request.step, request.turn, agent_id, "message")
    with transaction(engine) as session:
        if (existing := session.get(AgentMessage, message_id)) is not None:
            ruling: dict[str, Any] = next((a for a in existing.attachments or [] if a.get("kind") == "ruling"), {})
            return RulingResult(str(message_id), ruling.get("proposed", []), existing.prompt_tokens or 0,
                                existing.completion_tokens or 0)  # fmt: skip
        workflow = load_workflow(session, workflow_id)
        agent = AgentConfig.from_row(load_agent(session, agent_id))
        tests = read_files(session, store, request.tests)
        seed = turn_seed(workflow, request.step, request.turn, agent.name)
        set_agent_status(session, agent_id, AgentStatus.BUSY, f"{request.step}: ruling on failing tests", workflow_id)
    failures = [FailingTest(f.name, source_of_test(tests, f.name), f.message) for f in request.failures]
    try:
        answer = rule_on_tests(llm, agent, workflow.requirement, failures, seed=seed, on_token=on_token)
    except Exception as exc:
        release_agents(engine, [agent_id], workflow_id, exc)
        raise
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
    with transaction(engine) as session:
        message = agent_message(
            message_id, workflow_id, agent, MessageType.REVIEW, content, usage,
            parent=_as_uuid(request.parent_message_id), attachments=attachments,
        )  # fmt: skip
        record_message(session, message)
        set_agent_status(session, agent_id, AgentStatus.IDLE, None, workflow_id)
    return RulingResult(str(message_id), proposed, usage.prompt_tokens, usage.completion_tokens)


def _as_uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


# --- a test round in the sandbox ----------------------------------------------------------------------------------


def run_tests(
    request: TestRunRequest, *, engine: Engine, store: ArtifactStore, limits: Limits,
    should_stop: Callable[[], bool],
) -> TestRound | None:  # fmt: skip
    """The tests on the code, in the sandbox; the round recorded. None when `should_stop` stopped it (a cancel)."""
    workflow_id, agent_id = uuid.UUID(request.workflow_id), uuid.UUID(request.agent_id)
    turn = f"tests-{request.round}-{request.candidate}"
    message_id = derive_id(workflow_id, request.step, turn, agent_id, "message")
    with transaction(engine) as session:
        named = exception_names(load_workflow(session, workflow_id).requirement)
        if (existing := session.get(AgentMessage, message_id)) is not None:
            recorded = next(a for a in existing.attachments or [] if a.get("kind") == "test_run")
            return TestRound(str(message_id), _result_from(recorded["result"]), named)
        agent = AgentConfig.from_row(load_agent(session, agent_id))
        files = {**read_files(session, store, request.modules), **read_files(session, store, request.tests)}
    if not any(is_test_path(path) for path in files):
        raise TurnConfigurationError("a test run needs a test file")
    result = sandbox.run_pytest(
        files, limits=request.limits or limits, deselect=request.deselect, should_stop=should_stop
    )
    if result.reason == "cancelled":
        return None
    result = result.compact()
    tests = {"round": request.round, "candidate": request.candidate, "status": result.status,
             "passed": result.passed, "failed": result.failed, "errors": result.errors,
             "total": result.total, "reason": result.reason}  # fmt: skip
    with transaction(engine) as session:
        message = agent_message(
            message_id, workflow_id, agent, MessageType.REVIEW, round_report(request, result), Usage(),
            parent=_as_uuid(request.parent_message_id),
            attachments=[{"kind": "test_run", **tests, "result": asdict(result)}],
        )  # fmt: skip
        record_message(session, message)
        append_event(session, workflow_id, EventType.WORKFLOW_PROGRESS_UPDATE, {"step": request.step, "tests": tests})
    return TestRound(str(message_id), result, named)


def _result_from(data: dict[str, Any]) -> SandboxResult:
    return SandboxResult(**{**data, "tests": [TestOutcome(**t) for t in data.get("tests", [])]})


def round_report(request: TestRunRequest, result: SandboxResult) -> str:
    """The round as the tester reports it to the team: counts, then each failure's last line."""
    of = f", candidate {request.candidate} of {request.candidates}" if request.candidates > 1 else ""
    head = "Final test run of the code kept" if request.final else f"Test round {request.round}{of}"
    seconds = result.duration_ms / 1000
    if result.total == 0 or result.status == "stopped":
        return f"{head}: no test result: {result.reason} ({seconds:.1f} s)."
    lines = [f"{head}: {result.passed} of {result.total} tests pass ({seconds:.1f} s)."]
    lines += [f"- `{t.name}` {t.outcome}: {first_line(t.message)[:200]}" for t in result.failures[:10]]
    if request.deselect:
        lines.append(f"Ruled out and not run: {', '.join(f'`{n}`' for n in request.deselect)}.")
    return "\n".join(lines)


# --- the outcome as artifacts ---------------------------------------------------------------------------------------


def record_test_outcome(request: TestOutcomeRequest, *, engine: Engine, store: ArtifactStore) -> list[dict[str, str]]:
    """The final module(s), their tests and the test report (Markdown and JSON), as the step's artifacts."""
    workflow_id, agent_id = uuid.UUID(request.workflow_id), uuid.UUID(request.agent_id)
    with transaction(engine) as session:
        modules = read_files(session, store, request.modules)
        tests = read_files(session, store, request.tests)
    report = test_report(request, modules, tests)
    files = [*modules.items(), *tests.items(), ("reports/test-report.md", report),
             ("reports/test-report.json", json.dumps(report_data(request, modules, tests), indent=2))]  # fmt: skip
    stored: list[StoredFile] = store_files(store, workflow_id, request.step, "outcome", agent_id, files)
    with transaction(engine) as session:
        record_files(session, workflow_id, request.step, agent_id, stored)
    return [f.ref for f in stored]


def report_data(request: TestOutcomeRequest, modules: dict[str, str], tests: dict[str, str]) -> dict[str, Any]:
    result = request.result
    return {
        "status": result.status,
        "passed": result.passed,
        "failed": result.failed,
        "errors": result.errors,
        "total": result.total,
        "reason": result.reason,
        "modules": list(modules),
        "test_files": list(tests),
        "ruled_out": request.ruled_out,
        "rounds": [asdict(r) for r in request.rounds],
        "max_rounds": request.max_rounds,
        "candidates": request.candidates,
        "tests": [asdict(t) for t in result.tests[:REPORT_TESTS]],
        "rerun": rerun_command(request),
    }


def rerun_command(request: TestOutcomeRequest) -> str:
    return "python -m pytest -q" + "".join(f" --deselect '{r['test']}'" for r in request.ruled_out)


def test_report(request: TestOutcomeRequest, modules: dict[str, str], tests: dict[str, str]) -> str:
    """The report a person reads: what the last test run says, and how to run it again."""
    result = request.result
    last = request.rounds[-1].round if request.rounds else 0
    if result.status == "passed":
        verdict = f"**Passed**: all {result.total} tests pass (round {last} of at most {request.max_rounds})."
    elif result.total:
        verdict = (
            f"**Not passing**: {result.passed} of {result.total} tests pass after round {last} of at most "
            f"{request.max_rounds}."
        )
    else:
        verdict = f"**Not verified**: {result.reason or 'no test ran'}."
    lines = ["# Test report", "", verdict, ""]
    lines += ["Files:", *(f"- `{p}`" for p in [*modules, *tests]), ""]
    if request.candidates > 1:
        lines += [
            f"Candidates written: {request.candidates} in round 1, and as many rewrites in each repair; the one "
            "passing the most tests went on.", "",
        ]  # fmt: skip
    if request.ruled_out:
        lines += ["Ruled out by the team's decision (they contradict the requirement):"]
        lines += [f"- `{r['test']}`: {r['reason']}" for r in request.ruled_out] + [""]
    lines += ["## Rounds", "", "| round | candidate | result |", "|---|---|---|"]
    for r in request.rounds:
        outcome = f"{r.passed} of {r.total} pass" if r.total else (r.reason or r.status)
        lines.append(f"| {r.round} | {r.candidate} | {outcome} |")
    lines += ["", "## Tests of the last run", "", "| test | outcome | seconds |", "|---|---|---|"]
    lines += [f"| `{t.name}` | {t.outcome} | {t.seconds:.3f} |" for t in result.tests[:REPORT_TESTS]]
    for t in result.failures:
        lines += ["", f"### `{t.name}`", "```", t.message, "```"]
    lines += ["", "## Run them again", "",
              "Put the files above in one directory (keeping their paths) and run, with Python 3.11 and pytest:", "",
              "```sh", rerun_command(request), "```", ""]  # fmt: skip
    return "\n".join(lines)
