"""The code loop: code that is run, not only read.

1. `write_code`: the developer writes the module(s) the requirement asks for (`options.code.candidates` of them);
2. `write_tests`: the tester writes pytest tests from the requirement, seeing only the module's signatures;
3. `test_and_repair`: the sandbox runs the tests on the code, and the developer repairs it from the failing tests,
   round after round, until they pass or `options.code.rounds` run out;
4. before a repair, the reviewer may find failing tests that contradict the requirement: the team votes on ruling
   them out (never more than half of the tests).
"""

import asyncio
import functools
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.activity_calls import bookkeeping, sandbox_activity
from workflows.decisions import DecisionSteps

with workflow.unsafe.imports_passed_through():
    from activities.definitions import ConclaveActivities
    from activities.sandbox import SandboxResult
    from activities.types import CodeRequest, CodeResult, RoundSummary, TestOutcomeRequest, TestRunRequest
    from workflows.templates import StepKind, StepSpec
    from workflows.types import StepState, TeamMember, TestTally, summary_of

RULING_NAMED_ERRORS = "ruling-named-errors"  # patch marker: errors the requirement names go to a ruling too
REPAIR_CANDIDATES = "repair-candidates"  # patch marker: each repair round writes `options.code.candidates` rewrites
PARALLEL_CANDIDATES = "parallel-candidates"  # patch marker: candidates and rewrites are asked for at once
# Model calls of one code activity: its code, written again once if it cannot be used. This bounds the activity's
# time limit only (no command depends on it), so it may follow the activity without a patch marker.
CALLS_PER_CODE_TURN = 2


@dataclass
class TestLoop:
    """One `test_and_repair` step under way: what it tests with, and where it stands."""

    __test__ = False  # not a pytest test class, whatever its name

    spec: StepSpec
    state: StepState
    tests: CodeResult
    # Who reports the test runs: the tester who wrote the tests (else the developer).
    reporter: TeamMember
    tally: TestTally
    # Every test run, with the round and the candidate it ran on.
    history: list[RoundSummary] = field(default_factory=list)
    ruled_out: list[dict[str, str]] = field(default_factory=list)
    # The failing tests the reviewer has seen already: a test goes to a ruling once.
    screened: set[str] = field(default_factory=set)
    # The best code of each round and its run, with how many tests were ruled out by then.
    tried: list[tuple[CodeResult, SandboxResult, int]] = field(default_factory=list)

    def record(self, round_: int, candidate: int, result: SandboxResult) -> None:
        summary = RoundSummary(round_, candidate, result.status, result.passed, result.total, result.reason)
        self.history.append(summary)

    def count(self, result: SandboxResult) -> None:
        """The tally shows this run's counts."""
        self.tally.status, self.tally.passed = result.status, result.passed
        self.tally.total, self.tally.reason = result.total, result.reason


def first_line(text: str) -> str:
    """The first line that says something (pytest's error message starts there)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def expects_otherwise(error: str, named_errors: Sequence[str] = ()) -> bool:
    """Whether a test failed on what it expects (an assertion, an exception not raised), or on an exception the
    requirement itself names (`parse("")` raising the ValueError the requirement asks for, in a test expecting 0):
    only such a test can contradict the requirement. One that fails on another error the code raised (NameError,
    TypeError...) is the code's."""
    line = first_line(error)
    if line.startswith(("assert", "AssertionError", "Failed: DID NOT RAISE")):
        return True
    raised = re.match(r"(?:\w+\.)*(\w+)", line)
    return bool(raised and raised.group(1) in named_errors)


def kept(tried: list[tuple[CodeResult, SandboxResult, int]]) -> tuple[CodeResult, SandboxResult, int]:
    """The code to keep: the one whose run passed the largest share of its tests (the later on a tie), with that
    run; the last tried when none could be tested."""
    tested = [entry for entry in tried if entry[1].total]
    if not tested:
        return tried[-1]
    return max(reversed(tested), key=lambda entry: entry[1].passed / entry[1].total)


def verdict(tally: TestTally, rounds: int) -> str:
    """What the step's summary may claim: what the last run of the code kept says, nothing more."""
    ruled = f"; {tally.ruled_out} ruled out by the team" if tally.ruled_out else ""
    if tally.status == "passed":
        return f"all {tally.total} tests pass (round {tally.round} of {rounds}{ruled})"
    if tally.total:
        return f"NOT PASSING: {tally.passed} of {tally.total} tests pass after {tally.round} round(s){ruled}"
    return f"NOT VERIFIED: {tally.reason or 'no test ran'}"


class CodeLoop(DecisionSteps):
    """The `code`, `tests` and `test_run` kinds of step (its rulings are decisions: `DecisionSteps`)."""

    def __init__(self) -> None:
        super().__init__()
        # The code loop's work so far: the candidate modules, the tests and who wrote them.
        self._candidates: list[CodeResult] = []
        self._tests: CodeResult | None = None
        self._tester: TeamMember | None = None
        # The exceptions the requirement names (from the test runs): a test failing on one may be ruled out.
        self._named_errors: Sequence[str] = ()

    async def write_code(self, name: str) -> None:
        """1. The developer writes the module(s) the requirement asks for, checked to compile and import cleanly:
        `options.code.candidates` of them, each a little warmer than the last."""
        spec = self._spec(name, StepKind.CODE)
        if (developer := await self._agent_for(spec, spec.role)) is None:
            return
        count = self._input.options.code.candidates
        async with self._step(spec, developer) as state:
            self._candidates = await self._at_once(
                [
                    functools.partial(
                        self._code_turn,
                        spec,
                        developer,
                        "module" if count == 1 else f"candidate-{n}",
                        "module",
                        attempt=n,
                    )
                    for n in range(1, count + 1)
                ]
            )
            usable = [c for c in self._candidates if c.error is None]
            files = ", ".join(dict.fromkeys(f["path"] for c in usable for f in c.files))
            problems = "; ".join(dict.fromkeys(c.error for c in self._candidates if c.error))
            if count > 1 and usable:
                state.summary = summary_of(f"{len(usable)} of {count} candidates usable ({files})")
            else:
                state.summary = summary_of(f"wrote {files}" if usable else f"no usable code yet: {problems}")

    async def write_tests(self, name: str) -> None:
        """2. The tester writes pytest tests from the requirement; of the code it is shown only the signatures."""
        spec = self._spec(name, StepKind.TESTS)
        if (tester := await self._agent_for(spec, spec.role)) is None:
            return
        self._tester = tester
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
        if (developer := await self._agent_for(spec, spec.role)) is None:
            return
        reviewer = self._team.first(spec.reviewer_role.value) if spec.reviewer_role else None
        tests = self._tests
        if tests is None or not self._candidates:
            raise ApplicationError(
                f"step {name} runs tests, and no step before it wrote code and tests", non_retryable=True
            )
        rounds = self._input.options.code.rounds
        async with self._step(spec, developer) as state:
            state.tests = TestTally(candidates=len(self._candidates))
            loop = TestLoop(spec, state, tests, self._tester or developer, state.tests)
            candidates = self._candidates
            for round_ in range(1, rounds + 1):
                code, result = await self._test_candidates(loop, round_, candidates)
                if result.status == "passed" or round_ == rounds or tests.error:
                    break
                if await self._rule_out(loop, reviewer, round_, code, result):
                    candidates = [code]  # nothing left to repair: run the rest again as it is
                    continue
                candidates = await self._repair(loop, developer, round_, code, result)
            await self._report(loop, rounds)

    async def _test_candidates(
        self, loop: TestLoop, round_: int, candidates: list[CodeResult]
    ) -> tuple[CodeResult, SandboxResult]:
        """A round: the tests run on each candidate at once; the first of those passing the most goes on."""
        of = len(candidates)
        results = await asyncio.gather(
            *(self._test_round(loop, round_, n, code, of=of) for n, code in enumerate(candidates, 1))
        )
        for n, result in enumerate(results, 1):
            loop.record(round_, n, result)
        best = max(range(len(results)), key=lambda i: results[i].passed)
        code, result = candidates[best], results[best]
        loop.tried.append((code, result, len(loop.ruled_out)))
        loop.tally.round = round_
        loop.count(result)
        await self._record_progress(loop.state)
        return code, result

    async def _rule_out(
        self, loop: TestLoop, reviewer: TeamMember | None, round_: int, code: CodeResult, result: SandboxResult
    ) -> bool:
        """4. The failing tests that may contradict the requirement (each seen once) go to a ruling; the tests ruled
        out are not run again. Whether that leaves no failing test to repair."""
        named = self._named_errors if workflow.patched(RULING_NAMED_ERRORS) else ()
        failing = [t for t in result.failures if t.name not in loop.screened and expects_otherwise(t.message, named)]
        if reviewer is None or not failing or code.error is not None:
            return False
        loop.screened.update(t.name for t in failing)
        already = len(loop.ruled_out)
        limit = (result.total + already) // 2 - already  # at most half of all the tests, ever
        ruled: list[dict[str, str]] = []
        if limit > 0:
            key, tests = f"ruling-{round_}", loop.tests.files
            ruled = await self._rule_on_tests(loop.spec, reviewer, key, tests, failing, limit, code.message_id)
        loop.ruled_out += ruled
        loop.tally.ruled_out = len(loop.ruled_out)
        gone = {r["test"] for r in loop.ruled_out}
        return bool(ruled) and all(t.name in gone for t in result.failures)

    async def _repair(
        self, loop: TestLoop, developer: TeamMember, round_: int, code: CodeResult, result: SandboxResult
    ) -> list[CodeResult]:
        """3. The developer writes the code again from the failing tests (with k candidates, k rewrites)."""
        problem = None if result.total and result.status != "stopped" else result.reason
        rewrites = len(self._candidates) if workflow.patched(REPAIR_CANDIDATES) else 1
        return await self._at_once(
            [
                functools.partial(
                    self._code_turn,
                    loop.spec,
                    developer,
                    f"repair-{round_}" + (f"-{n}" if n > 1 else ""),
                    "repair",
                    attempt=round_,
                    candidate=n,
                    modules=code.files,
                    tests=loop.tests.files,
                    last=result,
                    problem=problem,
                    parent=code.message_id,
                )
                for n in range(1, rewrites + 1)
            ]
        )

    async def _at_once(self, turns: list[Callable[..., Awaitable[CodeResult]]]) -> list[CodeResult]:
        """Code turns (k candidates, k rewrites) asked for at once, one per slot of the model server; a person's
        messages are delivered once, before all of them. Runs from before the change asked one after another."""
        if len(turns) > 1 and workflow.patched(PARALLEL_CANDIDATES):
            await self._deliver_messages()
            return list(await asyncio.gather(*(turn(deliver=False) for turn in turns)))
        return [await turn() for turn in turns]

    async def _report(self, loop: TestLoop, rounds: int) -> None:
        """The code kept and its last run (again, without the tests ruled out since it ran), recorded as the step's
        outcome."""
        code, result, ruled_then = kept(loop.tried)
        if ruled_then < len(loop.ruled_out):  # kept from before a ruling: its tests are run again without those
            final_round = loop.tally.round + 1
            result = await self._test_round(loop, final_round, 1, code, final=True)
            loop.record(final_round, 1, result)
        loop.count(result)
        outcome = TestOutcomeRequest(
            self._input.workflow_id,
            loop.spec.name,
            loop.reporter.agent_id,
            code.files,
            loop.tests.files,
            result,
            loop.history,
            rounds,
            len(self._candidates),
            loop.ruled_out,
        )
        written = await bookkeeping(ConclaveActivities.record_test_outcome, outcome)
        self._add_artifacts(loop.state, (a["path"] for a in written))
        loop.state.summary = summary_of(verdict(loop.tally, rounds))

    async def _test_round(
        self, loop: TestLoop, round_: int, candidate: int, code: CodeResult, final: bool = False, of: int = 1
    ) -> SandboxResult:
        """One run of the tests on one candidate in the sandbox (`final`: of the code kept, once more); code or tests
        that the guard refused are not run: the result says why."""
        tests = loop.tests
        if tests.error or code.error or not code.files:
            reason = (
                f"the tests cannot be used: {tests.error}" if tests.error else f"the code cannot be used: {code.error}"
            )
            return SandboxResult(status="invalid", reason=reason)
        request = TestRunRequest(
            self._input.workflow_id,
            loop.spec.name,
            round_,
            candidate,
            code.files,
            tests.files,
            agent_id=loop.reporter.agent_id,
            deselect=[r["test"] for r in loop.ruled_out],
            parent_message_id=code.message_id,
            candidates=of,
            final=final,
        )
        done = await sandbox_activity(ConclaveActivities.run_tests, request, heartbeat_timeout=self._heartbeat)
        self._named_errors = done.named_errors
        return done.result

    async def _code_turn(
        self,
        spec: StepSpec,
        agent: TeamMember,
        turn: str,
        purpose: Literal["module", "repair", "tests"],
        *,
        attempt: int = 1,
        modules: list[dict[str, str]] | None = None,
        tests: list[dict[str, str]] | None = None,
        last: SandboxResult | None = None,
        problem: str | None = None,
        parent: str | None = None,
        candidate: int = 1,
        deliver: bool = True,
    ) -> CodeResult:
        """One code activity of the step: a candidate module, a repair from `last` (the failing run), or tests
        (`deliver`: a person's messages first)."""
        if deliver:
            await self._deliver_messages()
        request = CodeRequest(
            workflow_id=self._input.workflow_id,
            step=spec.name,
            turn=turn,
            agent_id=agent.agent_id,
            purpose=purpose,
            task=spec.task,
            modules=modules or [],
            tests=tests or [],
            failures=last.failures if last else [],
            passed=last.passed if last else 0,
            total=last.total if last else 0,
            problem=problem,
            attempt=attempt,
            candidate=candidate,
            parent_message_id=parent,
        )
        state = self._state(spec.name)
        result = await self._model(
            ConclaveActivities.write_code, request, state, calls=CALLS_PER_CODE_TURN, members=[agent]
        )
        self._add_artifacts(state, (a["path"] for a in result.files))
        return result
