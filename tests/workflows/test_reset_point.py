"""Where a resume resets a run: just after the last finished step, never keeping a cancel request."""

import json
from dataclasses import dataclass

from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import (
    ActivityTaskCompletedEventAttributes,
    ActivityTaskScheduledEventAttributes,
    HistoryEvent,
)

from api.temporal import reset_point


@dataclass
class History:
    events: list[HistoryEvent]


def history(*kinds: str) -> History:
    """Events from short names: `wft` (a workflow task completed), `step`/`boundary` (a record_progress activity
    scheduled and completed, mid-step or at a step's end), `cancel` (a cancel request)."""
    events: list[HistoryEvent] = []

    def add(event_type: int, **attributes: object) -> int:
        events.append(HistoryEvent(event_id=len(events) + 1, event_type=event_type, **attributes))  # type: ignore[arg-type]
        return len(events)

    for kind in kinds:
        if kind == "wft":
            add(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
        elif kind in ("step", "boundary"):
            data = json.dumps({"boundary": kind == "boundary"}).encode()
            scheduled = ActivityTaskScheduledEventAttributes(input=Payloads(payloads=[Payload(data=data)]))
            scheduled.activity_type.name = "record_progress"
            at = add(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, activity_task_scheduled_event_attributes=scheduled)
            completed = ActivityTaskCompletedEventAttributes(scheduled_event_id=at)
            add(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, activity_task_completed_event_attributes=completed)
        elif kind == "cancel":
            add(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED)
    return History(events)


def test_the_reset_point_follows_the_last_finished_step():
    events = history("wft", "step", "wft", "boundary", "wft", "step", "wft", "boundary", "wft", "step", "wft")
    assert reset_point(events) == 13  # the workflow task completed after the second boundary (events 11, 12)


def test_without_a_finished_step_the_run_starts_over():
    assert reset_point(history("wft", "step", "wft")) == 1
    assert reset_point(history()) is None


def test_a_cancel_request_after_a_boundary_is_not_kept():
    events = history("wft", "boundary", "wft", "step", "wft", "boundary", "cancel", "wft")
    assert reset_point(events) == 4  # not 11: a reset there would keep the cancel of event 10
