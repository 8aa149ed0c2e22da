"""The run's mirrors in Jira and Confluence, as its project asks: its Jira issues follow each step, and at the end
both systems get the run's outcome (and Confluence its page). A mirror never fails the run."""

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception

from workflows.activity_calls import bookkeeping, describe, integration_activity

with workflow.unsafe.imports_passed_through():
    from activities.definitions import ConclaveActivities
    from activities.types import SyncFailure, SyncRequest
    from db.enums import WorkflowStatus
    from integrations import JIRA


class Mirrors:
    """The systems one run is mirrored into, and which of them wait for the run's last sync after a failure."""

    def __init__(self, workflow_id: str = "", systems: list[str] | None = None, attempts: int = 1) -> None:
        self.workflow_id = workflow_id
        self.systems = systems or []
        self.attempts = attempts
        self.failed: set[str] = set()
        # When the run ended, by the workflow's clock: the same time on the mirrors and on the run's row.
        self.ended_at: str | None = None

    async def sync(self, final: WorkflowStatus | None = None) -> None:
        """Bring the run's Jira issues up to date (with `final`, the run's last sync: Jira and Confluence). After the
        retries a failure is recorded, and that system waits for the last sync before it is tried again."""
        for system in self.systems:
            if final is None and (system != JIRA or system in self.failed):
                continue
            activity = ConclaveActivities.sync_jira if system == JIRA else ConclaveActivities.sync_confluence
            if final is not None and self.ended_at is None:
                self.ended_at = workflow.now().isoformat()
            request = SyncRequest(self.workflow_id, final.value if final else None, self.ended_at)
            try:
                await integration_activity(activity, request, attempts=self.attempts)
                self.failed.discard(system)
            except ActivityError as exc:
                if is_cancelled_exception(exc):
                    raise
                self.failed.add(system)
                failure = SyncFailure(self.workflow_id, system, describe(exc), final=final is not None)
                await bookkeeping(ConclaveActivities.record_sync_failure, failure)
