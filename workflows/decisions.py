"""The team's decisions: a decide step (the lead proposes variants, the team votes, the lead justifies), a person's
approval of its choice where the run's options ask for one, and the code loop's ruling on tests that contradict the
requirement (the reviewer names them, the team votes on ruling them out)."""

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.activity_calls import bookkeeping
from workflows.steps import StepRunner

with workflow.unsafe.imports_passed_through():
    from activities.definitions import ConclaveActivities
    from activities.sandbox import TestOutcome
    from activities.types import DecisionOutcome, DecisionRequest, RulingRequest
    from db.enums import WorkflowStatus
    from workflows.templates import StepKind, StepSpec
    from workflows.types import ApprovalRequest, DecisionApproval, StepState, StepStatus, TeamMember, summary_of

# A ruling: the reviewer's answer and up to two repairs of its JSON; then the team votes on these two variants.
CALLS_PER_RULING = 3
KEEP_TESTS = {"title": "Keep the tests", "description": "They follow from the requirement: the code must change."}
RULE_OUT_TESTS = {"title": "Rule them out", "description": "They contradict the requirement: they are not run again."}


class DecisionSteps(StepRunner):
    """The `decide` kind of step, and the ruling on tests the code loop asks for."""

    async def decide(self, name: str) -> DecisionOutcome | None:
        """The lead proposes variants, the team votes, the lead justifies; then, if asked, a person approves."""
        spec = self._spec(name, StepKind.DECIDE)
        if (lead := await self._agent_for(spec, spec.role)) is None:
            return None
        voters = self._voters(spec, lead)
        async with self._step(spec, lead) as state:
            await self._deliver_messages()
            request = DecisionRequest(
                workflow_id=self._input.workflow_id,
                step=name,
                key=name,
                problem=spec.task,
                agent_ids=[v.agent_id for v in voters],
            )
            outcome = await self._model(
                ConclaveActivities.hold_decision, request, state, calls=2 + len(voters), members=voters
            )
            state.decision_id = outcome.decision_id
            tally = ", ".join(f"{k}: {v}" for k, v in outcome.tally.items())
            how = "uncontested: one option, no vote" if outcome.uncontested else f"votes {tally}"
            state.summary = summary_of(f"{outcome.chosen_variant_id} - {outcome.chosen_title} ({how})")
            if self._input.options.approval.applies_to(name):
                await self._await_approval(spec, state, outcome)
        return outcome

    async def _await_approval(self, spec: StepSpec, state: StepState, outcome: DecisionOutcome) -> None:
        """Pause until a person approves or overrides the decision (the `approve_decision` signal), or the timeout
        applies the default."""
        options = self._input.options.approval
        self._awaiting = outcome.decision_id
        state.status = StepStatus.WAITING_FOR_APPROVAL.value
        await self._record_progress(state)
        await self._set_status(WorkflowStatus.PAUSED)
        approval: DecisionApproval | None = None
        try:
            await workflow.wait_condition(
                lambda: outcome.decision_id in self._approvals, timeout=timedelta(seconds=options.timeout_seconds)
            )
            approval = self._approvals[outcome.decision_id]
        except TimeoutError:
            if options.on_timeout == "fail":
                raise ApplicationError(
                    f"decision {spec.title!r} was not approved within {options.timeout_seconds} s", non_retryable=True
                ) from None
        result = await bookkeeping(
            ConclaveActivities.apply_approval,
            ApprovalRequest(self._input.workflow_id, spec.name, outcome.decision_id, approval),
        )
        self._awaiting = None
        state.status = StepStatus.RUNNING.value
        state.summary = summary_of(f"{state.summary} {result.note}")
        await self._set_status(WorkflowStatus.RUNNING)

    async def _rule_on_tests(
        self,
        spec: StepSpec,
        reviewer: TeamMember,
        key: str,
        tests: list[dict[str, str]],
        failing: list[TestOutcome],
        limit: int,
        parent: str,
    ) -> list[dict[str, str]]:
        """The reviewer names failing tests that contradict the requirement (at most `limit`); the team votes on
        ruling them out. Returns the tests ruled out ({"test", "reason"} each)."""
        state = self._state(spec.name)
        await self._deliver_messages()
        request = RulingRequest(
            self._input.workflow_id, spec.name, key, reviewer.agent_id, tests, failing, limit, parent_message_id=parent
        )
        ruling = await self._model(
            ConclaveActivities.rule_on_tests, request, state, calls=CALLS_PER_RULING, members=[reviewer]
        )
        if not ruling.proposed:
            return []
        voters = self._voters(spec, reviewer)
        names = ", ".join(p["test"] for p in ruling.proposed)
        vote = DecisionRequest(
            workflow_id=self._input.workflow_id,
            step=spec.name,
            key=key,
            problem=f"Rule out these failing tests, which the reviewer finds contradict the requirement: {names}?",
            description="\n".join(f"- {p['test']}: {p['reason']}" for p in ruling.proposed),
            agent_ids=[v.agent_id for v in voters],
            variants=[KEEP_TESTS, RULE_OUT_TESTS],
        )
        outcome = await self._model(
            ConclaveActivities.hold_decision, vote, state, calls=1 + len(voters), members=voters
        )
        state.decision_id = outcome.decision_id
        return list(ruling.proposed) if outcome.chosen_variant_id == "B" else []
