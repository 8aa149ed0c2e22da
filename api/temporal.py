"""The API's way to Temporal: start, cancel, terminate, signal and resume runs, and report Temporal's health.

The routers are synchronous (they run on FastAPI's thread pool, like the database work they do), so `RunControl`
offers each call both as a coroutine and through `call`, which runs it on the app's event loop. The client connects
on first use and again after a failure, so the API starts, and answers 503 with a reason, while Temporal is down.

Resume is Temporal's reset (docs/architecture.md, "Resume is Temporal's reset"): find, in the last run's history,
the `WorkflowTaskCompleted` event after the last finished step's boundary (a `record_progress` activity with
`boundary: true`) and reset to it. The new run replays up to there and executes from the next step, so finished
steps are not paid for again. The CLI equivalent: `temporal workflow reset -w <id> --event-id <n> --reason ...`.
"""

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar, TypeVarTuple

import anyio.from_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    GetSystemInfoRequest,
    ResetWorkflowExecutionRequest,
)
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from api.schemas.health import ComponentHealth
from config import Settings
from workflows.types import RunInput, integrations_task_queue, llm_task_queue, sandbox_task_queue

PROJECT_ATTRIBUTE = SearchAttributeKey.for_keyword("ConclaveProject")
TYPE_ATTRIBUTE = SearchAttributeKey.for_keyword("ConclaveWorkflowType")
BOUNDARY_ACTIVITY = "record_progress"
CONNECT_TIMEOUT = 5.0
T = TypeVar("T")
Arguments = TypeVarTuple("Arguments")
Workflow = TypeVar("Workflow")
Signal = TypeVar("Signal")


class TemporalUnavailable(RuntimeError):
    """Temporal cannot be reached: the API answers 503 with this message."""


class TemporalRefused(RuntimeError):
    """Temporal said no (the run is already closed, the namespace does not exist, ...): 409 with its reason."""


class ResumeImpossible(TemporalRefused):
    """The run cannot be resumed from Temporal's history (e.g. it is gone after the retention period)."""


def install_error_handlers(app: FastAPI) -> None:
    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    async def refused(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    app.add_exception_handler(TemporalUnavailable, unavailable)
    app.add_exception_handler(TemporalRefused, refused)


def reset_point(history: WorkflowHistory) -> int | None:
    """The `WorkflowTaskCompleted` event after the last finished step's boundary; else the first one (the run
    starts over, its turns already recorded are reused); None if the run never completed a workflow task."""
    boundaries: set[int] = set()
    first = point = None
    after_boundary = False
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            first = first or event.event_id
            if after_boundary:
                point, after_boundary = event.event_id, False
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            payloads = attributes.input.payloads
            boundary = attributes.activity_type.name == BOUNDARY_ACTIVITY and payloads
            if boundary and json.loads(payloads[0].data).get("boundary"):
                boundaries.add(event.event_id)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            completed = event.activity_task_completed_event_attributes
            after_boundary = after_boundary or completed.scheduled_event_id in boundaries
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
            # a cancel before the next workflow task would be kept by a reset there: use the boundary before
            after_boundary = False
    return point or first


def _is_not_found(exc: RPCError) -> bool:
    return exc.status == RPCStatusCode.NOT_FOUND


class RunControl:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def task_queue(self) -> str:
        return self.settings.temporal_task_queue

    def call(self, function: Callable[[*Arguments], Coroutine[Any, Any, T]], *args: *Arguments) -> T:
        """Run a coroutine function of this class from a synchronous route (a worker thread of the app's loop)."""
        return anyio.from_thread.run(function, *args)

    async def client(self) -> Client:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            address = self.settings.temporal_address
            try:
                self._client = await asyncio.wait_for(
                    Client.connect(address, namespace=self.settings.temporal_namespace), CONNECT_TIMEOUT
                )
            except Exception as exc:  # connection failures arrive as RuntimeError or TimeoutError
                raise TemporalUnavailable(f"Temporal is not reachable at {address}: {exc or 'timed out'}") from exc
            self._loop = loop
        return self._client

    async def _rpc(self, call: Callable[[Client], Awaitable[T]]) -> T:
        """One call to Temporal; an unreachable server becomes TemporalUnavailable (and a reconnect next time)."""
        client = await self.client()
        try:
            return await call(client)
        except RPCError as exc:
            if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
                self._client = None
                raise TemporalUnavailable(f"Temporal at {self.settings.temporal_address}: {exc.message}") from exc
            raise TemporalRefused(f"Temporal refused: {exc.message}") from exc

    # --- runs -------------------------------------------------------------------------------------------------

    async def start(self, workflow_id: str, workflow_type: str, project_id: str, run: RunInput) -> str:
        """Start the workflow (id = workflow_id); returns the Temporal run id."""
        attributes = TypedSearchAttributes(
            [SearchAttributePair(PROJECT_ATTRIBUTE, project_id), SearchAttributePair(TYPE_ATTRIBUTE, workflow_type)]
        )

        async def start(client: Client) -> str:
            handle = await client.start_workflow(
                workflow_type, run, id=workflow_id, task_queue=self.task_queue, search_attributes=attributes
            )
            return handle.result_run_id or ""

        return await self._rpc(start)

    async def cancel(self, workflow_id: str) -> str | None:
        """Request cancellation; returns None, or how the run ended when Temporal had already closed it (say,
        terminated with the CLI)."""

        async def cancel(client: Client) -> str | None:
            handle = client.get_workflow_handle(workflow_id)
            try:
                status = (await handle.describe()).status
            except RPCError as exc:
                if not _is_not_found(exc):
                    raise
                return "gone"
            if status != WorkflowExecutionStatus.RUNNING:
                return status.name.lower() if status else "closed"
            await handle.cancel()
            return None

        return await self._rpc(cancel)

    async def terminate(self, workflow_id: str, reason: str) -> None:
        """Stop the run at once (no cleanup); nothing to do if it is not running."""

        async def terminate(client: Client) -> None:
            try:
                await client.get_workflow_handle(workflow_id).terminate(reason=reason)
            except RPCError as exc:
                if not _is_not_found(exc):  # NOT_FOUND: unknown, or already closed
                    raise

        await self._rpc(terminate)

    async def signal(self, workflow_id: str, signal: Callable[[Workflow, Signal], None], argument: Signal) -> None:
        """Send the run a signal, named by its workflow method (`RunState.approve_decision`), with its argument."""
        await self._rpc(lambda client: client.get_workflow_handle(workflow_id).signal(signal, argument))

    async def resume(self, workflow_id: str, workflow_type: str, project_id: str, run: RunInput) -> str:
        """Reset the last run to its last step boundary; returns the new run id."""

        async def resume(client: Client) -> str:
            handle = client.get_workflow_handle(workflow_id)
            try:
                description = await handle.describe()
            except RPCError as exc:
                if _is_not_found(exc):
                    raise ResumeImpossible(
                        f"Temporal no longer has the history of run {workflow_id} (past its retention period)"
                    ) from exc
                raise
            if description.status == WorkflowExecutionStatus.RUNNING:
                raise ResumeImpossible(f"run {workflow_id} is still executing in Temporal")
            event_id = reset_point(await handle.fetch_history())
            if event_id is None:  # closed before its first workflow task: nothing to keep, start it again
                return await self.start(workflow_id, workflow_type, project_id, run)
            response = await client.workflow_service.reset_workflow_execution(
                ResetWorkflowExecutionRequest(
                    namespace=self.settings.temporal_namespace,
                    workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=description.run_id),
                    reason="resumed through the Conclave API",
                    workflow_task_finish_event_id=event_id,
                    request_id=str(uuid.uuid4()),
                )
            )
            return str(response.run_id)

        return await self._rpc(resume)

    # --- health -----------------------------------------------------------------------------------------------

    async def health(self) -> dict[str, ComponentHealth]:
        """`temporal`: the server answers; `worker`: some worker polls each task queue."""
        address = self.settings.temporal_address
        started = time.perf_counter()
        try:
            client = await self.client()
            await client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=timedelta(seconds=2))
        except (TemporalUnavailable, RPCError) as exc:
            self._client = None
            down = ComponentHealth(status="down", detail=str(exc))
            return {"temporal": down, "worker": ComponentHealth(status="down", detail="Temporal is not reachable")}
        latency = round((time.perf_counter() - started) * 1000, 1)
        temporal = ComponentHealth(
            status="up", latency_ms=latency, detail=f"{address}, namespace {self.settings.temporal_namespace}"
        )
        queues = [
            (self.task_queue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
            (llm_task_queue(self.task_queue), TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
            (integrations_task_queue(self.task_queue), TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
            (sandbox_task_queue(self.task_queue), TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
        ]
        idle = []
        for name, kind in queues:
            queue = TaskQueue(name=name)
            request = DescribeTaskQueueRequest(
                namespace=self.settings.temporal_namespace, task_queue=queue, task_queue_type=kind
            )
            try:
                response = await client.workflow_service.describe_task_queue(request, timeout=timedelta(seconds=2))
            except RPCError as exc:  # e.g. TEMPORAL_NAMESPACE names no namespace
                return {"temporal": temporal, "worker": ComponentHealth(status="down", detail=exc.message)}
            if not response.pollers:
                idle.append(name)
        if idle:
            detail = f"no worker polls task queue {', '.join(idle)}: start one with `python worker.py`"
            return {"temporal": temporal, "worker": ComponentHealth(status="down", detail=detail)}
        names = " and ".join(name for name, _ in queues)
        return {"temporal": temporal, "worker": ComponentHealth(status="up", detail=f"polling {names}")}


def run_control(request: Request) -> RunControl:
    """The app's RunControl (for a route)."""
    runs: RunControl = request.app.state.runs
    return runs
