"""The shared step runner: what every workflow type does around its steps.

A workflow class lists its steps in order with helpers that run the step of the same name from its template:
`produce`, `produce_reviewed` and `decide`, and for code that is run, `write_code`, `write_tests` and
`test_and_repair` (the code loop). The runner keeps the steps' states (the `progress` query), records
them between steps (`record_progress`: the step boundaries a resume resets to), delivers a person's messages before
the next agent turn, makes chosen decisions wait for approval, and records how the run ended: `completed`,
`failed` with the error, or `cancelled` (recorded after the cancel, then the workflow closes as cancelled).

Deterministic code only: every side effect is an activity (DESIGN.md, Invariants).
"""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError, is_cancelled_exception
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from activities.definitions import CONFIGURATION_ERROR, ConclaveActivities
    from activities.sandbox import SandboxResult
    from activities.types import (
        CodeRequest,
        CodeResult,
        DecisionOutcome,
        DecisionRequest,
        RoundSummary,
        RulingRequest,
        RulingResult,
        SyncFailure,
        SyncRequest,
        TestOutcomeRequest,
        TestRound,
        TestRunRequest,
        TurnRequest,
        TurnResult,
    )
    from agents.prompts import first_line
    from agents.write_code import ATTEMPTS
    from db.enums import MessageType, WorkflowStatus
    from integrations import JIRA
    from workflows.legacy import CODE_LOOP
    from workflows.templates import StepKind, StepSpec, WorkflowTemplate
    from workflows.types import (
        FINISHED_STEP,
        ApprovalRequest,
        DecisionApproval,
        HumanMessage,
        HumanMessageRequest,
        ProgressUpdate,
        RunInput,
        RunProgress,
        StartRequest,
        StatusUpdate,
        StepState,
        StepStatus,
        Team,
        TeamMember,
        TestTally,
        integrations_task_queue,
        llm_task_queue,
        sandbox_task_queue,
        summary_of,
    )

BOOKKEEPING = {
    "start_to_close_timeout": timedelta(seconds=30),
    # A cancel waits for a running write to finish, so the cleanup's `cancelled` is the last word on the row.
    "cancellation_type": ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    # A database that is down is waited for (the run resumes when it is back); bad configuration is final.
    "retry_policy": RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(seconds=30),
        non_retryable_error_types=[CONFIGURATION_ERROR],
    ),
}
# A model activity's time limit: setup plus its model calls at a pessimistic generation speed.
MODEL_SETUP_SECONDS = 120
SLOWEST_TOKENS_PER_SECOND = 5
MAX_MODEL_ACTIVITY = timedelta(hours=2)
MODEL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=3,
    non_retryable_error_types=[CONFIGURATION_ERROR],
)
# Model calls of one turn: a draft, its self-check and one revision.
CALLS_PER_TURN = 3
# A Jira or Confluence sync: a few dozen requests at most, each with its own timeout (INTEGRATION_TIMEOUT).
SYNC_TIMEOUT = timedelta(minutes=5)
# A test run: the sandbox's own limits (SANDBOX_WALL_SECONDS on the worker) stop it long before this.
TEST_RUN_TIMEOUT = timedelta(minutes=15)
TEST_RUN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_attempts=3, non_retryable_error_types=[CONFIGURATION_ERROR]
)
# A ruling: the reviewer's answer and up to two repairs of its JSON; then the team votes on these two variants.
CALLS_PER_RULING = 3
KEEP_TESTS = {"title": "Keep the tests", "description": "They follow from the requirement: the code must change."}
RULE_OUT_TESTS = {"title": "Rule them out", "description": "They contradict the requirement: they are not run again."}


def describe(error: BaseException) -> str:
    """The innermost message of a Temporal failure chain (what actually went wrong)."""
    message = str(error)
    while isinstance(error, FailureError) and error.cause is not None:
        error = error.cause
        message = str(error) or message
    return message


RULING_NAMED_ERRORS = "ruling-named-errors"  # patch marker: errors the requirement names go to a ruling too
REPAIR_CANDIDATES = "repair-candidates"  # patch marker: each repair round writes `options.code.candidates` rewrites


def _expects_otherwise(error: str, named_errors: Sequence[str] = ()) -> bool:
    """Whether a test failed on what it expects (an assertion, an exception not raised), or on an exception the
    requirement itself names (`parse("")` raising the ValueError the requirement asks for, in a test expecting 0):
    only such a test can contradict the requirement. One that fails on another error the code raised (NameError,
    TypeError...) is the code's."""
    line = first_line(error)
    if line.startswith(("assert", "AssertionError", "Failed: DID NOT RAISE")):
        return True
    raised = re.match(r"(?:\w+\.)*(\w+)", line)
    return bool(raised and raised.group(1) in named_errors)


def _add_turn(state: StepState, result: Any) -> None:
    """One more model activity in the step, with the tokens it spent."""
    state.turns += 1
    state.prompt_tokens += result.prompt_tokens
    state.completion_tokens += result.completion_tokens


def _counts(result: "SandboxResult") -> tuple[str, int, int, str | None]:
    return result.status, result.passed, result.total, result.reason


def _stop_if_cancelled() -> None:
    """A cancel that arrived while an activity finished anyway is still a cancel: stop before the next step."""
    if workflow.cancellation_reason() is not None:
        raise asyncio.CancelledError("the run was cancelled")


class TeamRun:
    """Base of the workflow classes: each sets `template` and defines `run` (calling `execute`) and `steps`.

    A class whose steps changed sets `legacy` to the template its runs followed before: a run started before the
    change (its history has no `CODE_LOOP` patch marker) keeps those steps, so replaying it (a restarted worker, a
    resume) issues the same commands as it did; `started_before_code_loop` tells `steps` which to run.
    """

    template: ClassVar[WorkflowTemplate]
    legacy: ClassVar[WorkflowTemplate | None] = None

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
        self._mirror_failed: set[str] = set()
        self._ended_at: str | None = None
        # The code loop's work so far: the candidate modules, the tests and who wrote them.
        self._candidates: list[CodeResult] = []
        self._tests: CodeResult | None = None
        self._tester: TeamMember | None = None
        # The exceptions the requirement names (from the test runs): a test failing on one may be ruled out.
        self._named_errors: Sequence[str] = ()

    @staticmethod
    def _lay_out(template: WorkflowTemplate) -> list[StepState]:
        return [StepState(name=s.name, title=s.title, kind=s.kind.value) for s in template.steps]

    @property
    def started_before_code_loop(self) -> bool:
        return self._template is not self.template

    # --- what a person and an operator see and send -----------------------------------------------------------

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

    # --- the run ----------------------------------------------------------------------------------------------

    async def steps(self) -> None:
        raise NotImplementedError

    async def execute(self, run: RunInput) -> RunProgress:
        self._input = run
        if self.legacy is not None and not workflow.patched(CODE_LOOP):
            self._template = self.legacy
            self._steps = self._lay_out(self.legacy)
        try:
            self._team = await self._bookkeeping(
                ConclaveActivities.start_run,
                StartRequest(run.workflow_id, self._template.workflow_type.value, self.progress()),
            )
            self._status = WorkflowStatus.RUNNING.value
            await self._mirror()
            await self.steps()
            await self._deliver_messages()
            await self._mirror(final=WorkflowStatus.COMPLETED)
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

    # --- the three kinds of step ------------------------------------------------------------------------------

    async def produce(self, name: str) -> TurnResult | None:
        """One agent writes what the step asks (code blocks become artifacts)."""
        spec = self._spec(name, StepKind.PRODUCE)
        if (author := self._member(spec, spec.role)) is None:
            await self._skip(spec, spec.role)
            return None
        async with self._step(spec, author) as state:
            result = await self._turn(spec, author, "main", spec.task, self_check=spec.self_check)
            state.summary = summary_of(result.summary)
        return result

    async def produce_reviewed(self, name: str) -> TurnResult | None:
        """The author writes, the reviewer judges; the author revises until approved or out of review rounds."""
        spec = self._spec(name, StepKind.REVIEW_LOOP)
        author = self._member(spec, spec.role)
        reviewer = self._member(spec, spec.reviewer_role) if spec.reviewer_role else None
        if author is None or reviewer is None:
            await self._skip(spec, spec.role if author is None else spec.reviewer_role)
            return None
        rounds = self._input.options.max_review_rounds
        async with self._step(spec, author) as state:
            work = await self._turn(
                spec, author, "draft", spec.task, self_check=spec.self_check, addressed=[reviewer], ask=True
            )
            for round_ in range(1, rounds + 2):
                review = await self._turn(
                    spec, reviewer, f"review-{round_}", f"Review this {spec.title.lower()}. The task was: {spec.task}",
                    kind="review", subject=spec.title.lower(), reviewed=work, addressed=[author],
                )  # fmt: skip
                # approved, or no readable verdict (nothing to revise for; a run before this had only these two)
                if review.verdict != "request_changes" or round_ > rounds:
                    break
                work = await self._turn(
                    spec, author, f"revision-{round_}",
                    f"Revise your work so that it answers every finding of {reviewer.name}'s review. {spec.task}",
                    parent=review.message_id, addressed=[reviewer], ask=True,
                )  # fmt: skip
            revisions = round_ - 1
            outcome = {"approve": "approved", "request_changes": "not approved"}.get(
                review.verdict or "", "not approved (no readable verdict)"
            )
            state.summary = summary_of(f"{outcome} by {reviewer.name} after {revisions} revision(s). {work.summary}")
        return work

    async def decide(self, name: str) -> DecisionOutcome | None:
        """The lead proposes variants, the team votes, the lead justifies; then, if asked, a person approves."""
        spec = self._spec(name, StepKind.DECIDE)
        if (lead := self._member(spec, spec.role)) is None:
            await self._skip(spec, spec.role)
            return None
        voters = [lead] + [
            m for role in spec.voter_roles if (m := self._team.first(role.value)) and m.agent_id != lead.agent_id
        ]
        async with self._step(spec, lead) as state:
            await self._deliver_messages()
            outcome: DecisionOutcome = await self._model(
                ConclaveActivities.hold_decision,
                DecisionRequest(
                    workflow_id=self._input.workflow_id, step=name, key=name, problem=spec.task,
                    agent_ids=[v.agent_id for v in voters],
                ),
                calls=2 + len(voters), members=voters,
            )  # fmt: skip
            state.decision_id = outcome.decision_id
            _add_turn(state, outcome)
            tally = ", ".join(f"{k}: {v}" for k, v in outcome.tally.items())
            how = "uncontested: one option, no vote" if outcome.uncontested else f"votes {tally}"
            state.summary = summary_of(f"{outcome.chosen_variant_id} - {outcome.chosen_title} ({how})")
            if self._input.options.approval.applies_to(name):
                await self._await_approval(spec, state, outcome)
        return outcome

    # --- the code loop: code, tests from the requirement, test runs with repairs --------------------------------

    async def write_code(self, name: str) -> None:
        """1. The developer writes the module(s) the requirement asks for, checked to compile and import cleanly:
        `options.code.candidates` of them, each a little warmer than the last."""
        spec = self._spec(name, StepKind.CODE)
        developer = self._needed(spec, spec.role)
        count = self._input.options.code.candidates
        async with self._step(spec, developer) as state:
            self._candidates = []
            for n in range(1, count + 1):
                turn = "module" if count == 1 else f"candidate-{n}"
                self._candidates.append(await self._code_turn(spec, developer, turn, "module", attempt=n))
            usable = [c for c in self._candidates if c.error is None]
            files = ", ".join(dict.fromkeys(f["path"] for c in usable for f in c.files))
            problems = "; ".join(dict.fromkeys(c.error for c in self._candidates if c.error))
            state.summary = summary_of(
                f"{len(usable)} of {count} candidates usable ({files})" if count > 1 and usable
                else f"wrote {files}" if usable else f"no usable code yet: {problems}"
            )  # fmt: skip

    async def write_tests(self, name: str) -> None:
        """2. The tester writes pytest tests from the requirement; of the code it is shown only the signatures."""
        spec = self._spec(name, StepKind.TESTS)
        self._tester = tester = self._needed(spec, spec.role)
        async with self._step(spec, tester) as state:
            module = next((c for c in self._candidates if c.error is None), None)
            self._tests = await self._code_turn(spec, tester, "tests", "tests", modules=module.files if module else [])
            files = ", ".join(f["path"] for f in self._tests.files)
            state.summary = summary_of(
                f"wrote {files}" if self._tests.error is None else f"no usable tests: {self._tests.error}"
            )

    async def test_and_repair(self, name: str) -> None:
        """3. The sandbox runs the tests on the code (in round 1 on every candidate: the one passing the most goes
        on); the developer writes it again from the requirement and the failing tests (k rewrites with k candidates:
        the one passing the most goes on); again, until they pass or `options.code.rounds` run out. 4. Before a
        repair, the reviewer may find failing tests that contradict the requirement; the team votes, and tests ruled
        out are not run again (never more than half of them). The report states what the last run of the final code
        says, nothing more."""
        spec = self._spec(name, StepKind.TEST_RUN)
        developer = self._needed(spec, spec.role)
        reviewer = self._team.first(spec.reviewer_role.value) if spec.reviewer_role else None
        tests = self._tests
        if tests is None:
            raise ApplicationError(f"step {name} runs tests, and no step before it wrote any", non_retryable=True)
        rounds = self._input.options.code.rounds
        async with self._step(spec, developer) as state:
            tally = state.tests = TestTally(candidates=len(self._candidates))
            history: list[RoundSummary] = []
            ruled_out: list[dict[str, str]] = []
            screened: set[str] = set()
            tried: list[tuple[CodeResult, SandboxResult, int]] = []  # with how many tests were ruled out by then
            candidates = self._candidates
            for round_ in range(1, rounds + 1):
                results = await asyncio.gather(
                    *(
                        self._test_round(spec, round_, n, code, ruled_out, of=len(candidates))
                        for n, code in enumerate(candidates, 1)
                    )
                )
                for n, result in enumerate(results, 1):
                    history.append(RoundSummary(round_, n, result.status, result.passed, result.total, result.reason))
                best = max(range(len(results)), key=lambda i: results[i].passed)  # the first of the best
                code, result = candidates[best], results[best]
                tried.append((code, result, len(ruled_out)))
                tally.round = round_
                tally.status, tally.passed, tally.total, tally.reason = _counts(result)
                await self._record_progress(state)
                if result.status == "passed" or round_ == rounds or tests.error:
                    break
                named = self._named_errors if workflow.patched(RULING_NAMED_ERRORS) else ()
                failing = [
                    t for t in result.failures if t.name not in screened and _expects_otherwise(t.message, named)
                ]
                if reviewer is not None and failing and code.error is None:
                    screened.update(t.name for t in failing)
                    ruled = await self._rule_out(spec, reviewer, round_, result, failing, len(ruled_out), code)
                    ruled_out += ruled
                    tally.ruled_out = len(ruled_out)
                    gone = {r["test"] for r in ruled_out}
                    if ruled and all(t.name in gone for t in result.failures):
                        candidates = [code]  # nothing left to repair: run the rest again as it is
                        continue
                problem = None if result.total and result.status != "stopped" else result.reason
                rewrites = len(self._candidates) if workflow.patched(REPAIR_CANDIDATES) else 1
                candidates = [
                    await self._code_turn(
                        spec, developer, f"repair-{round_}" + (f"-{n}" if n > 1 else ""), "repair", attempt=round_,
                        candidate=n, modules=code.files, tests=tests.files, last=result, problem=problem,
                        parent=code.message_id,
                    )
                    for n in range(1, rewrites + 1)
                ]  # fmt: skip
            code, result, ruled_then = self._final(tried)
            if ruled_then < len(ruled_out):  # kept from before a ruling: its tests are run again without those
                result = await self._test_round(spec, tally.round + 1, 1, code, ruled_out, final=True)
                history.append(
                    RoundSummary(tally.round + 1, 1, result.status, result.passed, result.total, result.reason)
                )
            tally.status, tally.passed, tally.total, tally.reason = _counts(result)
            outcome = TestOutcomeRequest(
                self._input.workflow_id, spec.name, (self._tester or developer).agent_id, code.files, tests.files,
                result, history, rounds, len(self._candidates), ruled_out,
            )  # fmt: skip
            written = await self._bookkeeping(ConclaveActivities.record_test_outcome, outcome)
            state.artifacts = list(dict.fromkeys([*state.artifacts, *(a["path"] for a in written)]))
            state.summary = summary_of(self._verdict(tally, rounds))

    @staticmethod
    def _final(tried: list[tuple[CodeResult, "SandboxResult", int]]) -> tuple[CodeResult, "SandboxResult", int]:
        """The code to keep: the one whose run passed the largest share of its tests (the later on a tie), with that
        run; the last tried when none could be tested."""
        tested = [entry for entry in tried if entry[1].total]
        if not tested:
            return tried[-1]
        return max(reversed(tested), key=lambda entry: entry[1].passed / entry[1].total)

    @staticmethod
    def _verdict(tally: TestTally, rounds: int) -> str:
        ruled = f"; {tally.ruled_out} ruled out by the team" if tally.ruled_out else ""
        if tally.status == "passed":
            return f"all {tally.total} tests pass (round {tally.round} of {rounds}{ruled})"
        if tally.total:
            return f"NOT PASSING: {tally.passed} of {tally.total} tests pass after {tally.round} round(s){ruled}"
        return f"NOT VERIFIED: {tally.reason or 'no test ran'}"

    async def _test_round(
        self, spec: StepSpec, round_: int, candidate: int, code: CodeResult, ruled_out: list[dict[str, str]],
        final: bool = False, of: int = 1,
    ) -> "SandboxResult":  # fmt: skip
        """One run of the tests on one candidate in the sandbox (`final`: of the code kept, once more); code or tests
        that the guard refused are not run: the result says why."""
        tests = self._tests
        assert tests is not None
        if tests.error or code.error or not code.files:
            reason = (
                f"the tests cannot be used: {tests.error}" if tests.error else f"the code cannot be used: {code.error}"
            )
            return SandboxResult(status="invalid", reason=reason)
        request = TestRunRequest(
            self._input.workflow_id, spec.name, round_, candidate, code.files, tests.files,
            agent_id=(self._tester or self._needed(spec, spec.role)).agent_id,
            deselect=[r["test"] for r in ruled_out], parent_message_id=code.message_id,
            candidates=of, final=final,
        )  # fmt: skip
        done: TestRound = await workflow.execute_activity_method(
            ConclaveActivities.run_tests, request, task_queue=sandbox_task_queue(workflow.info().task_queue),
            start_to_close_timeout=TEST_RUN_TIMEOUT,
            heartbeat_timeout=timedelta(seconds=self._input.heartbeat_timeout_seconds),
            retry_policy=TEST_RUN_RETRY, cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )  # fmt: skip
        _stop_if_cancelled()
        self._named_errors = done.named_errors
        return done.result

    async def _rule_out(
        self, spec: StepSpec, reviewer: TeamMember, round_: int, result: "SandboxResult", failing: list[Any],
        already: int, code: CodeResult,
    ) -> list[dict[str, str]]:  # fmt: skip
        """The reviewer names failing tests that contradict the requirement; the team votes on ruling them out."""
        tests = self._tests
        assert tests is not None
        limit = (result.total + already) // 2 - already  # at most half of all the tests, ever
        if limit <= 0:
            return []
        state = self._state(spec.name)
        await self._deliver_messages()
        ruling: RulingResult = await self._model(
            ConclaveActivities.rule_on_tests,
            RulingRequest(self._input.workflow_id, spec.name, f"ruling-{round_}", reviewer.agent_id, tests.files,
                          failing, limit, parent_message_id=code.message_id),
            calls=CALLS_PER_RULING, members=[reviewer],
        )  # fmt: skip
        _add_turn(state, ruling)
        if not ruling.proposed:
            return []
        voters = [reviewer] + [
            m for role in spec.voter_roles if (m := self._team.first(role.value)) and m.agent_id != reviewer.agent_id
        ]
        names = ", ".join(p["test"] for p in ruling.proposed)
        outcome: DecisionOutcome = await self._model(
            ConclaveActivities.hold_decision,
            DecisionRequest(
                workflow_id=self._input.workflow_id, step=spec.name, key=f"ruling-{round_}",
                problem=f"Rule out these failing tests, which the reviewer finds contradict the requirement: {names}?",
                description="\n".join(f"- {p['test']}: {p['reason']}" for p in ruling.proposed),
                agent_ids=[v.agent_id for v in voters],
                variants=[KEEP_TESTS, RULE_OUT_TESTS],
            ),
            calls=1 + len(voters), members=voters,
        )  # fmt: skip
        state.decision_id = outcome.decision_id
        _add_turn(state, outcome)
        return list(ruling.proposed) if outcome.chosen_variant_id == "B" else []

    async def _code_turn(
        self, spec: StepSpec, agent: TeamMember, turn: str, purpose: str, *, attempt: int = 1,
        modules: list[dict[str, str]] | None = None, tests: list[dict[str, str]] | None = None,
        last: "SandboxResult | None" = None, problem: str | None = None, parent: str | None = None, candidate: int = 1,
    ) -> CodeResult:  # fmt: skip
        await self._deliver_messages()
        request = CodeRequest(
            workflow_id=self._input.workflow_id, step=spec.name, turn=turn, agent_id=agent.agent_id,
            purpose=purpose, task=spec.task, modules=modules or [], tests=tests or [],  # type: ignore[arg-type]
            failures=last.failures if last else [], passed=last.passed if last else 0,
            total=last.total if last else 0, problem=problem, attempt=attempt, candidate=candidate,
            parent_message_id=parent,
        )  # fmt: skip
        result: CodeResult = await self._model(ConclaveActivities.write_code, request, calls=ATTEMPTS, members=[agent])
        state = self._state(spec.name)
        _add_turn(state, result)
        state.artifacts = list(dict.fromkeys([*state.artifacts, *(a["path"] for a in result.files)]))
        return result

    # --- parts ------------------------------------------------------------------------------------------------

    def _spec(self, name: str, kind: StepKind) -> StepSpec:
        spec = self._template.step(name)
        if spec.kind != kind:
            raise ApplicationError(f"step {name} is a {spec.kind} step, not {kind}", non_retryable=True)
        return spec

    def _needed(self, spec: StepSpec, role: Any) -> TeamMember:
        member = self._member(spec, role)
        if member is None:  # an optional step of this kind would be skipped by its caller; these are never optional
            raise ApplicationError(f"the team has no {role.value} for step {spec.name}", non_retryable=True)
        return member

    def _member(self, spec: StepSpec, role: Any) -> TeamMember | None:
        member = self._team.first(role.value)
        if member is None and not spec.optional:
            raise ApplicationError(
                f"the team has no {role.value} for step {spec.name}", type=CONFIGURATION_ERROR, non_retryable=True
            )
        return member

    def _state(self, name: str) -> StepState:
        return next(s for s in self._steps if s.name == name)

    @asynccontextmanager
    async def _step(self, spec: StepSpec, agent: TeamMember) -> AsyncIterator[StepState]:
        _stop_if_cancelled()
        state = self._state(spec.name)
        state.status, state.agent, state.error = StepStatus.RUNNING.value, agent.name, None
        state.started_at, state.completed_at = workflow.now().isoformat(), None
        self._current = state
        await self._record_progress(state)
        await self._mirror()
        yield state
        self._end_current(StepStatus.COMPLETED)
        await self._record_progress(state, boundary=True)
        await self._mirror()

    async def _skip(self, spec: StepSpec, missing: Any) -> None:
        state = self._state(spec.name)
        state.status = StepStatus.SKIPPED.value
        state.summary = f"skipped: the team has no {missing.value}"
        await self._record_progress(state, boundary=True)
        await self._mirror()

    def _end_current(self, status: StepStatus, error: str | None = None) -> None:
        state, self._current = self._current, None
        if state is None:
            return
        state.status, state.error = status.value, error
        now = workflow.now()
        state.completed_at = now.isoformat()
        if state.started_at:
            state.duration_ms = int((now - datetime.fromisoformat(state.started_at)).total_seconds() * 1000)

    async def _turn(
        self,
        spec: StepSpec,
        agent: TeamMember,
        turn: str,
        task: str,
        *,
        kind: str = "produce",
        subject: str = "work",
        reviewed: TurnResult | None = None,
        parent: str | None = None,
        addressed: list[TeamMember] | None = None,
        ask: bool = False,
        self_check: bool = False,
    ) -> TurnResult:
        await self._deliver_messages()
        request = TurnRequest(
            workflow_id=self._input.workflow_id,
            step=spec.name,
            turn=turn,
            agent_id=agent.agent_id,
            task=task,
            kind="review" if kind == "review" else "produce",
            message_type=MessageType.REVIEW.value if kind == "review" else MessageType.PROPOSAL.value,
            subject=subject,
            review_artifact_ids=[a["artifact_id"] for a in reviewed.artifacts] if reviewed else [],
            review_message_id=reviewed.message_id if reviewed else None,
            parent_message_id=parent or (reviewed.message_id if reviewed else None),
            addressed_to=[a.agent_id for a in addressed or []],
            requires_response=ask,
            self_check=self_check,
        )
        result: TurnResult = await self._model(
            ConclaveActivities.run_agent_turn, request, calls=CALLS_PER_TURN, members=[agent]
        )
        state = self._state(spec.name)
        _add_turn(state, result)
        state.artifacts = list(dict.fromkeys([*state.artifacts, *(a["path"] for a in result.artifacts)]))
        return result

    async def _await_approval(self, spec: StepSpec, state: StepState, outcome: DecisionOutcome) -> None:
        """Pause until a person approves or overrides the decision, or the timeout applies the default."""
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
        result = await self._bookkeeping(
            ConclaveActivities.apply_approval,
            ApprovalRequest(self._input.workflow_id, spec.name, outcome.decision_id, approval),
        )
        self._awaiting = None
        state.status = StepStatus.RUNNING.value
        state.summary = summary_of(f"{state.summary} {result.note}")
        await self._set_status(WorkflowStatus.RUNNING)

    async def _deliver_messages(self) -> None:
        while self._inbox:
            message = self._inbox[0]
            await self._bookkeeping(
                ConclaveActivities.record_human_message, HumanMessageRequest(self._input.workflow_id, message)
            )
            self._inbox.pop(0)  # only once it is stored: a cancel meanwhile leaves it for the cleanup below

    async def _record_progress(self, state: StepState, boundary: bool = False) -> None:
        await self._bookkeeping(
            ConclaveActivities.record_progress,
            ProgressUpdate(self._input.workflow_id, state.name, self.progress(), boundary=boundary),
        )

    async def _set_status(self, status: WorkflowStatus, error: str | None = None) -> None:
        self._status = status.value
        update = StatusUpdate(self._input.workflow_id, status.value, error, self.progress(), self._ended_at)
        await self._bookkeeping(ConclaveActivities.record_status, update)

    async def _mirror(self, final: WorkflowStatus | None = None) -> None:
        """Bring the run's Jira issues up to date (and, at the end, its Confluence page). Never fails the run: after
        the retries the failure is recorded, and that system waits for the last sync before it is tried again."""
        for system in self._team.integrations:
            if final is None and (system != JIRA or system in self._mirror_failed):
                continue
            activity = ConclaveActivities.sync_jira if system == JIRA else ConclaveActivities.sync_confluence
            if final is not None and self._ended_at is None:
                self._ended_at = workflow.now().isoformat()  # the same time on the mirrors and on the row
            request = SyncRequest(self._input.workflow_id, final.value if final else None, self._ended_at)
            try:
                await workflow.execute_activity_method(
                    activity, request, task_queue=integrations_task_queue(workflow.info().task_queue),
                    start_to_close_timeout=SYNC_TIMEOUT,
                    retry_policy=RetryPolicy(
                        initial_interval=timedelta(seconds=2), maximum_interval=timedelta(seconds=60),
                        maximum_attempts=self._input.integration_attempts,
                        non_retryable_error_types=[CONFIGURATION_ERROR],
                    ),
                )  # fmt: skip
                self._mirror_failed.discard(system)
            except ActivityError as exc:
                if is_cancelled_exception(exc):
                    raise
                self._mirror_failed.add(system)
                failure = SyncFailure(self._input.workflow_id, system, describe(exc), final=final is not None)
                await self._bookkeeping(ConclaveActivities.record_sync_failure, failure)

    async def _mirror_failed_run(self, failed: StepState | None) -> None:
        """The last sync of a failed run, with the failed step recorded first so the mirrors show it. A cancel that
        arrives meanwhile changes nothing: the run has failed, and records so next."""
        if not self._team.integrations:
            return
        try:
            if failed is not None:
                await self._record_progress(failed)
            await self._mirror(final=WorkflowStatus.FAILED)
        except BaseException as exc:
            if not is_cancelled_exception(exc):
                raise

    async def _bookkeeping(self, activity: Any, argument: Any) -> Any:
        return await workflow.execute_activity_method(activity, argument, **BOOKKEEPING)  # type: ignore[call-overload]

    async def _model(self, activity: Any, argument: Any, *, calls: int, members: list[TeamMember]) -> Any:
        """A model activity on the model queue, timed for its calls; a cancel that arrived while it finished anyway
        still stops the run here."""
        max_tokens = max(m.max_tokens for m in members)
        seconds = MODEL_SETUP_SECONDS + calls * max_tokens / SLOWEST_TOKENS_PER_SECOND
        result = await workflow.execute_activity_method(
            activity,
            argument,
            task_queue=llm_task_queue(workflow.info().task_queue),
            start_to_close_timeout=min(timedelta(seconds=seconds), MAX_MODEL_ACTIVITY),
            heartbeat_timeout=timedelta(seconds=self._input.heartbeat_timeout_seconds),
            retry_policy=MODEL_RETRY,
            # A cancel waits until the generation has really stopped (and the agent is idle again).
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        _stop_if_cancelled()
        return result
