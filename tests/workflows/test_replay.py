"""Runs in flight replay on today's code, which is what a restarted worker or a resume does with them.

- `histories/*_v1.json`: runs started before the code loop (commit a6d180f: a completed run of each changed type and a
  cancelled one) keep their old steps.
- `histories/code_loop/*.json`: runs of today's steps (commit 6db86f5, before the workflows were split into modules
  by concern): each workflow type to completion, a ruling on tests, code kept from before a ruling, a repair in
  round 2, an approval overridden, a cancel mid-step, an uncontested decision. Any change to the commands a workflow
  issues for these makes one of them fail: such a change needs a patch marker (`workflow.patched`)."""

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
    assert "run_tests" not in scheduled(events) and "run_agent_turn" in scheduled(events), "an old history"


@pytest.mark.parametrize("path", sorted((HISTORIES / "code_loop").glob("*.json")), ids=lambda p: p.stem)
def test_a_run_of_todays_steps_replays(path: Path):
    text = path.read_text()
    history = WorkflowHistory.from_json(path.stem, text)
    replayer = Replayer(workflows=WORKFLOWS)
    result = anyio.run(lambda: replayer.replay_workflow(history, raise_on_replay_failure=False))
    assert result.replay_failure is None, result.replay_failure


def scheduled(events: list[dict]) -> set[str]:
    """The activity types a history scheduled."""
    return {
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in events
        if "activityTaskScheduledEventAttributes" in e
    }
