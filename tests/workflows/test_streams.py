"""A real run's live stream: a client that drops mid-run and comes back with its last id misses nothing."""

from collections import Counter

import httpx
from sqlalchemy import Engine

from agents.llm.scripted import ScriptedBackend
from api.main import create_app
from tests.sse import Listener, LiveServer, read_stream

from .support import events, staffed_project, start_run, wait_for


def test_a_client_that_reconnects_mid_run_gets_every_event_once_in_order(db: Engine, run_settings, start_worker):
    start_worker(ScriptedBackend(delay=0.02))  # a model call streams for about a second
    with LiveServer(create_app(run_settings)) as server:
        api = httpx.Client(base_url=server.url, timeout=30)
        workflow_id = start_run(api, staffed_project(api))
        url = f"{server.url}/api/workflows/{workflow_id}/events"

        first = read_stream(url, count=8)  # then the client drops
        assert api.get(f"/api/workflows/{workflow_id}").json()["status"] == "running", "reconnect while it runs"
        with Listener(url, last_event_id=first[-1].id) as again:
            rest = again.wait_end(timeout=120)
        run = wait_for(api, workflow_id, "completed", "failed")
    assert run["status"] == "completed", run["errors"]

    received = [f.id for f in first + rest]
    logged = events(db, workflow_id)
    assert received == [e.id for e in logged], "every event of the run, once, in order"
    assert [f.event for f in first + rest] == [e.event_type for e in logged]
    kinds = Counter(f.event for f in first + rest)
    assert kinds["step_started"] == kinds["step_completed"] == len(run["steps"])
    assert {"new_message", "new_decision", "artifact_created", "agent_status_changed"} <= set(kinds)
    assert rest[-1].event == "workflow_status_changed" and rest[-1].data["data"]["status"] == "completed"
