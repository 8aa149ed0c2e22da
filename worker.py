"""The Temporal worker: runs every workflow type and activity of Conclave. Start it with `python worker.py`.

One process polls four task queues (DESIGN.md, "The model inside activities"):
- TEMPORAL_TASK_QUEUE (default `conclave`): the workflows and the small database activities;
- `<that queue>-llm`: the model activities, at most LLM_CONCURRENCY at once (one per loaded model), so a long
  generation never holds up the bookkeeping of other runs;
- `<that queue>-integrations`: the Jira and Confluence syncs, a few at once, so a slow server holds up nothing else;
- `<that queue>-sandbox`: test runs of the agents' code, SANDBOX_CONCURRENCY at once (child processes, CPU-bound).
Run more processes, on any hosts, to scale out: Temporal spreads the work over every worker polling the queues.
SIGTERM/SIGINT stop polling and let running activities finish for a few seconds; what is cut off is retried by
another worker (or this one, restarted).
"""

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any, TypedDict

from temporalio.client import Client
from temporalio.worker import Worker

from activities.definitions import ConclaveActivities
from activities.priority import set_priority
from activities.storage import ArtifactStore
from agents.llm import LLMClient
from config import Settings, get_settings
from workflows.bug_fix import BugFix
from workflows.code_review import CodeReview
from workflows.documentation import Documentation
from workflows.feature_development import FeatureDevelopment
from workflows.refactoring import Refactoring
from workflows.types import integrations_task_queue, llm_task_queue, sandbox_task_queue

WORKFLOWS = [FeatureDevelopment, BugFix, CodeReview, Refactoring, Documentation]
BOOKKEEPING_CONCURRENCY = 8
INTEGRATION_CONCURRENCY = 4
SHUTDOWN_GRACE = timedelta(seconds=10)


class HeartbeatThrottle(TypedDict, total=False):
    """How often a worker passes its activities' heartbeats on to the server (the SDK's defaults when unset)."""

    max_heartbeat_throttle_interval: timedelta
    default_heartbeat_throttle_interval: timedelta


HEARTBEATS_EVERY_SECOND = HeartbeatThrottle(
    max_heartbeat_throttle_interval=timedelta(seconds=1), default_heartbeat_throttle_interval=timedelta(seconds=1)
)

log = logging.getLogger("conclave.worker")


def build_workers(
    client: Client, settings: Settings, llm: LLMClient | None = None, store: ArtifactStore | None = None
) -> list[Worker]:
    """The four workers of one process, one per task queue (tests pass their own model and store)."""
    activities = ConclaveActivities(settings, llm=llm, store=store)
    queue = settings.temporal_task_queue
    return [
        queue_worker(
            client,
            queue,
            activities.bookkeeping_activities(),
            BOOKKEEPING_CONCURRENCY,
            "bookkeeping",
            workflows=WORKFLOWS,
        ),
        queue_worker(
            client,
            integrations_task_queue(queue),
            activities.integration_activities(),
            INTEGRATION_CONCURRENCY,
            "integrations",
        ),
        # a cancel reaches a test run, or a generation, within a second
        queue_worker(
            client,
            sandbox_task_queue(queue),
            activities.sandbox_activities(),
            settings.sandbox_concurrency,
            "sandbox",
            heartbeats_every_second=True,
        ),
        queue_worker(
            client,
            llm_task_queue(queue),
            activities.model_activities(),
            settings.effective_llm_concurrency,
            "model",
            heartbeats_every_second=True,
        ),
    ]


def queue_worker(
    client: Client,
    task_queue: str,
    activities: Sequence[Callable[..., Any]],
    concurrency: int,
    threads: str,
    *,
    workflows: Sequence[type] = (),
    heartbeats_every_second: bool = False,
) -> Worker:
    """A worker polling one task queue: its activities on a pool of `concurrency` threads named `threads`, at most
    that many at once. With `heartbeats_every_second`, heartbeats reach the server (and a cancel comes back) every
    second, not every 0.8 x the heartbeat timeout."""
    throttle = HEARTBEATS_EVERY_SECOND if heartbeats_every_second else HeartbeatThrottle()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=workflows,
        activities=activities,
        activity_executor=ThreadPoolExecutor(concurrency, thread_name_prefix=threads),
        max_concurrent_activities=concurrency,
        graceful_shutdown_timeout=SHUTDOWN_GRACE,
        **throttle,
    )


async def connect(settings: Settings) -> Client:
    return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)


async def serve(settings: Settings) -> None:
    try:
        client = await connect(settings)
    except Exception as exc:  # the SDK raises plain RuntimeErrors for connection failures
        sys.exit(f"error: cannot reach Temporal at {settings.temporal_address}: {exc}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        for worker in build_workers(client, settings):
            await stack.enter_async_context(worker)
        log.info(
            "polling %s, %s, %s and %s on %s (namespace %s); model backend %s, %d model activities at once",
            settings.temporal_task_queue,
            llm_task_queue(settings.temporal_task_queue),
            integrations_task_queue(settings.temporal_task_queue),
            sandbox_task_queue(settings.temporal_task_queue),
            settings.temporal_address,
            settings.temporal_namespace,
            settings.effective_llm_backend,
            settings.effective_llm_concurrency,
        )
        await stop.wait()
        log.info("stopping: finishing running activities")


def apply_priority(nice: int | None) -> None:
    """The worker's scheduling priority (WORKER_NICE), set before any thread starts: threads inherit it, the
    model's among them (on Linux each thread has its own)."""
    if nice is not None and not set_priority(nice):
        log.warning("cannot set the worker's priority to %d without root; it stays at %d", nice, os.nice(0))


def main() -> None:
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout
    )
    apply_priority(settings.worker_nice)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
