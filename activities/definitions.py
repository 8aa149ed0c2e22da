"""The Temporal activities: thin wrappers that give the plain functions of this package heartbeats, cancellation
and error types Temporal understands.

All are synchronous (`def`) and run on the worker's thread pools: a generation blocks, and inside an `async def`
it would stall every other activity of the worker (DESIGN.md, "The model inside activities"). Model activities
heartbeat about once a second from a helper thread, so a dead worker is noticed within the heartbeat timeout; a
cancel reaches the generation at its next token (`on_token`) and stops it.
"""

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError, CancelledError

from activities import agent_turns, code_writing, decisions, integrations, pytest_runs, runs
from activities.sandbox import Limits
from activities.storage import ArtifactStore
from activities.turn_io import TurnConfigurationError
from activities.types import (
    CodeRequest,
    CodeResult,
    DecisionOutcome,
    DecisionRequest,
    RulingRequest,
    RulingResult,
    SyncFailure,
    SyncRequest,
    SyncResult,
    TestOutcomeRequest,
    TestRound,
    TestRunRequest,
    TurnRequest,
    TurnResult,
)
from agents.llm import LLMClient, TokenCallback, get_llm
from config import Settings
from db.session import get_engine
from integrations import IntegrationError, NotConfigured
from workflows.types import (
    ApprovalOutcome,
    ApprovalRequest,
    HumanMessageRequest,
    ProgressUpdate,
    StartRequest,
    StatusUpdate,
    Team,
)

# The error type workflows and retry policies treat as "retrying will not help".
CONFIGURATION_ERROR = "ConfigurationError"
HEARTBEAT_INTERVAL = 1.0
T = TypeVar("T")
Request = TypeVar("Request", contravariant=True)
Result = TypeVar("Result", covariant=True)


class ModelActivityBody(Protocol[Request, Result]):
    """The plain function behind a model activity (`agent_turns.run_agent_turn`, ...)."""

    def __call__(
        self,
        request: Request,
        *,
        llm: LLMClient,
        engine: Engine,
        store: ArtifactStore,
        on_token: TokenCallback | None = None,
    ) -> Result: ...


def _configuration_errors_are_final(call: Callable[[], T]) -> T:
    try:
        return call()
    except TurnConfigurationError as exc:
        raise ApplicationError(str(exc), type=CONFIGURATION_ERROR, non_retryable=True) from exc


def _integration_errors_are_plain(call: Callable[[], T]) -> T:
    """Jira's or Confluence's refusal as a plain failure (retried by the workflow's policy), with the safe message
    only: the clients' own exceptions may carry the request, credentials included, and are not chained."""
    try:
        return _configuration_errors_are_final(call)
    except NotConfigured as exc:
        raise ApplicationError(str(exc), type=CONFIGURATION_ERROR, non_retryable=True) from None
    except IntegrationError as exc:
        raise ApplicationError(str(exc), type="IntegrationError") from None


@contextmanager
def heartbeating(interval: float = HEARTBEAT_INTERVAL) -> Iterator[Callable[[str], None]]:
    """Heartbeat from a helper thread while the body runs (prompt evaluation can take many seconds without a
    token); yields the `on_token` callback that stops the generation once the activity is cancelled."""
    done = threading.Event()
    context = contextvars.copy_context()  # the activity's context, so `heartbeat` knows which activity it is

    def beat() -> None:
        while not done.wait(interval):
            context.run(activity.heartbeat)

    def on_token(_piece: str) -> None:
        if activity.is_cancelled():
            raise CancelledError("the activity was cancelled")

    activity.heartbeat()
    thread = threading.Thread(target=beat, name=f"heartbeat-{activity.info().activity_id}", daemon=True)
    thread.start()
    try:
        yield on_token
    finally:
        done.set()
        thread.join()


class ConclaveActivities:
    """Every activity of a worker, bound to its settings (and, in tests, to a given model or store)."""

    def __init__(self, settings: Settings, llm: LLMClient | None = None, store: ArtifactStore | None = None):
        self.settings = settings
        self.engine = get_engine(settings)
        self.store = store or ArtifactStore(settings)
        self._llm = llm

    @property
    def llm(self) -> LLMClient:
        return self._llm or get_llm(self.settings)

    @property
    def sandbox_limits(self) -> Limits:
        s = self.settings
        return Limits(
            wall_seconds=s.sandbox_wall_seconds,
            cpu_seconds=s.sandbox_cpu_seconds,
            memory_bytes=s.sandbox_memory_mb * 1024**2,
            niceness=s.sandbox_nice,
        )

    # --- model activities (the `<queue>-llm` task queue) ------------------------------------------------------

    def _model_activity(self, body: ModelActivityBody[Request, Result], request: Request) -> Result:
        """Run `body` heartbeating, stopped at its next token once cancelled; a configuration error is final."""
        with heartbeating() as on_token:
            return _configuration_errors_are_final(
                lambda: body(request, llm=self.llm, engine=self.engine, store=self.store, on_token=on_token)
            )

    @activity.defn(name="run_agent_turn")
    def run_agent_turn(self, request: TurnRequest) -> TurnResult:
        return self._model_activity(agent_turns.run_agent_turn, request)

    @activity.defn(name="hold_decision")
    def hold_decision(self, request: DecisionRequest) -> DecisionOutcome:
        return self._model_activity(decisions.hold_decision, request)

    @activity.defn(name="write_code")
    def write_code(self, request: CodeRequest) -> CodeResult:
        return self._model_activity(code_writing.write_code_turn, request)

    @activity.defn(name="rule_on_tests")
    def rule_on_tests(self, request: RulingRequest) -> RulingResult:
        return self._model_activity(code_writing.rule_on_failures, request)

    # --- bookkeeping (the workflows' task queue) --------------------------------------------------------------

    @activity.defn(name="start_run")
    def start_run(self, request: StartRequest) -> Team:
        return _configuration_errors_are_final(lambda: runs.start_run(self.engine, request))

    @activity.defn(name="record_progress")
    def record_progress(self, update: ProgressUpdate) -> None:
        _configuration_errors_are_final(lambda: runs.record_progress(self.engine, update))

    @activity.defn(name="record_status")
    def record_status(self, update: StatusUpdate) -> None:
        _configuration_errors_are_final(lambda: runs.record_status(self.engine, update))

    @activity.defn(name="record_human_message")
    def record_human_message(self, request: HumanMessageRequest) -> str:
        return _configuration_errors_are_final(lambda: runs.record_human_message(self.engine, request))

    @activity.defn(name="apply_approval")
    def apply_approval(self, request: ApprovalRequest) -> ApprovalOutcome:
        return _configuration_errors_are_final(lambda: runs.apply_approval(self.engine, request))

    # --- code the agents wrote, run (the `<queue>-sandbox` task queue; see activities/sandbox.py) ---------------

    @activity.defn(name="run_tests")
    def run_tests(self, request: TestRunRequest) -> TestRound:
        """pytest on the code in the sandbox, the round recorded; heartbeats while it runs, a cancel kills it."""
        with heartbeating():
            done = _configuration_errors_are_final(
                lambda: pytest_runs.run_tests(
                    request,
                    engine=self.engine,
                    store=self.store,
                    limits=self.sandbox_limits,
                    should_stop=activity.is_cancelled,
                )
            )
        if done is None:
            raise CancelledError("the activity was cancelled")
        return done

    @activity.defn(name="record_test_outcome")
    def record_test_outcome(self, request: TestOutcomeRequest) -> list[dict[str, str]]:
        return _configuration_errors_are_final(
            lambda: pytest_runs.record_test_outcome(request, engine=self.engine, store=self.store)
        )

    # --- mirrors (the `<queue>-integrations` task queue; HTTP calls) -------------------------------------------

    @activity.defn(name="sync_jira")
    def sync_jira(self, request: SyncRequest) -> SyncResult:
        return _integration_errors_are_plain(lambda: integrations.sync_jira(self.engine, self.settings, request))

    @activity.defn(name="sync_confluence")
    def sync_confluence(self, request: SyncRequest) -> SyncResult:
        return _integration_errors_are_plain(lambda: integrations.sync_confluence(self.engine, self.settings, request))

    @activity.defn(name="record_sync_failure")
    def record_sync_failure(self, failure: SyncFailure) -> None:
        _configuration_errors_are_final(lambda: integrations.record_sync_failure(self.engine, failure))

    def model_activities(self) -> list[Callable[..., Any]]:
        return [self.run_agent_turn, self.hold_decision, self.write_code, self.rule_on_tests]

    def bookkeeping_activities(self) -> list[Callable[..., Any]]:
        return [
            self.start_run,
            self.record_progress,
            self.record_status,
            self.record_human_message,
            self.apply_approval,
            self.record_sync_failure,
            self.record_test_outcome,
        ]

    def sandbox_activities(self) -> list[Callable[..., Any]]:
        return [self.run_tests]

    def integration_activities(self) -> list[Callable[..., Any]]:
        return [self.sync_jira, self.sync_confluence]
