"""Helpers for run tests: a staffed project, starting a run through the API and waiting for its state."""

import time
from typing import Any

import anyio
import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from temporalio.client import Client, WorkflowExecutionStatus

from db.models import WorkflowEvent

ALL_ROLES = ("product_owner", "architect", "developer", "reviewer", "tester", "tech_writer")
REQUIREMENT = "Add slugify(text) to the utils module: lowercase, words joined by hyphens, punctuation dropped."


def staffed_project(api: httpx.Client, roles: tuple[str, ...] = ALL_ROLES, max_tokens: int | None = None) -> str:
    """A project with one agent per role, each made from the role's template."""
    response = api.post("/api/projects", json={"name": "Slugs", "type": "library", "status": "active"})
    assert response.status_code == 201, response.text
    project_id = response.json()["id"]
    templates = {t["role"]: t for t in api.get("/api/agents/templates").json()}
    for role in roles:
        fields = ("name", "role", "description", "model", "temperature", "max_tokens", "system_prompt", "capabilities")
        body = {k: v for k, v in templates[role].items() if k in fields} | {"project_id": project_id}
        if max_tokens:
            body["max_tokens"] = max_tokens
        response = api.post("/api/agents", json=body)
        assert response.status_code == 201, response.text
    return project_id


def start_run(api: httpx.Client, project_id: str, workflow_type: str = "feature_development", **extra: Any) -> str:
    body = {
        "project_id": project_id,
        "name": f"{workflow_type} run",
        "workflow_type": workflow_type,
        "requirement": REQUIREMENT,
        **extra,
    }
    response = api.post("/api/workflows", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["workflow_id"])


def wait_for(api: httpx.Client, workflow_id: str, *states: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run = api.get(f"/api/workflows/{workflow_id}").json()
        if run["status"] in states:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run is {run['status']} after {timeout} s, not {states}: {run.get('errors')}")
        time.sleep(0.2)


def wait_until(condition: Any, timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout} s")
        time.sleep(0.1)
    return value


def messages(api: httpx.Client, workflow_id: str) -> list[dict[str, Any]]:
    return api.get(f"/api/communication/{workflow_id}/messages?limit=500").json()["items"]


def events(engine: Engine, workflow_id: str) -> list[WorkflowEvent]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(WorkflowEvent).where(WorkflowEvent.workflow_id == workflow_id).order_by(WorkflowEvent.id)
            )
        )


def temporal_status(address: str, workflow_id: str) -> WorkflowExecutionStatus | None:
    """How Temporal sees the run (asked with a client of its own)."""

    async def describe() -> WorkflowExecutionStatus | None:
        client = await Client.connect(address)
        return (await client.get_workflow_handle(workflow_id).describe()).status

    return anyio.run(describe)
