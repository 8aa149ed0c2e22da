"""The shared run: what every workflow type does around its steps.

A workflow class (`workflows/<type>.py`) sets its template and lists its steps in `steps`, each a call of the helper
for its kind with the step's name:
- `produce` and `produce_reviewed` (the review loop), in `writing.py`;
- `decide`, with a person's approval where the run's options ask for one, in `decisions.py`;
- `write_code`, `write_tests` and `test_and_repair` (the code loop, whose rulings are decisions), in `code_loop.py`.

Around them `TeamRun` runs the run's life: it starts the run (`start_run` gives the team), keeps the steps' states
(the `progress` query, `run_state.py`), records them at each step's boundary (`steps.py`: the points a resume resets
to), delivers a person's messages before the next agent turn, mirrors the run into Jira and Confluence
(`mirrors.py`), and records how the run ended: `completed`, `failed` with the error, or `cancelled` (recorded after
the cancel, then the workflow closes as cancelled).

Deterministic code only: every side effect is an activity (`activity_calls.py`; docs/architecture.md,
Invariants).
"""

from typing import ClassVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError, FailureError, is_cancelled_exception

from workflows.activity_calls import bookkeeping, describe
from workflows.code_loop import CodeLoop
from workflows.mirrors import Mirrors
from workflows.writing import WritingSteps

with workflow.unsafe.imports_passed_through():
    from activities.definitions import ConclaveActivities
    from db.enums import WorkflowStatus
    from workflows.legacy import CODE_LOOP
    from workflows.templates import WorkflowTemplate
    from workflows.types import RunInput, RunProgress, StartRequest, StepState, StepStatus


class TeamRun(WritingSteps, CodeLoop):
    """Base of the workflow classes: each sets `template` and defines `run` (calling `execute`) and `steps`.

    A class whose steps changed sets `legacy` to the template its runs followed before, and defines `steps_v1`, the
    steps of that template: a run started before the change (its history has no `CODE_LOOP` patch marker) runs
    those, so replaying it (a restarted worker, a resume) issues the same commands as it did.
    """

    legacy: ClassVar[WorkflowTemplate | None] = None

    @property
    def started_before_code_loop(self) -> bool:
        return self._template is not self.template

    async def steps(self) -> None:
        raise NotImplementedError

    async def steps_v1(self) -> None:
        raise NotImplementedError

    async def execute(self, run: RunInput) -> RunProgress:
        self._input = run
        if self.legacy is not None and not workflow.patched(CODE_LOOP):
            self._template = self.legacy
            self._steps = self._lay_out(self.legacy)
        try:
            self._team = await bookkeeping(
                ConclaveActivities.start_run,
                StartRequest(run.workflow_id, self._template.workflow_type.value, self.progress()),
            )
            self._mirrors = Mirrors(run.workflow_id, self._team.integrations, run.integration_attempts)
            self._status = WorkflowStatus.RUNNING.value
            await self._mirrors.sync()
            await (self.steps_v1() if self.started_before_code_loop else self.steps())
            await self._deliver_messages()
            await self._mirrors.sync(final=WorkflowStatus.COMPLETED)
            await self._set_status(WorkflowStatus.COMPLETED)
            return self.progress()
        except BaseException as exc:
            self._awaiting = None
            if is_cancelled_exception(exc):
                self._end_current(StepStatus.CANCELLED, "cancelled")
                await self._deliver_messages()  # a message sent just before the cancel is kept
                await self._set_status(WorkflowStatus.CANCELLED)
                raise
            if not isinstance(exc, FailureError):
                raise  # a bug in workflow code: Temporal retries the workflow task once a fixed worker runs
            where = self._current.title if self._current else "start"
            error = f"{where}: {describe(exc)}"
            failed = self._current
            self._end_current(StepStatus.FAILED, error)
            await self._deliver_messages()
            await self._mirror_failed_run(failed)
            await self._set_status(WorkflowStatus.FAILED, error)
            raise ApplicationError(error, non_retryable=True) from exc

    async def _mirror_failed_run(self, failed: StepState | None) -> None:
        """The last sync of a failed run, with the failed step recorded first so the mirrors show it. A cancel that
        arrives meanwhile changes nothing: the run has failed, and records so next."""
        if not self._mirrors.systems:
            return
        try:
            if failed is not None:
                await self._record_progress(failed)
            await self._mirrors.sync(final=WorkflowStatus.FAILED)
        except BaseException as exc:
            if not is_cancelled_exception(exc):
                raise
