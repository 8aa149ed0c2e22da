from temporalio import workflow

from workflows.runner import TeamRun
from workflows.templates import DOCUMENTATION
from workflows.types import RunInput, RunProgress


@workflow.defn(name="documentation")
class Documentation(TeamRun):
    """A subject gets an outline, a decided structure, and the document written under review."""

    template = DOCUMENTATION

    @workflow.run
    async def run(self, run: RunInput) -> RunProgress:
        return await self.execute(run)

    async def steps(self) -> None:
        await self.produce("outline")
        await self.decide("structure")
        await self.produce_reviewed("document")
