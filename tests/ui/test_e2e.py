"""The web UI end to end (issue 7's acceptance): `@playwright/test` drives Debian's Chromium through the pages a person
uses, against a real stack started here on free ports: the session's PostgreSQL and S3 (`rclone serve s3`), a Temporal
dev server, `python worker.py` with the scripted model (slowed down so that messages and progress arrive over seconds
and a run can be cancelled mid-way), and `python -m api` serving the built UI on a real socket.

The specs are in frontend-ui/e2e/specs. Each run keeps its screenshots of each page, Playwright's JSON report, the
traces of failed specs and the worker's and API's logs in a folder of its own, .data/test-artifacts/ui/<time>-<pid>/
(the last few runs are kept; `latest` links to the newest).
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from config import ROOT, Settings
from ops import ui
from tests.support import free_port
from tests.ui.node import require_chromium

E2E = ui.UI / "e2e"
ARTIFACTS = ROOT / ".data" / "test-artifacts" / "ui"
KEEP_RUNS = 5
MODULES_STAMP = E2E / "node_modules" / ".package-lock-sha256"
# Seconds the scripted model waits per word: a model call takes a second or so, a feature run 15-40 s.
SCRIPTED_DELAY = "0.05"
# Variables of the developer's shell that would point the stack elsewhere or turn on real integrations.
FOREIGN = ("JIRA_URL", "CONFLUENCE_URL", "LLM_BASE_URL", "LLM_MODEL_PATH", "CORS_ORIGINS", "ENVIRONMENT")


@dataclass
class Stack:
    base_url: str
    artifacts: Path
    logs: Path


def _artifacts_dir() -> Path:
    """A folder for this run's artifacts (runs at the same time each get their own); older runs beyond the last few
    are removed, and `latest` points at this one."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    run = ARTIFACTS / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    run.mkdir()
    runs = sorted(p for p in ARTIFACTS.iterdir() if p.is_dir() and not p.is_symlink() and p.name[:8].isdigit())
    for old in runs[:-KEEP_RUNS]:
        shutil.rmtree(old, ignore_errors=True)
    link = ARTIFACTS / f".latest-{os.getpid()}"
    link.unlink(missing_ok=True)
    link.symlink_to(run.name)
    os.replace(link, ARTIFACTS / "latest")
    return run


def _npm_ci_e2e(log: Path) -> None:
    """`npm ci` in frontend-ui/e2e unless its node_modules holds what its package-lock.json pins."""
    wanted = hashlib.sha256((E2E / "package-lock.json").read_bytes()).hexdigest()
    installed = MODULES_STAMP.is_file() and MODULES_STAMP.read_text() == wanted
    if installed and (E2E / "node_modules" / ".bin" / "playwright").exists():
        return
    env = {**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1", "CI": "1", "NO_COLOR": "1"}
    with log.open("a") as out:
        command = ["npm", "ci", "--no-audit", "--no-fund"]
        result = subprocess.run(command, cwd=E2E, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        pytest.fail(f"npm ci in {E2E} failed (exit {result.returncode}):\n{log.read_text(errors='replace')[-4000:]}")
    MODULES_STAMP.write_text(wanted)


def _built_ui(into: Path, log: Path) -> Path:
    """The UI built from the current sources (built now if needed), copied so a rebuild meanwhile changes nothing."""
    if problem := ui.node_problem():
        pytest.fail(f"the browser tests need Node.js: {problem}")
    started = time.monotonic()
    for attempt in range(3):  # another build may replace the folder while it is copied
        try:
            what = ui.ensure_built(log)
            shutil.copytree(ui.DIST / "browser", into)
            break
        except ui.UiBuildError as exc:
            pytest.fail(str(exc))
        except (OSError, shutil.Error):
            shutil.rmtree(into, ignore_errors=True)
            if attempt == 2:
                raise
            time.sleep(5)
    print(f"\nweb UI: {what} ({time.monotonic() - started:.0f} s)")
    return into


def _wait_healthy(url: str, processes: dict[str, subprocess.Popen[bytes]], logs: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while True:
        for name, process in processes.items():
            if process.poll() is not None:
                pytest.fail(f"the {name} exited ({process.returncode}):\n" + (logs / f"{name}.log").read_text()[-4000:])
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=5) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the API at {url} did not answer /api/health within {timeout} s")
        time.sleep(0.3)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def stack(settings: Settings, temporal_address: str, db: Engine, tmp_path: Path) -> Iterator[Stack]:
    """A worker and an API serving the built UI, on the session's database, storage and Temporal."""
    artifacts = _artifacts_dir()
    logs = artifacts / "logs"
    logs.mkdir()
    served = _built_ui(tmp_path / "ui", logs / "ui-build.log")
    _npm_ci_e2e(logs / "npm-ci.log")

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN}
    env |= {
        "DATABASE_URL": settings.database_url,
        "S3_ENDPOINT": settings.s3_endpoint,
        "TEMPORAL_ADDRESS": temporal_address,
        "TEMPORAL_TASK_QUEUE": f"e2e-{uuid.uuid4().hex[:10]}",
        "ACTIVITY_HEARTBEAT_TIMEOUT": "5",
        "LLM_BACKEND": "scripted",
        "LLM_SCRIPTED_DELAY": SCRIPTED_DELAY,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "PUBLIC_URL": base_url,
        "UI_DIR": str(served),
        "LOG_LEVEL": "warning",
    }
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, command in (("worker", [sys.executable, "worker.py"]), ("api", [sys.executable, "-m", "api"])):
            out = (logs / f"{name}.log").open("w")
            processes[name] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        _wait_healthy(base_url, processes, logs)
        yield Stack(base_url, artifacts, logs)
    finally:
        for process in reversed(processes.values()):
            _stop(process)


def _summary(report: Path) -> dict[str, list[str]]:
    """Spec titles by outcome (passed, failed, skipped: `test.fixme` and `test.skip`), from Playwright's JSON report."""
    outcomes: dict[str, list[str]] = {"passed": [], "failed": [], "skipped": []}

    def walk(suite: dict, titles: list[str]) -> None:
        for spec in suite.get("specs", []):
            for test in spec.get("tests", []):
                status = test.get("status")  # expected, unexpected, flaky, skipped
                key = {"expected": "passed", "skipped": "skipped"}.get(status, "failed")
                notes = [a.get("description", "") for a in test.get("annotations", []) if a.get("type") == "fixme"]
                outcomes[key].append(" > ".join([*titles, spec["title"]]) + (f" (fixme: {notes[0]})" if notes else ""))
        for child in suite.get("suites", []):
            walk(child, [*titles, child["title"]])

    data = json.loads(report.read_text())
    for suite in data.get("suites", []):
        walk(suite, [])
    return outcomes


@pytest.mark.timeout(1800)  # a first `npm ci` and `ng build` on a busy 2-core machine take minutes; the specs ~3
def test_the_ui_end_to_end_in_a_real_browser(stack: Stack) -> None:
    chromium = require_chromium()
    env = {
        **os.environ,
        "E2E_BASE_URL": stack.base_url,
        "E2E_OUTPUT_DIR": str(stack.artifacts),
        "CHROMIUM_PATH": chromium,
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
        "CI": "1",
        "NO_COLOR": "1",
        "FORCE_COLOR": "0",
    }
    started = time.monotonic()
    result = subprocess.run(
        [str(E2E / "node_modules" / ".bin" / "playwright"), "test"],
        cwd=E2E,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )
    took = time.monotonic() - started
    output = result.stdout + result.stderr
    (stack.logs / "playwright.log").write_text(output)
    report = stack.artifacts / "results.json"
    outcomes = _summary(report) if report.is_file() else {"passed": [], "failed": [], "skipped": []}
    counts = ", ".join(f"{len(titles)} {outcome}" for outcome, titles in outcomes.items())
    print(f"\nPlaywright: {counts} in {took:.0f} s; screenshots in {stack.artifacts / 'screenshots'}")
    for title in outcomes["skipped"]:
        warnings.warn(f"browser spec not run: {title}", stacklevel=1)
    assert result.returncode == 0 and not outcomes["failed"], (
        f"Playwright failed (exit {result.returncode}); artifacts in {stack.artifacts}, the worker's and API's logs in "
        f"{stack.logs}"
        f"\n{output[-12000:]}"
    )
    assert outcomes["passed"], f"no browser spec ran:\n{output[-4000:]}"
