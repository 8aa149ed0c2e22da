"""What every step does around its work: find its spec and agents, mark it running, record it at its boundary,
deliver a person's messages before each agent turn, and count each model activity's tokens.

Each kind of step (`writing.py`, `decisions.py`, `code_loop.py`) builds on `StepRunner`.
"""

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.activity_calls import Activity, Request, bookkeeping, model_activity, stop_if_cancelled
from workflows.mirrors import Mirrors
from workflows.run_state import RunState

with workflow.unsafe.imports_passed_through():
    from activities.definitions import CONFIGURATION_ERROR, ConclaveActivities
    from db.enums import AgentRole, WorkflowStatus
    from workflows.templates import StepKind, StepSpec
    from workflows.types import (
        HumanMessageRequest,
        ProgressUpdate,
        StatusUpdate,
        StepState,
        StepStatus,
        TeamMember,
    )


class Spent(Protocol):
    """A model activity's result: what it cost."""

    prompt_tokens: int
    completion_tokens: int


Turn = TypeVar("Turn", bound=Spent)


class StepRunner(RunState):
    """The helpers every kind of step is written with (`_step`, `_agent_for`, `_model`, ...)."""

    def __init__(self) -> None:
        super().__init__()
        self._mirrors = Mirrors()

    # --- a step's spec and agents -----------------------------------------------------------------------------

    def _spec(self, name: str, kind: StepKind) -> StepSpec:
        spec = self._template.step(name)
        if spec.kind != kind:
            raise ApplicationError(f"step {name} is a {spec.kind} step, not {kind}", non_retryable=True)
        return spec

    async def _agent_for(self, spec: StepSpec, role: AgentRole) -> TeamMember | None:
        """The team's agent of `role` for the step. Without one, a step that cannot run without it fails the run, and
        an optional step is recorded as skipped (None)."""
        member = self._team.first(role.value)
        if member is None and not spec.optional:
            raise ApplicationError(
                f"the team has no {role.value} for step {spec.name}", type=CONFIGURATION_ERROR, non_retryable=True
            )
        if member is None:
            await self._skip(spec, role)
        return member

    def _voters(self, spec: StepSpec, lead: TeamMember) -> list[TeamMember]:
        """The lead, then an agent of each of the step's voter roles the team has (the lead votes once)."""
        others = (self._team.first(role.value) for role in spec.voter_roles)
        return [lead] + [m for m in others if m and m.agent_id != lead.agent_id]

    @property
    def _heartbeat(self) -> timedelta:
        """How long a model activity or a test run may go without a heartbeat before it is retried elsewhere."""
        return timedelta(seconds=self._input.heartbeat_timeout_seconds)

    def _state(self, name: str) -> StepState:
        return next(s for s in self._steps if s.name == name)

    # --- a step's life ----------------------------------------------------------------------------------------

    @asynccontextmanager
    async def _step(self, spec: StepSpec, agent: TeamMember) -> AsyncIterator[StepState]:
        """The step runs (recorded and mirrored), its body fills its state, then it is recorded as done: a boundary
        a resume restarts after."""
        stop_if_cancelled()
        state = self._state(spec.name)
        state.status, state.agent, state.error = StepStatus.RUNNING.value, agent.name, None
        state.started_at, state.completed_at = workflow.now().isoformat(), None
        self._current = state
        await self._record_progress(state)
        await self._mirrors.sync()
        yield state
        self._end_current(StepStatus.COMPLETED)
        await self._record_progress(state, boundary=True)
        await self._mirrors.sync()

    async def _skip(self, spec: StepSpec, missing: AgentRole) -> None:
        state = self._state(spec.name)
        state.status = StepStatus.SKIPPED.value
        state.summary = f"skipped: the team has no {missing.value}"
        await self._record_progress(state, boundary=True)
        await self._mirrors.sync()

    @staticmethod
    def _add_artifacts(state: StepState, paths: Iterable[str]) -> None:
        """The files the step wrote, each named once, in the order first written."""
        state.artifacts = list(dict.fromkeys([*state.artifacts, *paths]))

    def _end_current(self, status: StepStatus, error: str | None = None) -> None:
        state, self._current = self._current, None
        if state is None:
            return
        state.status, state.error = status.value, error
        now = workflow.now()
        state.completed_at = now.isoformat()
        if state.started_at:
            state.duration_ms = int((now - datetime.fromisoformat(state.started_at)).total_seconds() * 1000)

    # --- the work of a step -----------------------------------------------------------------------------------

    async def _model(
        self,
        activity: Activity[Request, Turn],
        request: Request,
        state: StepState,
        *,
        calls: int,
        members: list[TeamMember],
    ) -> Turn:
        """A model activity of the step (`members` take part in its `calls`); its tokens count for the step."""
        result = await model_activity(
            activity, request, calls=calls, members=members, heartbeat_timeout=self._heartbeat
        )
        state.turns += 1
        state.prompt_tokens += result.prompt_tokens
        state.completion_tokens += result.completion_tokens
        return result

    # --- what the run records ---------------------------------------------------------------------------------

    async def _deliver_messages(self) -> None:
        """A person's messages, recorded before the next agent turn (which sees them)."""
        while self._inbox:
            message = self._inbox[0]
            await bookkeeping(
                ConclaveActivities.record_human_message, HumanMessageRequest(self._input.workflow_id, message)
            )
            self._inbox.pop(0)  # only once it is stored: a cancel meanwhile leaves it for the cleanup

    async def _record_progress(self, state: StepState, boundary: bool = False) -> None:
        update = ProgressUpdate(self._input.workflow_id, state.name, self.progress(), boundary=boundary)
        await bookkeeping(ConclaveActivities.record_progress, update)

    async def _set_status(self, status: WorkflowStatus, error: str | None = None) -> None:
        self._status = status.value
        update = StatusUpdate(self._input.workflow_id, status.value, error, self.progress(), self._mirrors.ended_at)
        await bookkeeping(ConclaveActivities.record_status, update)
