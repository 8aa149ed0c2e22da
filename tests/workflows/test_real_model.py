"""One run on a real llama.cpp model (SmolLM2-135M, the smallest that shows the point): a code review through the
API, on the real Temporal dev server, with real tokens counted."""

import pytest
from fastapi.testclient import TestClient

from agents.llm.llama_cpp import LlamaCppBackend

from .support import messages, staffed_project, start_run, wait_for

SUBMITTED = """Review this function, meant to turn a title into a URL slug:

def slugify(text):
    return text.lower().replace(" ", "-")
"""


@pytest.mark.timeout(600)
def test_a_code_review_runs_on_the_real_model(api: TestClient, start_worker, real_llm: LlamaCppBackend):
    start_worker(real_llm)
    project_id = staffed_project(api, roles=("reviewer", "developer"), max_tokens=256)
    workflow_id = start_run(api, project_id, "code_review", requirement=SUBMITTED)

    run = wait_for(api, workflow_id, "completed", "failed", timeout=540)
    assert run["status"] == "completed", run["errors"]
    said = messages(api, workflow_id)
    assert all(m["content"].strip() for m in said)
    assert {m["message_type"] for m in said} >= {"proposal", "answer", "decision"}
    assert sum(m["completion_tokens"] or 0 for m in said) == run["metrics"]["completion_tokens"] > 0
    decisions = api.get(f"/api/communication/{workflow_id}/decisions").json()["items"]
    assert len(decisions) == 1 and len(decisions[0]["votes"]) == 2
