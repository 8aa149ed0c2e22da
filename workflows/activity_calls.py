"""How a run calls each kind of activity: on which task queue, with what time limits and retries.

One function per kind: `bookkeeping` (the run's rows, on the workflows' own queue), `model_activity` (an agent's
model calls), `sandbox_activity` (a test run) and `integration_activity` (a Jira or Confluence sync). Each takes an
activity method of `ConclaveActivities` and its request, and returns what that method returns, so mypy checks both.
"""

import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from activities.definitions import CONFIGURATION_ERROR, ConclaveActivities
    from workflows.types import TeamMember, integrations_task_queue, llm_task_queue, sandbox_task_queue

Request = TypeVar("Request")
Result = TypeVar("Result")
Activity = Callable[[ConclaveActivities, Request], Result]
"""An activity method, e.g. `ConclaveActivities.record_progress`: called with its one request, it gives a result."""

BOOKKEEPING_TIMEOUT = timedelta(seconds=30)
# A database that is down is waited for (the run resumes when it is back); bad configuration is final.
BOOKKEEPING_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=[CONFIGURATION_ERROR],
)
# A model activity's time limit: setup plus its model calls at a pessimistic generation speed.
MODEL_SETUP_SECONDS = 120
SLOWEST_TOKENS_PER_SECOND = 5
MAX_MODEL_ACTIVITY = timedelta(hours=2)
MODEL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=3,
    non_retryable_error_types=[CONFIGURATION_ERROR],
)
# A test run: the sandbox's own limits (SANDBOX_WALL_SECONDS on the worker) stop it long before this.
TEST_RUN_TIMEOUT = timedelta(minutes=15)
TEST_RUN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_attempts=3, non_retryable_error_types=[CONFIGURATION_ERROR]
)
# A Jira or Confluence sync: a few dozen requests at most, each with its own timeout (INTEGRATION_TIMEOUT).
SYNC_TIMEOUT = timedelta(minutes=5)


async def bookkeeping(activity: Activity[Request, Result], request: Request) -> Result:
    """A write to the run's rows in PostgreSQL."""
    return await workflow.execute_activity_method(
        activity,
        request,
        start_to_close_timeout=BOOKKEEPING_TIMEOUT,
        retry_policy=BOOKKEEPING_RETRY,
        # A cancel waits for a running write to finish, so the cleanup's `cancelled` is the last word on the row.
        cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    )


async def model_activity(
    activity: Activity[Request, Result],
    request: Request,
    *,
    calls: int,
    members: Sequence[TeamMember],
    heartbeat_timeout: timedelta,
) -> Result:
    """A model activity on the model queue, timed for its `calls` at the largest answer of the `members` taking part;
    a cancel that arrived while it finished anyway still stops the run here."""
    max_tokens = max(m.max_tokens for m in members)
    seconds = MODEL_SETUP_SECONDS + calls * max_tokens / SLOWEST_TOKENS_PER_SECOND
    result = await workflow.execute_activity_method(
        activity,
        request,
        task_queue=llm_task_queue(workflow.info().task_queue),
        start_to_close_timeout=min(timedelta(seconds=seconds), MAX_MODEL_ACTIVITY),
        heartbeat_timeout=heartbeat_timeout,
        retry_policy=MODEL_RETRY,
        # A cancel waits until the generation has really stopped (and the agent is idle again).
        cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    )
    stop_if_cancelled()
    return result


async def sandbox_activity(
    activity: Activity[Request, Result], request: Request, *, heartbeat_timeout: timedelta
) -> Result:
    """A test run on the sandbox queue; like a model activity, a cancel that arrived meanwhile stops the run here."""
    result = await workflow.execute_activity_method(
        activity,
        request,
        task_queue=sandbox_task_queue(workflow.info().task_queue),
        start_to_close_timeout=TEST_RUN_TIMEOUT,
        heartbeat_timeout=heartbeat_timeout,
        retry_policy=TEST_RUN_RETRY,
        cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    )
    stop_if_cancelled()
    return result


async def integration_activity(activity: Activity[Request, Result], request: Request, *, attempts: int) -> Result:
    """A Jira or Confluence sync on the integrations queue, tried `attempts` times (`RunInput.integration_attempts`)."""
    return await workflow.execute_activity_method(
        activity,
        request,
        task_queue=integrations_task_queue(workflow.info().task_queue),
        start_to_close_timeout=SYNC_TIMEOUT,
        retry_policy=RetryPolicy(
            initial_interval=timedelta(seconds=2),
            maximum_interval=timedelta(seconds=60),
            maximum_attempts=attempts,
            non_retryable_error_types=[CONFIGURATION_ERROR],
        ),
    )


def stop_if_cancelled() -> None:
    """A cancel that arrived while an activity finished anyway is still a cancel: stop before the next step."""
    if workflow.cancellation_reason() is not None:
        raise asyncio.CancelledError("the run was cancelled")


def describe(error: BaseException) -> str:
    """The innermost message of a Temporal failure chain (what actually went wrong)."""
    message = str(error)
    while isinstance(error, FailureError) and error.cause is not None:
        error = error.cause
        message = str(error) or message
    return message
