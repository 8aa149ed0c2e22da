"""Benchmark: event latency of the live streams (insert to client receipt) for 1, 100 and 1,000 subscribers.

    PYTHONPATH=. python -m bench.sse [--subscribers 1,100,1000] [--events 100] [--rate 20] [--server-url URL]

Starts a throwaway PostgreSQL cluster (or uses the server at --server-url, in a database of its own), migrates it,
and runs one API process (`python -m api`). For each number of subscribers it opens that many SSE streams on one
run, appends events at a steady rate (one transaction each, as activities do, the insert time in the event), and
measures, for every event and every subscriber, the time from just before the commit to the client reading the
frame. In the same run, a bare psycopg connection that LISTENs on the same channel measures insert to NOTIFY
receipt: the floor any stream built on LISTEN can reach. Prints p50/p99 of both and their ratio.

Clients and writer share this process (2 cores here): with 1,000 subscribers the client side parses 1,000 frames
per event, which is part of what the figures show.
"""

import argparse
import asyncio
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import text

from config import ROOT, Settings
from db.events import CHANNEL, EventType, append_event
from db.session import libpq_url, make_engine, transaction
from ops import localdb
from tests.support import free_port, new_run


@contextmanager
def database(server_url: str | None) -> Iterator[str]:
    """A migrated, empty database: on a throwaway cluster, or on `server_url` (dropped afterwards)."""
    base: Path | None = None
    server: subprocess.Popen[bytes] | None = None
    if server_url is None:
        base = Path(tempfile.mkdtemp(prefix="conclave-bench-pg-"))
        base.chmod(0o755)
        port = free_port()
        localdb.init_cluster(base / "data")
        args = localdb.server_args(base / "data", port, socket_dir=base / "data", durable=False)
        args += ["-c", "max_connections=200"]
        server = subprocess.Popen(localdb.as_owner(args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server_url = f"postgresql+psycopg://postgres@127.0.0.1:{port}"
        localdb.wait_ready(f"{server_url}/postgres", timeout=30)
    url = f"{server_url.rstrip('/')}/conclave_bench_{uuid.uuid4().hex[:8]}"
    localdb.ensure_database(url)
    try:
        env = {**os.environ, "DATABASE_URL": url}
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        yield url
    finally:
        localdb.drop_database(url)
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def api_process(database_url: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "API_PORT": str(port), "LOG_LEVEL": "warning"}
    process = subprocess.Popen([sys.executable, "-m", "api"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/api/health", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("the API did not start") from None
                time.sleep(0.2)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


class Writer:
    """Appends events to one run at a steady rate (a transaction each) and notes when each was inserted."""

    def __init__(self, settings: Settings, workflow_id: uuid.UUID) -> None:
        self.engine = make_engine(settings)
        self.workflow_id = workflow_id
        self.measured: dict[int, float] = {}  # event id -> monotonic time of its insert

    def write(self, count: int, rate: float, measure: bool) -> None:
        for i in range(count):
            with transaction(self.engine) as session:
                at = time.monotonic()
                event_id = append_event(session, self.workflow_id, EventType.WORKFLOW_PROGRESS_UPDATE, {"seq": i})
                if measure:
                    self.measured[event_id] = at
            time.sleep(1 / rate)


FRAME_ID = re.compile(rb"(?:^|\n)id: (\d+)\n")


async def subscriber(
    host: str, port: int, path: str, after: int, writer: Writer, latencies: list[float], seen: list[int]
) -> None:
    """A minimal SSE client on a raw connection, light enough to run 1,000 in one process: it only picks each
    frame's `id:` out of what arrives and looks up when the writer committed that event."""
    reader, stream = await asyncio.open_connection(host, port)
    stream.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\nLast-Event-ID: {after}\r\n\r\n".encode()
    )
    await stream.drain()
    pending = b""
    try:
        while chunk := await reader.read(65536):
            received = time.monotonic()
            complete, _, pending = (pending + chunk).rpartition(b"\n\n")
            for match in FRAME_ID.finditer(complete):
                event_id = int(match.group(1))
                if (at := writer.measured.get(event_id)) is not None:
                    latencies.append(received - at)
                seen[0] += 1
    finally:
        stream.close()


async def bare_listener(conninfo: str, writer: Writer, latencies: list[float]) -> None:
    """The floor: a plain LISTEN connection, insert to NOTIFY receipt (cancel the task to stop it)."""
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as connection:
        await connection.execute(f"LISTEN {CHANNEL}")
        async for notify in connection.notifies():
            received = time.monotonic()
            if (at := writer.measured.get(int(notify.payload))) is not None:
                latencies.append(received - at)


def percentiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0] * 1000, values[0] * 1000) if values else (float("nan"), float("nan"))
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


async def measure(
    api: tuple[str, int], settings: Settings, workflow_id: uuid.UUID, count: int, events: int, rate: float
) -> tuple[list[float], list[float], float]:
    """Latencies of the SSE clients and of the bare listener, and the API's CPU seconds while measuring."""
    api_url, api_pid = api
    writer = Writer(settings, workflow_id)
    with transaction(writer.engine) as session:  # start after everything written so far: no backlog
        after = int(session.execute(text("SELECT coalesce(max(id), 0) FROM workflow_events")).scalar_one())
    host, port = api_url.removeprefix("http://").split(":")
    sse_latencies: list[float] = []
    seen = [0]
    path = f"/api/workflows/{workflow_id}/events"
    clients = [
        asyncio.create_task(subscriber(host, int(port), path, after, writer, sse_latencies, seen)) for _ in range(count)
    ]
    listen_latencies: list[float] = []
    listener = asyncio.create_task(bare_listener(libpq_url(settings), writer, listen_latencies))
    # warm up: every client has its stream open and has received the first events
    warmup = 5
    await asyncio.to_thread(writer.write, warmup, rate, False)
    deadline = time.monotonic() + 60
    while seen[0] < warmup * count:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {seen[0]} of {warmup * count} warm-up frames arrived")
        await asyncio.sleep(0.05)
    cpu_before = cpu_seconds(api_pid)
    await asyncio.to_thread(writer.write, events, rate, True)
    deadline = time.monotonic() + 60
    while len(sse_latencies) < events * count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    api_cpu = cpu_seconds(api_pid) - cpu_before
    for task in [listener, *clients]:
        task.cancel()
    await asyncio.gather(listener, *clients, return_exceptions=True)
    writer.engine.dispose()
    return sse_latencies, listen_latencies, api_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", default="1,100,1000", help="comma-separated counts (default 1,100,1000)")
    parser.add_argument("--events", type=int, default=100, help="measured events per count (default 100)")
    parser.add_argument("--rate", type=float, default=20, help="events per second (default 20)")
    parser.add_argument("--server-url", help="a PostgreSQL server URL without database (default: a throwaway one)")
    args = parser.parse_args()
    counts = [int(c) for c in args.subscribers.split(",")]

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # 1,000 sockets here, as many in the API
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    with database(args.server_url) as url, api_process(url) as api:
        settings = Settings(database_url=url)
        print(f"{os.cpu_count()} cores; {args.events} events per row at {args.rate:g}/s; one API process\n")
        print(
            f"{'subscribers':>11}  {'SSE p50':>9} {'SSE p99':>9}  {'LISTEN p50':>10} {'LISTEN p99':>10}"
            f"  {'p50 ratio':>9} {'p99 ratio':>9}  {'frames':>8}  {'lost':>5}  {'API CPU/frame':>13}"
        )
        engine = make_engine(settings)
        for count in counts:
            run = new_run(engine)
            sse, listen, api_cpu = asyncio.run(measure(api, settings, run, count, args.events, args.rate))
            s50, s99 = percentiles(sse)
            l50, l99 = percentiles(listen)
            lost = args.events * count - len(sse)
            print(
                f"{count:>11}  {s50:>7.1f}ms {s99:>7.1f}ms  {l50:>8.2f}ms {l99:>8.2f}ms"
                f"  {s50 / l50:>8.1f}x {s99 / l99:>8.1f}x  {len(sse):>8}  {lost:>5}"
                f"  {api_cpu / max(len(sse), 1) * 1e6:>11.0f}us",
                flush=True,
            )
        engine.dispose()


if __name__ == "__main__":
    main()
