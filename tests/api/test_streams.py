"""The live streams (Server-Sent Events) on a real uvicorn, a real PostgreSQL and its LISTEN/NOTIFY.

Events are appended the way activities append them (`append_event` in a transaction); clients read the streams
over HTTP like a browser's EventSource does, and what they get is compared with the `workflow_events` table.
"""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from api.main import create_app
from config import Settings
from db.events import EventType, append_event
from db.models import Agent, Workflow, WorkflowEvent
from db.records import set_workflow_status
from db.session import transaction
from tests.sse import Frame, Listener, LiveServer, aread_stream, frames, read_stream
from tests.support import free_port, new_run

ROOT = Path(__file__).resolve().parents[2]


def emit(engine: Engine, workflow_id: uuid.UUID | None, n: int = 1, **data: Any) -> list[int]:
    """Append n `step_started` events, each in its own transaction, as activities do."""
    ids = []
    for i in range(n):
        with transaction(engine) as session:
            ids.append(append_event(session, workflow_id, EventType.STEP_STARTED, {"n": i, **data}))
    return ids


def finish(engine: Engine, workflow_id: uuid.UUID, status: str = "completed") -> int:
    """Record the run's final status (and its `workflow_status_changed` event); returns the event's id."""
    with transaction(engine) as session:
        set_workflow_status(session, session.get_one(Workflow, workflow_id), status)
        return session.scalars(select(WorkflowEvent.id).order_by(WorkflowEvent.id.desc()).limit(1)).one()


def table(engine: Engine, workflow_id: uuid.UUID | None = None, after: int = 0) -> list[WorkflowEvent]:
    with Session(engine) as session:
        stmt = select(WorkflowEvent).where(WorkflowEvent.id > after).order_by(WorkflowEvent.id)
        if workflow_id is not None:
            stmt = stmt.where(WorkflowEvent.workflow_id == workflow_id)
        return list(session.scalars(stmt))


def ids(frames: list[Frame]) -> list[int]:
    return [f.id for f in frames]


@pytest.fixture
def server(settings: Settings, db: Engine):
    with LiveServer(create_app(settings)) as live:
        yield live


def test_a_stream_sends_the_backlog_after_last_event_id_then_live_events_and_ends_with_the_run(db: Engine, server):
    run, other = new_run(db), new_run(db)
    before = emit(db, run, 5)
    url = f"{server.url}/api/workflows/{run}/events"

    with Listener(url, last_event_id=before[1]) as client:
        assert ids(client.wait_for(3)) == before[2:]
        emit(db, other, 2)  # another run's events are not in this stream
        live = emit(db, run, 3)
        final = finish(db, run)
        got = client.wait_end()
    assert ids(got) == before[2:] + live + [final]
    assert ids(got) == [e.id for e in table(db, run, after=before[1])]

    # each frame: `id:` the event id, `event:` its type, `data:` {event_type, workflow_id, data, timestamp}
    rows = {e.id: e for e in table(db, run)}
    for frame in got:
        row = rows[frame.id]
        assert frame.event == frame.data["event_type"] == row.event_type
        assert frame.data["workflow_id"] == str(run)
        assert frame.data["data"] == row.data
        assert datetime.fromisoformat(frame.data["timestamp"].replace("Z", "+00:00")) == row.created_at
    assert got[-1].data["data"]["status"] == "completed"


def test_a_finished_run_replays_whole_and_then_answers_204(db: Engine, server):
    run = new_run(db)
    emit(db, run, 3)
    cancelled = finish(db, run, "cancelled")
    emit(db, run, 2)  # resumed: more events after a final status ...
    completed = finish(db, run, "completed")  # ... until the next one
    url = f"{server.url}/api/workflows/{run}/events"

    everything = read_stream(url, timeout=10)
    assert ids(everything) == [e.id for e in table(db, run)]
    assert cancelled in ids(everything) and ids(everything)[-1] == completed
    assert ids(read_stream(url, last_event_id=cancelled, timeout=10)) == [e.id for e in table(db, run, cancelled)]
    # the query parameter works too (EventSource cannot set headers); the header wins over it
    assert ids(read_stream(f"{url}?last_event_id={cancelled}", timeout=10)) == ids(everything)[-3:]
    response = httpx.get(f"{url}?last_event_id=0", headers={"Last-Event-ID": str(completed)}, timeout=10)
    assert response.status_code == 204  # a browser's EventSource stops reconnecting on 204


def test_events_written_after_the_final_status_are_sent_before_the_stream_ends(db: Engine, server):
    """A person's message can land just after the run finished: a run's stream still ends, after sending it."""
    run = new_run(db)
    emit(db, run, 2)
    final = finish(db, run)
    (late,) = emit(db, run, 1)
    url = f"{server.url}/api/workflows/{run}/events"
    assert ids(read_stream(url, timeout=10))[-2:] == [final, late]
    assert ids(read_stream(url, last_event_id=final, timeout=10)) == [late]
    assert httpx.get(url, headers={"Last-Event-ID": str(late)}, timeout=10).status_code == 204


def test_bad_requests_get_clear_errors(db: Engine, server):
    run = new_run(db)
    base = f"{server.url}/api"
    unknown = httpx.get(f"{base}/workflows/{uuid.uuid4()}/events", timeout=10)
    assert unknown.status_code == 404 and "not found" in unknown.json()["detail"]
    for headers, query in (({"Last-Event-ID": "abc"}, ""), ({}, "?last_event_id=-1"), ({"Last-Event-ID": "-5"}, "")):
        for url in (f"{base}/workflows/{run}/events{query}", f"{base}/events{query}"):
            response = httpx.get(url, headers=headers, timeout=10)
            assert response.status_code == 422, (url, headers, response.text)
    assert httpx.get(f"{base}/workflows/not-a-uuid/events", timeout=10).status_code == 422


def test_the_stream_of_all_runs_starts_at_the_present_or_after_last_event_id(db: Engine, server):
    first, second = new_run(db), new_run(db)
    old = emit(db, first, 2)
    url = f"{server.url}/api/events"
    with Listener(url) as client:
        new = emit(db, first, 1) + emit(db, second, 1) + emit(db, None, 1)  # None: e.g. an agent outside a run
        assert ids(client.wait_for(3)) == new
    with Listener(url, last_event_id=old[0]) as client:
        assert ids(client.wait_for(4)) == old[1:] + new


def test_the_database_down_is_a_503_not_a_hang(settings: Settings):
    nowhere = settings.model_copy(update={"database_url": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x"})
    with TestClient(create_app(nowhere)) as client:
        started = time.monotonic()
        response = client.get("/api/events")
        assert response.status_code == 503 and "database" in response.json()["detail"]
        assert client.get(f"/api/workflows/{uuid.uuid4()}/events").status_code == 503
        assert time.monotonic() - started < 15


def test_a_lost_listen_connection_reconnects_and_loses_nothing(db: Engine, server):
    run = new_run(db)
    with Listener(f"{server.url}/api/workflows/{run}/events") as client:
        first = emit(db, run, 2)
        client.wait_for(2)
        with db.begin() as connection:  # what a database restart does to the API's connections
            killed = connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": "conclave-events"},
            ).all()
        assert len(killed) == 2  # the LISTEN connection and the one that reads
        during = emit(db, run, 3)
        final = finish(db, run)
        assert ids(client.wait_end(timeout=30)) == [*first, *during, final]


def test_a_slow_client_costs_bounded_memory_and_still_gets_everything_in_order(settings: Settings, db: Engine):
    """A client that stops reading: its stream keeps at most `buffer` events queued, then catches up from the
    table."""
    small = settings.model_copy(update={"sse_subscriber_buffer": 4})
    run = new_run(db)
    # More than the client's and the server's socket buffers can hold, so that the server's writes block.
    count, size = 200, max(40_000, 3 * socket_buffers() // 200)
    with LiveServer(create_app(small)) as live:
        hub = live.app.state.events
        with httpx.stream("GET", f"{live.url}/api/workflows/{run}/events", timeout=60) as response:
            assert response.status_code == 200
            emit(db, run, count, filler="x" * size)
            final = finish(db, run)
            deadline = time.monotonic() + 20
            while not (subscribers := hub.subscribers()) or subscribers[0].overflows == 0:
                assert time.monotonic() < deadline, "the stream never fell behind"
                time.sleep(0.1)
            received = ids(list(frames(response.iter_lines())))
    assert received == [e.id for e in table(db, run)] and received[-1] == final


def socket_buffers() -> int:
    """The most a loopback TCP connection can buffer: the receiver's and the sender's maximum, in bytes."""
    maxima = [int(Path(f"/proc/sys/net/ipv4/tcp_{k}").read_text().split()[2]) for k in ("rmem", "wmem")]
    return sum(maxima)


def test_200_clients_of_one_run_all_get_every_event(db: Engine, server):
    run = new_run(db)
    backlog = emit(db, run, 10)
    url = f"{server.url}/api/workflows/{run}/events"
    hub = server.app.state.events

    async def client(http: httpx.AsyncClient) -> list[int]:
        return [frame.id async for frame in aread_stream(http, url)]

    async def main() -> list[list[int]]:
        limits = httpx.Limits(max_connections=250, max_keepalive_connections=0)
        async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(30, read=60)) as http:
            clients = [asyncio.create_task(client(http)) for _ in range(200)]
            while len(hub.subscribers()) < 200:
                await asyncio.sleep(0.05)
            await asyncio.to_thread(emit, db, run, 40)
            await asyncio.to_thread(finish, db, run)
            return await asyncio.gather(*clients)

    started = time.monotonic()
    received = asyncio.run(asyncio.wait_for(main(), timeout=120))
    elapsed = time.monotonic() - started
    expected = [e.id for e in table(db, run)]
    assert len(expected) == len(backlog) + 40 + 1
    assert all(got == expected for got in received), [len(got) for got in received]
    assert elapsed < 90, f"took {elapsed:.1f} s"
    assert hub.subscribers() == []  # every finished stream unsubscribed


@contextmanager
def api_processes(database_url: str, logs: Path, count: int) -> Iterator[list[tuple[str, subprocess.Popen[bytes]]]]:
    """`python -m api` processes as `make up` runs them, each on its own port."""
    started = []
    try:
        for i in range(count):
            port = free_port()
            env = {**os.environ, "DATABASE_URL": database_url, "API_PORT": str(port), "LOG_LEVEL": "info"}
            log = (logs / f"api-{i}.log").open("w")
            process = subprocess.Popen([sys.executable, "-m", "api"], cwd=ROOT, env=env, stdout=log, stderr=log)
            started.append((f"http://127.0.0.1:{port}", process))
        for url, _ in started:
            _wait_serving(url)
        yield started
    finally:
        for _, process in started:
            process.terminate()
            process.wait(timeout=20)


def _wait_serving(url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code in (200, 503):
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.2)


def test_an_event_written_through_one_api_process_reaches_a_client_of_another(database_url: str, db: Engine, tmp_path):
    with Session(db) as session, session.begin():
        agent = Agent(name="Ops Bot", role="devops", status="idle", model="m")
        session.add(agent)
        session.flush()
        agent_id = agent.agent_id
    with api_processes(database_url, tmp_path, 2) as ((first, _), (second, _)), Listener(f"{second}/api/events") as c:
        response = httpx.put(f"{first}/api/agents/{agent_id}", json={"status": "offline"}, timeout=10)
        assert response.status_code == 200 and response.json()["status"] == "offline"
        (frame,) = c.wait_for(1, timeout=10)
    assert frame.event == "agent_status_changed"
    assert frame.data["data"]["agent_id"] == str(agent_id) and frame.data["data"]["status"] == "offline"
    assert frame.data["data"]["previous_status"] == "idle"


def test_stopping_the_api_ends_open_streams_cleanly_and_promptly(database_url: str, db: Engine, tmp_path):
    run = new_run(db)
    with api_processes(database_url, tmp_path, 1) as ((url, process),):
        client = Listener(f"{url}/api/workflows/{run}/events").open()
        emit(db, run, 2)
        client.wait_for(2)
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)  # what `make down` and supervisor do
        process.wait(timeout=15)  # uvicorn shuts down, then re-raises the signal: the exit status is -15
        assert time.monotonic() - stopped_at < 5
        assert ids(client.wait_end(timeout=5)) == [e.id for e in table(db, run)]  # ended, not broken off
    log = (tmp_path / "api-0.log").read_text()
    assert "Application shutdown complete" in log
    assert "ERROR" not in log and "Traceback" not in log, log


def test_concurrent_writers_never_make_a_reader_skip_an_event(db: Engine, server):
    """Writers race; a client that reconnects after every few events still gets each event once, in order."""
    run = new_run(db)
    url = f"{server.url}/api/workflows/{run}/events"

    def writer() -> None:
        emit(db, run, 30)

    writers = [threading.Thread(target=writer) for _ in range(4)]
    for w in writers:
        w.start()
    got: list[Frame] = []
    while len(got) < 120:
        got += read_stream(url, count=min(7, 120 - len(got)), last_event_id=got[-1].id if got else None, timeout=20)
    for w in writers:
        w.join()
    finish(db, run)
    got += read_stream(url, last_event_id=got[-1].id, timeout=20)
    assert ids(got) == [e.id for e in table(db, run)]
    assert len(got) == 121
