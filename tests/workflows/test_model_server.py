"""Runs on llama.cpp's server (the stack's model service) on the small test model, through the API on the real
Temporal dev server: two runs are answered at the same time, and a server killed mid-turn is restarted by supervisor
while the turn waits for it (or is retried), and the run completes."""

import os
import shlex
import signal
import subprocess
import sys
import threading
import xmlrpc.client
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from supervisor.xmlrpc import SupervisorTransport

from agents.llm import make_llm
from agents.llm.service_state import read_state
from config import Settings
from ops.llama_server import wait_ready
from tests.llama import server_command, start_llama_server
from tests.support import free_port

from .support import messages, staffed_project, start_run, wait_for, wait_until
from .test_real_model import SUBMITTED


def turns(api: TestClient, workflow_id: str) -> list[tuple[datetime, datetime]]:
    """When each model call of the run was being answered: (start, end) of the messages the model wrote."""
    spans = []
    for message in messages(api, workflow_id):
        if message["latency_ms"]:
            end = datetime.fromisoformat(message["created_at"])
            spans.append((end - timedelta(milliseconds=message["latency_ms"]), end))
    return spans


class BusiestMoment:
    """Samples the server's requests in progress while runs go on; remembers the most at once."""

    def __init__(self, url: str) -> None:
        self.url, self.most = url, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.most = max(self.most, read_state(self.url).busy or 0)

    def __enter__(self) -> "BusiestMoment":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.mark.timeout(600)
def test_two_runs_are_answered_at_the_same_time_by_one_model_server(
    api: TestClient, start_worker, run_settings: Settings, model_path: Path, model_seed: int
):
    server = start_llama_server(model_path, slots=2)
    try:
        on_server: dict[str, Any] = {"llm_backend": "openai", "llm_base_url": server.url, "llm_concurrency": 2}
        start_worker(make_llm(run_settings.model_copy(update=on_server)), **on_server)
        project_id = staffed_project(api, roles=("reviewer", "developer"), max_tokens=256)
        with BusiestMoment(server.url) as busiest:
            runs = [
                start_run(api, project_id, "code_review", requirement=SUBMITTED, options={"seed": model_seed + n})
                for n in range(2)
            ]
            done = [wait_for(api, workflow_id, "completed", "failed", timeout=540) for workflow_id in runs]
        assert [run["status"] for run in done] == ["completed", "completed"], [run["errors"] for run in done]
        first, second = (turns(api, workflow_id) for workflow_id in runs)
        assert first and second
        overlapping = [(a, b) for a in first for b in second if a[0] < b[1] and b[0] < a[1]]
        assert overlapping, "a turn of one run was answered while a turn of the other was"
        assert busiest.most == 2, "the server generated for both runs at once"
    finally:
        server.stop()


@pytest.fixture
def supervised_server(model_path: Path, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """llama-server under supervisord (as `make up` runs it: restarted when it dies); its URL and supervisor's
    XML-RPC proxy."""
    port = free_port()
    socket = tmp_path / "supervisor.sock"
    command = " ".join(shlex.quote(part) for part in server_command(model_path, port, slots=1))
    (tmp_path / "supervisord.conf").write_text(
        f"""[unix_http_server]
file={socket}

[supervisord]
logfile={tmp_path}/supervisord.log
pidfile={tmp_path}/supervisord.pid

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:llm]
command={command}
autorestart=true
startsecs=1
stopsignal=TERM
stdout_logfile={tmp_path}/llm.log
redirect_stderr=true
"""
    )
    supervisord = subprocess.Popen(
        [sys.executable, "-m", "supervisor.supervisord", "-n", "-c", str(tmp_path / "supervisord.conf")]
    )
    try:
        wait_ready(port, timeout=60)
        rpc = xmlrpc.client.ServerProxy(
            "http://127.0.0.1", transport=SupervisorTransport(None, None, f"unix://{socket}")
        )
        yield f"http://127.0.0.1:{port}/v1", rpc
    finally:
        supervisord.terminate()
        supervisord.wait(timeout=30)


@pytest.mark.timeout(600)
def test_a_model_server_killed_mid_turn_comes_back_and_the_run_completes(
    api: TestClient, start_worker, run_settings: Settings, supervised_server: tuple[str, Any], model_seed: int
):
    url, rpc = supervised_server
    on_server: dict[str, Any] = {"llm_backend": "openai", "llm_base_url": url, "llm_wait_for_server": 60}
    start_worker(make_llm(run_settings.model_copy(update=on_server)), **on_server)
    project_id = staffed_project(api, roles=("reviewer", "developer"), max_tokens=256)
    workflow_id = start_run(api, project_id, "code_review", requirement=SUBMITTED, options={"seed": model_seed})

    wait_until(lambda: (read_state(url).busy or 0) > 0, timeout=120, what="a model turn under way")
    killed = rpc.supervisor.getProcessInfo("llm")["pid"]
    os.kill(killed, signal.SIGKILL)

    run = wait_for(api, workflow_id, "completed", "failed", timeout=540)
    assert run["status"] == "completed", run["errors"]
    info = rpc.supervisor.getProcessInfo("llm")
    assert info["statename"] == "RUNNING" and info["pid"] != killed, "supervisor restarted the server"
    said = messages(api, workflow_id)
    assert said and all(m["content"].strip() for m in said)
    assert {m["message_type"] for m in said} >= {"proposal", "decision"}
