"""Runs started before the code loop keep their steps: their recorded histories (made by the code of commit a6d180f,
a completed run of each changed type and a cancelled one) replay without a nondeterminism error on today's code,
which is what a restarted worker or a resume does with them."""

import json
from pathlib import Path

import anyio
import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from worker import WORKFLOWS

HISTORIES = Path(__file__).parent / "histories"


@pytest.mark.parametrize("name", ["feature_development", "bug_fix", "refactoring", "feature_development_cancelled"])
def test_a_run_started_before_the_code_loop_replays(name: str):
    text = (HISTORIES / f"{name}_v1.json").read_text()
    events = json.loads(text)["events"]
    started = events[0]["workflowExecutionStartedEventAttributes"]
    history = WorkflowHistory.from_json(started.get("originalExecutionRunId", "v1"), text)
    replayer = Replayer(workflows=WORKFLOWS)
    result = anyio.run(lambda: replayer.replay_workflow(history, raise_on_replay_failure=False))
    assert result.replay_failure is None, result.replay_failure
    scheduled = {e["activityTaskScheduledEventAttributes"]["activityType"]["name"] for e in events
                 if "activityTaskScheduledEventAttributes" in e}  # fmt: skip
    assert "run_tests" not in scheduled and "run_agent_turn" in scheduled, "an old history, without the code loop"
