"""What a person and an operator see of a run and send to it: the run's state, the `progress` query, and the
`human_message` and `approve_decision` signals.

The API sends these by reference (`RunState.approve_decision`). This module imports no activity code, so the API
does not load the agents to send a signal; the workflow classes inherit it through `TeamRun`.
"""

import uuid
from typing import ClassVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from db.enums import WorkflowStatus
    from workflows.templates import WorkflowTemplate
    from workflows.types import (
        FINISHED_STEP,
        DecisionApproval,
        HumanMessage,
        RunInput,
        RunProgress,
        StepState,
        Team,
    )


class RunState:
    """The state every step of a run reads and changes, and the run's query and signals."""

    template: ClassVar[WorkflowTemplate]

    def __init__(self) -> None:
        self._input = RunInput(workflow_id="")
        self._team = Team(members=[])
        self._status = WorkflowStatus.PENDING.value
        self._template = self.template
        self._steps = self._lay_out(self.template)
        self._current: StepState | None = None
        self._inbox: list[HumanMessage] = []
        self._signals = 0
        self._approvals: dict[str, DecisionApproval] = {}
        self._awaiting: str | None = None

    @staticmethod
    def _lay_out(template: WorkflowTemplate) -> list[StepState]:
        return [StepState(name=s.name, title=s.title, kind=s.kind.value) for s in template.steps]

    @workflow.query
    def progress(self) -> RunProgress:
        done = sum(1 for s in self._steps if s.status in FINISHED_STEP)
        return RunProgress(
            status=self._status,
            current_step=self._current.name if self._current else None,
            completed_steps=done,
            total_steps=len(self._steps),
            progress_percentage=round(100 * done / len(self._steps)),
            steps=self._steps,
            prompt_tokens=sum(s.prompt_tokens for s in self._steps),
            completion_tokens=sum(s.completion_tokens for s in self._steps),
            awaiting_approval=self._awaiting,
            run_id=workflow.info().run_id,
        )

    @workflow.signal
    def human_message(self, message: HumanMessage) -> None:
        """A person's message to the team: recorded before the next agent turn, which sees it."""
        self._signals += 1
        if not message.message_id:
            # From the n-th signal's place and text, not from randomness: a reset (resume) starts a new random
            # seed but delivers the same signals again in the same order, and must not record them twice.
            key = f"{workflow.info().workflow_id}|human|{self._signals}|{message.author}|{message.content}"
            message.message_id = str(uuid.uuid5(uuid.NAMESPACE_URL, key))
        self._inbox.append(message)

    @workflow.signal
    def approve_decision(self, approval: DecisionApproval) -> None:
        """A person's answer to a decision waiting for approval (`approve`, or `override` with a variant id)."""
        self._approvals[approval.decision_id] = approval
