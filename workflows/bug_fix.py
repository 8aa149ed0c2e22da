from temporalio import workflow

from workflows.legacy import BUG_FIX_V1
from workflows.runner import TeamRun
from workflows.templates import BUG_FIX
from workflows.types import RunInput, RunProgress


@workflow.defn(name="bug_fix")
class BugFix(TeamRun):
    """A bug report becomes an analysis, a decided fix, the fixed code, regression tests from the report, and test
    runs with repairs until they pass."""

    template = BUG_FIX
    legacy = BUG_FIX_V1

    @workflow.run
    async def run(self, run: RunInput) -> RunProgress:
        return await self.execute(run)

    async def steps(self) -> None:
        await self.produce("reproduction")
        await self.decide("fix_approach")
        await self.write_code("fix")  # 1. the fixed module(s)
        await self.write_tests("regression_tests")  # 2. tests from the bug report
        await self.test_and_repair("verification")  # 3. sandbox runs and repairs; 4. rulings on wrong tests

    async def steps_v1(self) -> None:
        await self.produce("reproduction")
        await self.decide("fix_approach")
        await self.produce_reviewed("fix")
        await self.produce("verification")
