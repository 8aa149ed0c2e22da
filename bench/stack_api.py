"""The live stack's API as the quality benchmark uses it: a staffed project, a `feature_development` run of a task
until it ends (or is cancelled at a timeout), and the module the run left (`run_workflow`)."""

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from bench.task_suite import Task, WorkflowAttempt

POLL_SECONDS = 3
CANCEL_WAIT_SECONDS = 60  # after a timeout, for the cancelled run to stop using the model
FINISHED = ("completed", "failed", "cancelled")
AGENT_FIELDS = ("name", "role", "description", "model", "temperature", "max_tokens", "system_prompt", "capabilities")
CLAIM_KEYS = ("code_tests_passed", "code_tests_total", "code_rounds", "code_candidates")
FINAL_STEP = "verification"


class BenchError(RuntimeError):
    """The stack answered, but not as the benchmark needs (a refused request): nothing sensible to measure."""


class Api:
    """The stack's HTTP API, with the few calls the benchmark makes."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.client = httpx.Client(base_url=self.url, timeout=30)

    def not_ready(self) -> str | None:
        """Why the benchmark cannot use the stack (unreachable, or not healthy); None: it can."""
        try:
            health = self.client.get("/api/health", timeout=5)
        except httpx.TransportError as exc:
            return f"cannot reach the API at {self.url} ({exc}): start the stack with `make up`"
        if health.status_code != 200:
            return (
                f"the API at {self.url} is not healthy ({health.status_code} {health.text[:300]}): start the stack "
                "with `make up` (or see `make status`)"
            )
        return None

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, path, **kwargs)
        if response.status_code != expect:
            raise BenchError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response

    def json(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        return self.call(method, path, expect, **kwargs).json()

    def staffed_project(self, name: str) -> str:
        """A new project with one agent per role template, as they come (the way tests/workflows/support.py does)."""
        project = self.json("POST", "/api/projects", 201, json={"name": name, "type": "library", "status": "active"})
        for template in self.json("GET", "/api/agents/templates"):
            body = {k: v for k, v in template.items() if k in AGENT_FIELDS} | {"project_id": project["id"]}
            self.call("POST", "/api/agents", 201, json=body)
        return str(project["id"])

    def artifacts(self, workflow_id: str) -> list[dict[str, Any]]:
        """Every artifact of the run, oldest first."""
        items: list[dict[str, Any]] = []
        while True:
            page = self.json(
                "GET", f"/api/workflows/{workflow_id}/artifacts", params={"limit": 200, "skip": len(items)}
            )
            items += page["items"]
            if not page["items"] or len(items) >= page.get("total", 0):
                return items

    def cancel(self, workflow_id: str) -> str:
        """Cancel the run and wait (a while) until it has stopped; its last status."""
        response = self.client.post(f"/api/workflows/{workflow_id}/cancel")
        if response.status_code not in (200, 409):  # 409: it ended meanwhile
            raise BenchError(f"cancel {workflow_id}: {response.status_code} {response.text[:500]}")
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        while True:
            status = str(self.json("GET", f"/api/workflows/{workflow_id}")["status"])
            if status in FINISHED or time.monotonic() > deadline:
                return status
            time.sleep(1)


def file_name(path: str) -> str:
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def final_module(artifacts: Sequence[dict[str, Any]], module: str) -> dict[str, Any] | None:
    """The run's final version of `module`: the latest artifact of the verification step at that path (else with
    that file name in another folder), else the latest artifact of any step with that file name, else None."""

    def latest(candidates: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
        return max(candidates, key=lambda c: (datetime.fromisoformat(c[1]["created_at"]), c[0]))[1]

    named = [(i, a) for i, a in enumerate(artifacts) if file_name(a["path"]) == module]
    final = [(i, a) for i, a in named if a.get("step") == FINAL_STEP]
    exact = [(i, a) for i, a in final if a["path"].removeprefix("./") == module]
    for candidates in (exact, final, named):
        if candidates:
            return latest(candidates)
    return None


def run_workflow(
    api: Api, project_id: str, task: Task, timeout: float, code: dict[str, int] | None = None
) -> WorkflowAttempt:
    """A feature_development run of the requirement (with the code loop's `code` options, if any), until it ends (or
    is cancelled at `timeout`); its module."""
    body = {
        "project_id": project_id,
        "name": f"bench {task.key}",
        "workflow_type": "feature_development",
        "requirement": task.requirement,
        **({"options": {"code": code}} if code else {}),
    }
    started = time.monotonic()
    workflow_id = str(api.json("POST", "/api/workflows", 201, json=body)["workflow_id"])
    attempt = WorkflowAttempt(workflow_id=workflow_id, total=task.tests)
    try:
        while True:
            run = api.json("GET", f"/api/workflows/{workflow_id}")
            attempt.status = str(run["status"])
            if attempt.status in FINISHED:
                break
            if time.monotonic() - started > timeout:
                attempt.seconds = time.monotonic() - started
                attempt.status = api.cancel(workflow_id)
                attempt.note = f"timed out after {timeout:g} s, cancelled"
                return attempt
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        api.cancel(workflow_id)  # do not leave the run occupying the model
        raise
    attempt.seconds = time.monotonic() - started
    metrics = run.get("metrics") or {}
    attempt.claim = {key: metrics[key] for key in CLAIM_KEYS if key in metrics}
    artifact = final_module(api.artifacts(workflow_id), task.module)
    if artifact is None:
        attempt.note = "no module"
        return attempt
    attempt.artifact = f"{artifact.get('step')}:{artifact['path']}"
    attempt.code = api.call("GET", f"/api/workflows/{workflow_id}/artifacts/{artifact['id']}").content.decode(
        "utf-8", "replace"
    )
    return attempt
