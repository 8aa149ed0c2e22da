from temporalio import workflow

from workflows.runner import TeamRun
from workflows.templates import CODE_REVIEW
from workflows.types import RunInput, RunProgress


@workflow.defn(name="code_review")
class CodeReview(TeamRun):
    """Submitted code gets a written review, a verdict the team votes on, and the author's answer."""

    template = CODE_REVIEW

    @workflow.run
    async def run(self, run: RunInput) -> RunProgress:
        return await self.execute(run)

    async def steps(self) -> None:
        await self.produce("analysis")
        await self.decide("verdict")
        await self.produce("response")
