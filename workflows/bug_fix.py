from temporalio import workflow

from workflows.runner import TeamRun
from workflows.templates import BUG_FIX
from workflows.types import RunInput, RunProgress


@workflow.defn(name="bug_fix")
class BugFix(TeamRun):
    """A bug report becomes a reproduction test, a decided fix, the reviewed fix and its verification."""

    template = BUG_FIX

    @workflow.run
    async def run(self, run: RunInput) -> RunProgress:
        return await self.execute(run)

    async def steps(self) -> None:
        await self.produce("reproduction")
        await self.decide("fix_approach")
        await self.produce_reviewed("fix")
        await self.produce("verification")
