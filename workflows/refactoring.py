from temporalio import workflow

from workflows.legacy import REFACTORING_V1
from workflows.runner import TeamRun
from workflows.templates import REFACTORING
from workflows.types import RunInput, RunProgress


@workflow.defn(name="refactoring")
class Refactoring(TeamRun):
    """Existing code is assessed, a plan chosen, the code refactored, its behaviour pinned by tests, and the tests
    run with repairs until they pass."""

    template = REFACTORING
    legacy = REFACTORING_V1

    @workflow.run
    async def run(self, run: RunInput) -> RunProgress:
        return await self.execute(run)

    async def steps(self) -> None:
        await self.produce("assessment")
        await self.decide("plan")
        await self.write_code("refactor")  # 1. the refactored module(s)
        await self.write_tests("behaviour_tests")  # 2. tests pinning the behaviour the requirement gives
        await self.test_and_repair("verification")  # 3. sandbox runs and repairs; 4. rulings on wrong tests

    async def steps_v1(self) -> None:
        await self.produce("assessment")
        await self.decide("plan")
        await self.produce_reviewed("refactor")
        await self.produce("verification")
