"""The Workflows API's checks and answers: templates, bad input, wrong state, Temporal down, health."""

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from temporalio.client import WorkflowExecutionStatus

from agents.llm.scripted import ScriptedBackend
from api.main import create_app
from db.models import Workflow
from db.records import ArtifactRecord, record_artifact
from workflows.templates import TEMPLATES

from .support import REQUIREMENT, staffed_project, start_run, temporal_status, wait_for, wait_until


def count_runs(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Workflow)) or 0


def test_templates_describe_what_the_workflows_run(client: TestClient):
    templates = {t["workflow_type"]: t for t in client.get("/api/workflows/templates").json()}
    assert set(templates) == {t.value for t in TEMPLATES}
    feature = templates["feature_development"]
    steps = ["requirements", "design", "implementation", "tests", "verification", "documentation"]
    assert [s["name"] for s in feature["steps"]] == steps
    assert [s["kind"] for s in feature["steps"]][2:5] == ["code", "tests", "test_run"]
    assert feature["required_roles"] == ["product_owner", "architect", "developer", "tester", "reviewer"]
    assert feature["optional_roles"] == ["tech_writer"]
    assert {i["name"] for i in feature["inputs"]} == {"requirement", "options.code", "options.approval"}
    assert "options.max_review_rounds" in {i["name"] for i in templates["documentation"]["inputs"]}
    for template in templates.values():
        assert any(s["kind"] == "decide" for s in template["steps"]), "every type takes a decision"


def test_a_run_needs_its_roles_a_project_and_sane_options(api: TestClient, db: Engine):
    project_id = staffed_project(api, roles=("developer", "reviewer"))
    body = {"project_id": project_id, "name": "x", "workflow_type": "feature_development", "requirement": "r"}

    response = api.post("/api/workflows", json=body)
    assert response.status_code == 422
    assert "no product_owner, architect, tester" in response.text

    cases = [
        ({"project_id": "00000000-0000-0000-0000-000000000000"}, "not found"),
        ({"requirement": "   "}, "requirement"),
        ({"workflow_type": "code_review", "options": {"max_review_rounds": 9}}, "max_review_rounds"),
        ({"workflow_type": "code_review", "options": {"code": {"rounds": 0}}}, "rounds"),
        ({"workflow_type": "code_review", "options": {"code": {"candidates": 5}}}, "candidates"),
        ({"workflow_type": "code_review", "options": {"approval": {"decisions": ["design"]}}}, "verdict"),
        ({"workflow_type": "code_review", "surprise": 1}, "surprise"),
        ({"workflow_type": "code_review", "assigned_agents": ["00000000-0000-0000-0000-000000000001"]}, "no agent"),
    ]
    for change, expected in cases:
        response = api.post("/api/workflows", json=body | change)
        assert response.status_code == 422, (change, response.text)
        assert expected in response.text, (change, response.text)
    assert count_runs(db) == 0, "refused requests change nothing"


def test_wrong_states_are_409_and_unknown_runs_404(api: TestClient, start_worker):
    start_worker(ScriptedBackend())
    workflow_id = start_run(api, staffed_project(api), "code_review")
    wait_for(api, workflow_id, "completed")
    assert api.post(f"/api/workflows/{workflow_id}/cancel").status_code == 409
    assert "only a failed or cancelled run" in api.post(f"/api/workflows/{workflow_id}/resume").text
    assert api.post("/api/workflows/00000000-0000-0000-0000-000000000000/cancel").status_code == 404

    updated = api.put(f"/api/workflows/{workflow_id}", json={"name": "Review of slugify", "tags": ["utils"]})
    assert updated.status_code == 200 and updated.json()["name"] == "Review of slugify"
    assert api.put(f"/api/workflows/{workflow_id}", json={"status": "running"}).status_code == 422

    listed = api.get("/api/workflows", params={"status": "completed", "workflow_type": "code_review"}).json()
    assert [w["workflow_id"] for w in listed["items"]] == [workflow_id]
    assert api.delete(f"/api/workflows/{workflow_id}").status_code == 204
    assert api.get(f"/api/workflows/{workflow_id}").status_code == 404


def test_deleting_a_running_run_terminates_it(api: TestClient, start_worker, db: Engine, run_settings):
    start_worker(ScriptedBackend(delay=0.05))
    workflow_id = start_run(api, staffed_project(api))
    wait_for(api, workflow_id, "running")
    assert api.delete(f"/api/workflows/{workflow_id}").status_code == 204
    assert count_runs(db) == 0
    assert temporal_status(run_settings.temporal_address, workflow_id) == WorkflowExecutionStatus.TERMINATED


def test_temporal_down_is_503_and_changes_nothing(client: TestClient, db: Engine):
    project_id = staffed_project(client, roles=("reviewer", "developer"))
    body = {"project_id": project_id, "name": "x", "workflow_type": "code_review", "requirement": REQUIREMENT}
    response = client.post("/api/workflows", json=body)
    assert response.status_code == 503
    assert "Temporal is not reachable" in response.json()["detail"]
    assert count_runs(db) == 0
    health = client.get("/api/health").json()["components"]
    assert health["temporal"]["status"] == "down" and health["worker"]["status"] == "down"


def test_health_reports_temporal_and_the_worker(api: TestClient, start_worker, run_settings):
    components = api.get("/api/health").json()["components"]
    assert components["temporal"]["status"] == "up"
    assert components["worker"]["status"] == "down"
    assert run_settings.temporal_task_queue in components["worker"]["detail"]
    start_worker(ScriptedBackend())
    # up once its first polls have reached the server
    report = wait_until(lambda: (r := api.get("/api/health").json())["status"] == "ok" and r, what="health ok")
    assert report["components"]["worker"]["status"] == "up", report["components"]["worker"]


def test_cancelling_a_run_terminated_in_temporal_records_it(api: TestClient, start_worker):
    start_worker(ScriptedBackend(delay=0.05))
    workflow_id = start_run(api, staffed_project(api))
    wait_for(api, workflow_id, "running")
    runs = api.app.state.runs  # type: ignore[attr-defined]
    api.portal.call(runs.terminate, workflow_id, "by hand, like `temporal workflow terminate`")  # type: ignore[union-attr]

    response = api.post(f"/api/workflows/{workflow_id}/cancel")
    assert response.status_code == 200
    run = api.get(f"/api/workflows/{workflow_id}").json()
    assert run["status"] == "cancelled" and "terminated" in run["errors"][-1]["error"]


def test_a_run_temporal_refuses_is_503_and_changes_nothing(run_settings, db: Engine):
    elsewhere = run_settings.model_copy(update={"temporal_namespace": "no-such-namespace"})
    with TestClient(create_app(elsewhere)) as api:
        project_id = staffed_project(api, roles=("reviewer", "developer"))
        body = {"project_id": project_id, "name": "x", "workflow_type": "code_review", "requirement": REQUIREMENT}
        response = api.post("/api/workflows", json=body)
    assert response.status_code == 503
    assert "could not be started: Temporal refused: Namespace no-such-namespace" in response.json()["detail"]
    assert count_runs(db) == 0


def test_deleting_a_project_terminates_its_running_runs(api: TestClient, start_worker, db: Engine, run_settings):
    start_worker(ScriptedBackend(delay=0.05))
    project_id = staffed_project(api)
    workflow_id = start_run(api, project_id)
    wait_for(api, workflow_id, "running")
    assert api.delete(f"/api/projects/{project_id}").status_code == 204
    assert count_runs(db) == 0
    assert temporal_status(run_settings.temporal_address, workflow_id) == WorkflowExecutionStatus.TERMINATED


def test_an_artifact_downloads_under_its_own_name(client: TestClient, db: Engine, store):
    project_id = client.post("/api/projects", json={"name": "p", "type": "library"}).json()["id"]
    with Session(db) as session, session.begin():
        workflow = Workflow(
            project_id=project_id,
            name="w",
            workflow_type="documentation",
            status="completed",
            priority="medium",
            requirement="r",
            created_by="t",
        )
        session.add(workflow)
        session.flush()
        stored = store.put(f"workflows/{workflow.workflow_id}/docs/guide café.md", "# Café\n".encode(), "text/markdown")
        record_artifact(
            session,
            ArtifactRecord(
                artifact_id=uuid.uuid4(),
                workflow_id=workflow.workflow_id,
                step="document",
                path="docs/guide café.md",
                object_key=stored.key,
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
                content_type=stored.content_type,
                created_by_agent_id=None,
            ),
        )
        workflow_id = workflow.workflow_id
    listed = client.get(f"/api/workflows/{workflow_id}/artifacts").json()["items"]
    response = client.get(f"/api/workflows/{workflow_id}/artifacts/{listed[0]['id']}")
    assert response.status_code == 200 and response.text == "# Café\n"
    assert response.headers["content-type"].startswith("text/markdown")
    assert "filename*=UTF-8''guide%20caf%C3%A9.md" in response.headers["content-disposition"]
