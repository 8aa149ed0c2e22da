"""The sandbox runs real pytest on code it is given, and code that tries to get out is stopped and reported."""

import os
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import replace

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from temporalio.exceptions import CancelledError
from temporalio.testing import ActivityEnvironment

from activities.definitions import ConclaveActivities
from activities.sandbox import Limits, UnsafePath, isolation_available, run_pytest
from activities.storage import ArtifactStore
from activities.turn_io import record_files, store_files
from activities.types import TestRunRequest
from config import ROOT, Settings
from db.models import Agent, AgentMessage, Project, Workflow, WorkflowEvent

MODULE = "def add(a, b):\n    return a + b\n"
FAST = Limits(wall_seconds=20)

needs_root = pytest.mark.skipif(not isolation_available(), reason="the namespaces need root, unshare and setpriv")


def with_test(body: str) -> dict[str, str]:
    """A module and one test whose body is `body` (indented by the caller's dedent)."""
    lines = "\n".join(f"    {line}" for line in body.strip().splitlines())
    return {"mod.py": MODULE, "test_it.py": f"import os, socket\nfrom mod import add\n\ndef test_it():\n{lines}\n"}


def test_passing_and_failing_tests_are_counted_with_their_errors():
    files = {
        "mod.py": MODULE,
        "tests/test_mod.py": "from mod import add\n\ndef test_ok():\n    assert add(1, 2) == 3\n\n"
        "def test_wrong():\n    assert add(2, 2) == 5\n",
    }
    result = run_pytest(files, limits=FAST)
    assert (result.status, result.passed, result.failed, result.errors) == ("failed", 1, 1, 0)
    wrong = next(t for t in result.tests if t.name.endswith("test_wrong"))
    assert wrong.outcome == "failed" and "assert 4 == 5" in wrong.message
    assert run_pytest({**files, "tests/test_mod.py": "def test_ok():\n    pass\n"}, limits=FAST).status == "passed"


def test_a_module_that_does_not_import_is_an_error_not_a_pass():
    result = run_pytest({"mod.py": "def add(a, b) return a\n", "test_mod.py": "from mod import add\n"}, limits=FAST)
    assert result.status == "failed" and result.errors == 1 and "SyntaxError" in result.tests[0].message
    assert run_pytest({"mod.py": MODULE}, limits=FAST).reason == "no tests ran"


def test_the_code_runs_at_a_lower_priority_than_the_worker():
    # a test run yields the cores to the model's generation beside it, and cannot take the priority back
    ours = os.nice(0)
    files = with_test(
        f"assert os.nice(0) == {ours} + 7\ntry:\n    os.nice(-1)\nexcept PermissionError:\n    pass\n"
        f"assert os.nice(0) >= {ours} + 7"
    )
    result = run_pytest(files, limits=replace(FAST, niceness=7))
    assert result.status == "passed", result.output


def test_nothing_of_ours_reaches_the_code(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://secret@db/conclave")
    monkeypatch.setenv("JIRA_API_TOKEN", "secret-token")
    result = run_pytest(with_test("assert not [k for k in os.environ if 'DATABASE' in k or 'TOKEN' in k]"), limits=FAST)
    assert result.status == "passed", result.output


def test_file_names_stay_inside():
    for name in ("../evil.py", "/etc/evil.py", "a/../../evil.py"):
        with pytest.raises(UnsafePath):
            run_pytest({name: "x = 1\n"})


@needs_root
def test_writing_outside_its_directory_is_refused():
    outside = [f"/tmp/conclave-escape-{uuid.uuid4().hex}", str(ROOT / f"escape-{uuid.uuid4().hex}")]
    body = f"""
for path in {outside!r}:
    try:
        open(path, "w").write("out")
    except OSError:
        pass
    else:
        raise AssertionError("wrote " + path)
open("inside.txt", "w").write("in")
"""
    result = run_pytest(with_test(body), limits=FAST)
    assert result.status == "passed", result.output
    assert not any(os.path.exists(path) for path in outside)


@needs_root
def test_no_network_not_even_the_hosts_loopback():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        threading.Thread(target=lambda: server.accept(), daemon=True).start()
        body = f"""
for address in [("127.0.0.1", {port}), ("1.1.1.1", 53)]:
    try:
        socket.create_connection(address, timeout=2)
    except OSError:
        continue
    raise AssertionError(f"connected to {{address}}")
"""
        result = run_pytest(with_test(body), limits=FAST)
    assert result.status == "passed", result.output


@needs_root
def test_a_fork_bomb_is_contained_and_cleaned_up():
    body = """
while True:
    try:
        os.fork()
    except OSError:
        pass
"""
    before = nobodys_processes()
    started = time.monotonic()
    result = run_pytest(with_test(body), limits=Limits(wall_seconds=5, processes=32))
    assert result.status == "stopped" and "longer than 5 s" in str(result.reason)
    assert time.monotonic() - started < 15
    time.sleep(0.5)
    assert nobodys_processes() <= before, "no process of the sandbox is left running"
    assert run_pytest(with_test("assert add(1, 1) == 2"), limits=FAST).status == "passed", "and the next run works"


def nobodys_processes() -> set[str]:
    return set(subprocess.run(["pgrep", "-u", "nobody"], capture_output=True, text=True).stdout.split())


def test_a_4_gb_allocation_fails_inside_and_is_reported():
    result = run_pytest(with_test("data = bytearray(4 * 1024**3)"), limits=FAST)
    assert result.status == "failed" and "MemoryError" in result.tests[0].message


def test_an_endless_loop_is_stopped_at_the_wall_time():
    started = time.monotonic()
    result = run_pytest(with_test("while True:\n    pass"), limits=Limits(wall_seconds=3, cpu_seconds=60))
    assert result.status == "stopped" and result.reason == "ran longer than 3 s"
    assert time.monotonic() - started < 10


def test_a_cpu_hog_is_stopped_by_its_cpu_limit():
    result = run_pytest(with_test("while True:\n    pass"), limits=Limits(wall_seconds=30, cpu_seconds=2))
    assert result.status == "stopped" and "CPU" in str(result.reason), (result.reason, result.output[-500:])


def test_printing_100_mb_is_cut_off():
    result = run_pytest(with_test("print('x' * 100 * 1024**2)"), limits=Limits(wall_seconds=20, output_bytes=64 * 1024))
    assert result.status == "stopped" and "printed more than" in str(result.reason)
    assert len(result.output) <= 64 * 1024


def test_a_cancel_stops_it_at_once():
    asked = time.monotonic()
    result = run_pytest(
        with_test("while True:\n    pass"), limits=FAST, should_stop=lambda: time.monotonic() - asked > 1
    )
    assert result.status == "stopped" and result.reason == "cancelled"
    assert result.duration_ms < 5000


def stored(engine: Engine, store: ArtifactStore, files: dict[str, str]) -> tuple[uuid.UUID, uuid.UUID, list]:
    """A run, a tester, and the files as the run's artifacts (as the code steps leave them)."""
    with Session(engine) as session, session.begin():
        project = Project(name="Sandbox", type="library", status="active", created_by="test")
        session.add(project)
        session.flush()
        workflow = Workflow(
            project_id=project.id,
            name="Run",
            workflow_type="feature_development",
            status="running",
            priority="low",
            requirement="Write add(a, b).",
            created_by="test",
        )
        tester = Agent(name="Tess", role="tester", status="idle", model="m", project_id=project.id)
        session.add_all([workflow, tester])
        session.flush()
        ids = workflow.workflow_id, tester.agent_id
    refs = store_files(store, ids[0], "verification", "code", ids[1], list(files.items()))
    with Session(engine) as session, session.begin():
        record_files(session, ids[0], "verification", ids[1], refs)
    return ids[0], ids[1], [r.ref for r in refs]


def test_as_an_activity_it_records_the_round_heartbeats_and_a_cancel_kills_it(
    settings: Settings, db: Engine, store: ArtifactStore
):
    environment = ActivityEnvironment()
    beats: list[object] = []
    environment.on_heartbeat = lambda *details: beats.append(details)
    activities = ConclaveActivities(settings, store=store)
    workflow_id, tester, refs = stored(db, store, with_test("print('x' * 20_000)\nassert add(1, 1) == 3"))
    request = TestRunRequest(str(workflow_id), "verification", 1, 1, refs[:1], refs[1:], str(tester), limits=FAST)

    done = environment.run(activities.run_tests, request)
    assert (done.result.status, done.result.failed) == ("failed", 1) and beats
    assert len(done.result.output) <= 8_000, "its result stays small for the run's history"
    with Session(db) as session:
        message = session.get(AgentMessage, uuid.UUID(done.message_id))
        assert message is not None and message.message_type == "review" and message.agent_name == "Tess"
        assert message.content.startswith("Test round 1: 0 of 1 tests pass")
        assert "- `test_it.py::test_it` failed: assert 2 == 3" in message.content
        event = session.scalars(
            select(WorkflowEvent).where(WorkflowEvent.event_type == "workflow_progress_update")
        ).one()
        assert event.data == {
            "step": "verification",
            "tests": {
                "round": 1,
                "candidate": 1,
                "status": "failed",
                "passed": 0,
                "failed": 1,
                "errors": 0,
                "total": 1,
                "reason": None,
            },
        }
    again = environment.run(activities.run_tests, request)
    assert again.result == done.result, "a retried round returns what was recorded, without running again"

    _, _, looping = stored(db, store, with_test("while True:\n    pass"))
    threading.Timer(1.5, environment.cancel).start()
    started = time.monotonic()
    with pytest.raises(CancelledError):
        environment.run(activities.run_tests, replace(request, round=2, modules=looping[:1], tests=looping[1:]))
    assert time.monotonic() - started < 5
