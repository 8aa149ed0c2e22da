"""The agents' code, run: the bodies of the `run_tests` and `record_test_outcome` activities (their Temporal
wrappers are in activities/definitions.py; the one of `run_tests` heartbeats, and a cancel kills the test run).

- `run_tests`: the module(s) and their tests go into the sandbox (activities/sandbox.py); the round's result is
  recorded as the tester's `review` message and a `workflow_progress_update` event with the tests passed and total.
  Idempotent: a round already recorded is returned as recorded, without running the sandbox again.
- `record_test_outcome`: the final module, its tests and the test report (Markdown and JSON) become the step's
  artifacts.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from sqlalchemy import Engine

from activities import sandbox
from activities.sandbox import Limits, SandboxResult, TestOutcome
from activities.storage import ArtifactStore
from activities.turn_io import (
    StoredFile,
    TurnConfigurationError,
    agent_message,
    load_agent,
    load_workflow,
    optional_uuid,
    read_files,
    record_files,
    store_files,
    turn_message_id,
)
from activities.types import TestOutcomeRequest, TestRound, TestRunRequest
from agents.llm import Usage
from agents.prompts import first_line
from agents.python_source import exception_names, is_test_path
from db.enums import MessageType
from db.events import EventType, append_event
from db.models import AgentMessage
from db.records import record_message
from db.session import transaction

REPORT_TESTS = 200


# --- a test round in the sandbox --------------------------------------------------------------------------------------


def run_tests(
    request: TestRunRequest,
    *,
    engine: Engine,
    store: ArtifactStore,
    limits: Limits,
    should_stop: Callable[[], bool],
) -> TestRound | None:
    """The tests on the code, in the sandbox; the round recorded. None when `should_stop` stopped it (a cancel)."""
    workflow_id, agent_id = uuid.UUID(request.workflow_id), uuid.UUID(request.agent_id)
    turn = f"tests-{request.round}-{request.candidate}"
    message_id = turn_message_id(workflow_id, request.step, turn, agent_id)
    with transaction(engine) as session:
        named = exception_names(load_workflow(session, workflow_id).requirement)
        if (existing := session.get(AgentMessage, message_id)) is not None:
            recorded = next(a for a in existing.attachments or [] if a.get("kind") == "test_run")
            return TestRound(str(message_id), _result_from(recorded["result"]), named)
        agent = load_agent(session, agent_id)
        files = {**read_files(session, store, request.modules), **read_files(session, store, request.tests)}
    if not any(is_test_path(path) for path in files):
        raise TurnConfigurationError("a test run needs a test file")
    result = sandbox.run_pytest(
        files, limits=request.limits or limits, deselect=request.deselect, should_stop=should_stop
    )
    if result.reason == "cancelled":
        return None
    result = result.compact()
    tests = {"round": request.round, "candidate": request.candidate, **_counts(result)}
    with transaction(engine) as session:
        message = agent_message(
            message_id,
            workflow_id,
            agent,
            MessageType.REVIEW,
            round_report(request, result),
            Usage(),
            parent=optional_uuid(request.parent_message_id),
            attachments=[{"kind": "test_run", **tests, "result": asdict(result)}],
        )
        record_message(session, message)
        append_event(session, workflow_id, EventType.WORKFLOW_PROGRESS_UPDATE, {"step": request.step, "tests": tests})
    return TestRound(str(message_id), result, named)


def _counts(result: SandboxResult) -> dict[str, Any]:
    """A test run's outcome in numbers, as its message, its event and the report give it."""
    return {
        "status": result.status,
        "passed": result.passed,
        "failed": result.failed,
        "errors": result.errors,
        "total": result.total,
        "reason": result.reason,
    }


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


# --- the outcome as artifacts ----------------------------------------------------------------------------------


def record_test_outcome(request: TestOutcomeRequest, *, engine: Engine, store: ArtifactStore) -> list[dict[str, str]]:
    """The final module(s), their tests and the test report (Markdown and JSON), as the step's artifacts."""
    workflow_id, agent_id = uuid.UUID(request.workflow_id), uuid.UUID(request.agent_id)
    with transaction(engine) as session:
        modules = read_files(session, store, request.modules)
        tests = read_files(session, store, request.tests)
    report = test_report(request, modules, tests)
    files = [
        *modules.items(),
        *tests.items(),
        ("reports/test-report.md", report),
        ("reports/test-report.json", json.dumps(report_data(request, modules, tests), indent=2)),
    ]
    stored: list[StoredFile] = store_files(store, workflow_id, request.step, "outcome", agent_id, files)
    with transaction(engine) as session:
        record_files(session, workflow_id, request.step, agent_id, stored)
    return [f.ref for f in stored]


def report_data(request: TestOutcomeRequest, modules: dict[str, str], tests: dict[str, str]) -> dict[str, Any]:
    result = request.result
    return {
        **_counts(result),
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
            "passing the most tests went on.",
            "",
        ]
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
    lines += [
        "",
        "## Run them again",
        "",
        "Put the files above in one directory (keeping their paths) and run, with Python 3.11 and pytest:",
        "",
        "```sh",
        rerun_command(request),
        "```",
        "",
    ]
    return "\n".join(lines)
