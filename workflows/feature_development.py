from temporalio import workflow

from workflows.legacy import FEATURE_DEVELOPMENT_V1
from workflows.runner import TeamRun
from workflows.templates import FEATURE_DEVELOPMENT
from workflows.types import RunInput, RunProgress


@workflow.defn(name="feature_development")
class FeatureDevelopment(TeamRun):
    """A feature request becomes stories, a design decision, code, tests from the requirement, test runs with
    repairs until they pass, and a short guide."""

    template = FEATURE_DEVELOPMENT
    legacy = FEATURE_DEVELOPMENT_V1

    @workflow.run
    async def run(self, run: RunInput) -> RunProgress:
        return await self.execute(run)

    async def steps(self) -> None:
        await self.produce("requirements")
        await self.decide("design")
        await self.write_code("implementation")  # 1. the developer's module(s); k candidates if asked
        await self.write_tests("tests")  # 2. the tester's pytest tests, from the requirement
        await self.test_and_repair("verification")  # 3. sandbox runs and repairs; 4. rulings on wrong tests
        await self.produce("documentation")

    async def steps_v1(self) -> None:
        await self.produce("requirements")
        await self.decide("design")
        await self.produce_reviewed("implementation")
        await self.produce("tests")
        await self.produce("documentation")
