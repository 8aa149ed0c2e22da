from temporalio import workflow

from workflows.runner import TeamRun
from workflows.templates import FEATURE_DEVELOPMENT
from workflows.types import RunInput, RunProgress


@workflow.defn(name="feature_development")
class FeatureDevelopment(TeamRun):
    """A feature request becomes stories, a design decision, reviewed code, tests and a short guide."""

    template = FEATURE_DEVELOPMENT

    @workflow.run
    async def run(self, run: RunInput) -> RunProgress:
        return await self.execute(run)

    async def steps(self) -> None:
        await self.produce("requirements")
        await self.decide("design")
        await self.produce_reviewed("implementation")
        await self.produce("tests")
        await self.produce("documentation")
