"""Runs mirrored into Jira and Confluence: real runs on Temporal (scripted model), the real `jira` and
`atlassian-python-api` clients, and a local server speaking their REST APIs (tests/atlassian.py)."""

import json
from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, delete
from temporalio.client import WorkflowExecutionStatus

from activities.integrations import sync_confluence, sync_jira
from activities.types import SyncRequest
from agents.llm.scripted import ScriptedBackend
from config import Settings
from db.models import IntegrationLink
from tests.atlassian import CONFLUENCE_TOKEN, CONFLUENCE_USER, JIRA_TOKEN, JIRA_USER, FakeAtlassian, serve_atlassian
from tests.support import free_port

from .support import events, messages, staffed_project, start_run, temporal_status, wait_for, wait_until
from .test_control import DESIGN_PROBLEM, IMPLEMENT_TASK, FailingWhile, asked

HOSTILE = 'Greet users by name. Names like <script>alert("x")</script> & "Tom & Jerry" must show as typed.'


@pytest.fixture
def atlassian() -> Iterator[FakeAtlassian]:
    with serve_atlassian() as fake:
        yield fake


@pytest.fixture
def run_settings(run_settings: Settings, atlassian: FakeAtlassian) -> Settings:
    """The usual run settings, with Jira and Confluence at the local server and short sync retries."""
    return run_settings.model_copy(
        update={
            "jira_url": atlassian.jira_url,
            "jira_username": JIRA_USER,
            "jira_api_token": SecretStr(JIRA_TOKEN),
            "confluence_url": atlassian.confluence_url,
            "confluence_username": CONFLUENCE_USER,
            "confluence_api_token": SecretStr(CONFLUENCE_TOKEN),
            "integration_max_attempts": 2,
            "public_url": "http://conclave.test",
        }
    )


def turn_mirrors_on(api: TestClient, project_id: str) -> list[str]:
    """Mirror the project's runs into the Jira project CONC and the Confluence space DOCS; the save's warnings."""
    body = {
        "jira_enabled": True,
        "jira_project_key": "CONC",
        "confluence_enabled": True,
        "confluence_space_key": "DOCS",
    }
    saved = api.put(f"/api/projects/{project_id}", json=body)
    assert saved.status_code == 200, saved.text
    return saved.json()["warnings"]


def mirrored_project(api: TestClient) -> str:
    project_id = staffed_project(api)
    assert turn_mirrors_on(api, project_id) == [], "configured, reachable, and the project and space exist"
    return project_id


def snapshot(fake: FakeAtlassian) -> dict[str, object]:
    """Everything created in Jira and Confluence, to compare before and after a sync."""
    return {
        "issues": sorted(fake.issues),
        "comments": {k: [c["id"] for c in i["comments"]] for k, i in fake.issues.items()},
        "pages": {p["id"]: (p["title"], len(p["versions"])) for p in fake.pages.values()},
    }


def test_a_run_is_mirrored_once_into_jira_and_confluence(
    api: TestClient, db: Engine, start_worker, atlassian: FakeAtlassian, run_settings: Settings
):
    llm = ScriptedBackend(delay=0.01)
    start_worker(llm)
    workflow_id = start_run(api, mirrored_project(api), requirement=HOSTILE)
    wait_until(lambda: asked(llm, DESIGN_PROBLEM), what="design decision under way")
    note = "Keep <b>names</b> & emoji as they are."
    assert (
        api.post(f"/api/communication/{workflow_id}/messages", json={"content": note, "author": "Ada"}).status_code
        == 201
    )
    run = wait_for(api, workflow_id, "completed", "failed")
    assert run["status"] == "completed", run["errors"]

    # Jira: one epic, one story per step linked to it and done, the decision on its step's story, Ada on the epic
    [epic] = atlassian.epics()
    assert epic["summary"] == run["name"] and "<script>" in epic["description"]
    assert f"conclave-{workflow_id}" in epic["labels"] and epic["status"] == "Done"
    stories = atlassian.stories()
    assert [s["summary"] for s in stories] == [f"{run['name']}: {s['title']}" for s in run["steps"]]
    assert {s["epic"] for s in stories} == {epic["key"]}
    assert {s["status"] for s in stories} == {"Done"}
    design = next(s for s in stories if s["summary"].endswith("Design decision"))
    [decision] = api.get(f"/api/communication/{workflow_id}/decisions").json()["items"]
    [comment] = design["comments"]
    assert decision["problem"] in comment["body"] and "Votes:" in comment["body"]
    assert all(v["reason"][:40] in comment["body"] for v in decision["votes"])
    [said] = epic["comments"]
    assert "Ada wrote" in said["body"] and note in said["body"]

    # Confluence: one page, its text escaped (the server refuses what is not XHTML), linking the epic and artifacts
    [page] = atlassian.pages.values()
    assert page["title"] == f"Workflow: {run['name']}" and page["space"] == "DOCS"
    body = page["versions"][-1]
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Tom &amp; Jerry&quot;" in body
    assert "<script>" not in body and "<b>" not in body
    assert epic["key"] in body and decision["chosen_variant"]["title"] in body.replace("&#x27;", "'")
    artifacts = api.get(f"/api/workflows/{workflow_id}/artifacts").json()["items"]
    assert artifacts and all(f"/api/workflows/{workflow_id}/artifacts/{a['id']}" in body for a in artifacts)

    # The run shows where it is mirrored; the last sync came before the run's final status
    detail = api.get(f"/api/workflows/{workflow_id}").json()
    assert detail["jira"]["key"] == epic["key"] and detail["jira"]["url"].endswith(f"/browse/{epic['key']}")
    assert detail["confluence"]["key"] == page["id"] and detail["confluence"]["last_sync"] == "ok"
    logged = events(db, workflow_id)
    synced = [e for e in logged if e.event_type == "integration_synced"]
    assert {e.data["system"] for e in synced} == {"jira", "confluence"}
    assert all(e.data["status"] == "ok" for e in synced)
    assert max(e.id for e in synced) < logged[-1].id and logged[-1].data["status"] == "completed"
    everything = json.dumps([e.data for e in logged]) + json.dumps(detail) + json.dumps(atlassian.issues)
    assert JIRA_TOKEN not in everything and CONFLUENCE_TOKEN not in everything

    # Syncing again creates nothing, and neither does an attempt that lost what it recorded (found by its marks)
    before = snapshot(atlassian)
    request = SyncRequest(workflow_id, "completed")
    sync_jira(db, run_settings, request)
    sync_confluence(db, run_settings, request)
    assert snapshot(atlassian) == before
    with db.begin() as connection:
        connection.execute(delete(IntegrationLink).where(IntegrationLink.workflow_id == workflow_id))
    sync_jira(db, run_settings, request)
    sync_confluence(db, run_settings, request)
    assert snapshot(atlassian) == before

    # A change in the run writes a new version of the same page
    api.put(f"/api/workflows/{workflow_id}", json={"description": "Now with a description."})
    sync_confluence(db, run_settings, request)
    assert len(atlassian.pages) == 1 and len(page["versions"]) == 2
    assert "Now with a description." in page["versions"][-1]


def test_a_failed_run_is_mirrored_and_its_resume_creates_nothing_twice(
    api: TestClient, db: Engine, start_worker, atlassian: FakeAtlassian
):
    llm = FailingWhile(IMPLEMENT_TASK)
    start_worker(llm)
    workflow_id = start_run(api, mirrored_project(api))
    run = wait_for(api, workflow_id, "failed", "completed", timeout=90)
    assert run["status"] == "failed"

    # The mirrors show where it failed and why
    [epic] = atlassian.epics()
    statuses = [s["status"] for s in atlassian.stories()]
    assert statuses == ["Done", "Done", "In Progress", "To Do", "To Do", "To Do"] and epic["status"] == "In Progress"
    [page] = atlassian.pages.values()
    first = page["versions"][-1]
    assert "the model crashed" in first and "<td>failed</td>" in first and "<td>failed</td>" in first.split("Steps")[1]
    assert run["completed_at"][:16].replace("T", " ") in first, "the page and the row agree on when it ended"

    # Resumed, it completes: the same issues and page, now done and in a new version
    llm.failing = False
    assert api.post(f"/api/workflows/{workflow_id}/resume").status_code == 200
    run = wait_for(api, workflow_id, "completed", "failed")
    assert run["status"] == "completed", run["errors"]
    assert [e["key"] for e in atlassian.epics()] == [epic["key"]] and len(atlassian.stories()) == 6
    assert {s["status"] for s in atlassian.stories()} == {"Done"} and epic["status"] == "Done"
    assert sum(len(s["comments"]) for s in atlassian.stories()) == 1, "the one decision, once"
    assert list(atlassian.pages.values()) == [page] and len(page["versions"]) == 2
    assert "<td>completed</td>" in page["versions"][-1] and "<td>failed</td>" not in page["versions"][-1]


def test_a_cancel_during_the_last_sync_of_a_failing_run_still_records_it(
    api: TestClient, db: Engine, start_worker, atlassian: FakeAtlassian, run_settings: Settings
):
    run_settings.integration_max_attempts = 5  # the last sync retries for half a minute: time to cancel it
    llm = FailingWhile(IMPLEMENT_TASK)
    start_worker(llm)
    workflow_id = start_run(api, mirrored_project(api))
    wait_until(lambda: asked(llm, IMPLEMENT_TASK), what="the implementation under way")
    atlassian.down = True
    answered = len(atlassian.requests)
    wait_until(lambda: len(atlassian.requests) > answered, timeout=60, what="the last sync under way")

    assert api.post(f"/api/workflows/{workflow_id}/cancel").status_code == 200
    run = wait_for(api, workflow_id, "failed", "cancelled", "completed", timeout=20)
    assert run["status"] == "failed" and "the model crashed" in run["errors"][-1]["error"]
    assert temporal_status(run_settings.temporal_address, workflow_id) == WorkflowExecutionStatus.FAILED
    assert api.post(f"/api/workflows/{workflow_id}/resume").status_code == 200, "and it can be resumed"


def test_an_unreachable_jira_is_recorded_and_the_run_completes(
    api: TestClient,
    db: Engine,
    start_worker,
    atlassian: FakeAtlassian,
    run_settings: Settings,
    caplog: pytest.LogCaptureFixture,
):
    nowhere = f"http://127.0.0.1:{free_port()}/jira"
    run_settings.jira_url = nowhere  # the worker and the API share this object
    start_worker(ScriptedBackend())
    project_id = staffed_project(api)
    warnings = turn_mirrors_on(api, project_id)
    assert [w for w in warnings if "Jira" in w and "could not be reached" in w], warnings
    workflow_id = start_run(api, project_id)
    run = wait_for(api, workflow_id, "completed", "failed", timeout=120)
    assert run["status"] == "completed", run["errors"]

    failures = [e["error"] for e in run["errors"]]
    assert failures and all(f.startswith("Jira sync failed:") and nowhere in f for f in failures)
    assert len(failures) == 2, "once when it first failed, once more at the end; not after every step"
    logged = events(db, workflow_id)
    kinds = Counter((e.event_type, e.data.get("system"), e.data.get("status")) for e in logged)
    assert kinds[("integration_synced", "jira", "failed")] == 2
    assert kinds[("integration_synced", "confluence", "ok")] == 1
    assert len(atlassian.pages) == 1, "Confluence is mirrored all the same"
    detail = api.get(f"/api/workflows/{workflow_id}").json()
    assert detail["jira"]["last_sync"] == "failed" and detail["jira"]["key"] is None
    assert JIRA_TOKEN not in json.dumps([e.data for e in logged]) + json.dumps(detail)
    assert "Jira sync" in caplog.text or "sync_jira" in caplog.text, "the worker's log says what failed"
    assert JIRA_TOKEN not in caplog.text and CONFLUENCE_TOKEN not in caplog.text
    assert len(messages(api, workflow_id)) > 5
