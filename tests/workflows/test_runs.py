"""Every workflow type runs to completion through the API on a real Temporal dev server (scripted model)."""

from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from agents.llm.scripted import ScriptedBackend
from workflows.templates import TEMPLATES
from workflows.types import StepStatus

from .support import events, messages, staffed_project, start_run, wait_for


@pytest.mark.parametrize("workflow_type", [t.value for t in TEMPLATES])
def test_each_workflow_type_runs_to_completion(api: TestClient, db: Engine, start_worker, workflow_type):
    start_worker(ScriptedBackend())
    project_id = staffed_project(api)
    workflow_id = start_run(api, project_id, workflow_type)

    run = wait_for(api, workflow_id, "completed", "failed")
    assert run["status"] == "completed", run["errors"]
    assert run["completed_at"] and run["started_at"] and run["temporal_run_id"]
    template = TEMPLATES[workflow_type]
    assert [s["name"] for s in run["steps"]] == [s.name for s in template.steps]
    assert {s["status"] for s in run["steps"]} == {StepStatus.COMPLETED}
    assert run["metrics"]["progress_percentage"] == 100
    assert run["metrics"]["completion_tokens"] > 0
    assert run["artifacts"], "a finished run lists the files its agents wrote"

    said = messages(api, workflow_id)
    expected = {"proposal", "answer", "decision"} | ({"review"} if template.step_kinds & {"review_loop"} else set())
    assert expected <= {m["message_type"] for m in said}
    decisions = api.get(f"/api/communication/{workflow_id}/decisions").json()["items"]
    assert len(decisions) == 1 and decisions[0]["chosen_variant"]["id"] == decisions[0]["chosen_variant_id"]
    artifacts = api.get(f"/api/workflows/{workflow_id}/artifacts").json()["items"]
    assert artifacts
    first = api.get(f"/api/workflows/{workflow_id}/artifacts/{artifacts[0]['id']}")
    assert first.status_code == 200 and first.content and first.headers["x-content-sha256"] == artifacts[0]["sha256"]

    kinds = Counter(e.event_type for e in events(db, workflow_id))
    assert kinds["step_started"] == kinds["step_completed"] == len(template.steps)
    assert kinds["new_message"] == len(said)
    assert kinds["new_decision"] == 1
    assert kinds["workflow_status_changed"] == 2  # pending -> running -> completed
    assert kinds["workflow_progress_update"] >= len(template.steps)


def test_an_optional_step_without_its_role_is_skipped(api: TestClient, db: Engine, start_worker):
    start_worker(ScriptedBackend())
    project_id = staffed_project(api, roles=("product_owner", "architect", "developer", "reviewer", "tester"))
    workflow_id = start_run(api, project_id)

    run = wait_for(api, workflow_id, "completed", "failed")
    assert run["status"] == "completed", run["errors"]
    documentation = run["steps"][-1]
    assert documentation["status"] == "skipped" and "no tech_writer" in documentation["summary"]
    assert run["metrics"]["progress_percentage"] == 100
    kinds = Counter(e.event_type for e in events(db, workflow_id))
    steps = len(run["steps"])
    assert kinds["step_started"] == steps - 1 and kinds["step_completed"] == steps
