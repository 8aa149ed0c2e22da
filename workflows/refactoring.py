from temporalio import workflow

from workflows.runner import TeamRun
from workflows.templates import REFACTORING
from workflows.types import RunInput, RunProgress


@workflow.defn(name="refactoring")
class Refactoring(TeamRun):
    """Existing code is assessed, a plan chosen, refactored under review, and its behaviour pinned by tests."""

    template = REFACTORING

    @workflow.run
    async def run(self, run: RunInput) -> RunProgress:
        return await self.execute(run)

    async def steps(self) -> None:
        await self.produce("assessment")
        await self.decide("plan")
        await self.produce_reviewed("refactor")
        await self.produce("verification")
