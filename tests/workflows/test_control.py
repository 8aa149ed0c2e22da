"""Steering runs: cancel, fail and resume, a worker killed mid-run, a person's message, approving a decision."""

import signal
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import anyio
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus

from agents.llm import CompletionRequest, LLMError
from agents.llm.scripted import ScriptedBackend
from api.temporal import reset_point
from db.models import Agent, Decision
from workflows.run_state import RunState
from workflows.types import HumanMessage

from .support import events, messages, staffed_project, start_run, temporal_status, wait_for, wait_until

STORIES_TASK = "Write the user stories"
DESIGN_PROBLEM = "How should the requirement be implemented"
IMPLEMENT_TASK = "write the Python code that implements the requirement"


def asked(llm: ScriptedBackend, marker: str) -> int:
    """Model calls whose prompt carries the marker."""
    return sum(1 for r in llm.requests if any(marker in m.content for m in r.messages))


def proposals(llm: ScriptedBackend) -> int:
    """Model calls that proposed a decision's variants (their answer's schema has `variants`)."""
    return sum(1 for r in llm.requests if r.json_schema and "variants" in r.json_schema.get("properties", {}))


class FailingWhile(ScriptedBackend):
    """Scripted replies, except that a prompt carrying the marker fails while `failing` is set."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker, self.failing = marker, True

    def _next_reply(self, request: CompletionRequest) -> str:
        reply = super()._next_reply(request)
        if self.failing and any(self.marker in m.content for m in request.messages):
            raise LLMError("the model crashed")
        return reply


def test_cancel_mid_step_stops_the_turn_and_records_cancelled(api: TestClient, db: Engine, start_worker, run_settings):
    llm = ScriptedBackend(delay=0.05)  # each model call streams for a second or two
    start_worker(llm)
    workflow_id = start_run(api, staffed_project(api))
    wait_until(lambda: asked(llm, DESIGN_PROBLEM), what="design decision under way")

    cancelled_at = time.monotonic()
    assert api.post(f"/api/workflows/{workflow_id}/cancel").status_code == 200
    run = wait_for(api, workflow_id, "cancelled", timeout=10)
    assert time.monotonic() - cancelled_at < 5
    design = next(s for s in run["steps"] if s["name"] == "design")
    assert design["status"] == "cancelled"
    assert temporal_status(run_settings.temporal_address, workflow_id) == WorkflowExecutionStatus.CANCELED

    # the in-flight turn stopped: no further model calls, its decision never recorded, nobody left busy
    calls = len(llm.requests)
    time.sleep(2)
    assert len(llm.requests) == calls
    with Session(db) as session:
        assert session.scalars(select(Decision)).first() is None
        assert {a.status for a in session.scalars(select(Agent))} == {"idle"}
    assert api.post(f"/api/workflows/{workflow_id}/cancel").status_code == 409

    # resume: continues after the finished step; the stories are not written again
    assert api.post(f"/api/workflows/{workflow_id}/resume").json()["status"] == "running"
    run = wait_for(api, workflow_id, "completed", "failed")
    assert run["status"] == "completed", run["errors"]
    assert asked(llm, STORIES_TASK) == 1
    assert run["metrics"]["resumes"] == 1


def test_failed_step_is_recorded_and_resume_skips_finished_steps(api: TestClient, db: Engine, start_worker):
    llm = FailingWhile(IMPLEMENT_TASK)
    start_worker(llm)
    workflow_id = start_run(api, staffed_project(api))

    wait_until(lambda: asked(llm, IMPLEMENT_TASK), what="the implementation under way")
    note = "Use the standard library only."  # arrives after the last finished step: a resume delivers it again
    runs = api.app.state.runs  # type: ignore[attr-defined]
    api.portal.call(runs.signal, workflow_id, RunState.human_message, HumanMessage(note, author="Ada"))  # type: ignore[union-attr]

    run = wait_for(api, workflow_id, "failed", "completed", timeout=60)
    assert run["status"] == "failed"
    assert "Implementation" in run["errors"][-1]["error"] and "the model crashed" in run["errors"][-1]["error"]
    assert [s["status"] for s in run["steps"]] == ["completed", "completed", "failed", "pending", "pending", "pending"]
    assert asked(llm, IMPLEMENT_TASK) == 3  # the activity's three attempts
    before = {"stories": asked(llm, STORIES_TASK), "design": proposals(llm)}
    assert before == {"stories": 1, "design": 1}
    said_before = {m["message_id"] for m in messages(api, workflow_id)}
    with ThreadPoolExecutor(2) as pool:  # two people press Resume at once: one resumes it, the other is told
        answers = list(pool.map(lambda _: api.post(f"/api/workflows/{workflow_id}/resume"), range(2)))
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert "running" in next(a for a in answers if a.status_code == 409).json()["detail"]

    llm.failing = False
    run = wait_for(api, workflow_id, "completed", "failed")
    assert run["status"] == "completed", run["errors"]
    assert {"stories": asked(llm, STORIES_TASK), "design": proposals(llm)} == before
    said = messages(api, workflow_id)
    assert said_before < {m["message_id"] for m in said}
    steps_said = Counter(m["content"][:40] for m in said if STORIES_TASK in m["content"])
    assert all(n == 1 for n in steps_said.values())
    assert [m["content"] for m in said if m["message_type"] == "human"] == [note], "stored once, not per delivery"
    kinds = Counter(e.event_type for e in events(db, workflow_id))
    assert kinds["step_started"] == 6 + 1  # the failed step started twice: once failing, once on resume
    assert kinds["error_occurred"] == 1


def test_a_killed_worker_loses_and_duplicates_nothing(api: TestClient, db: Engine, worker_process):
    first = worker_process(LLM_SCRIPTED_DELAY="0.03")
    workflow_id = start_run(api, staffed_project(api))
    wait_until(lambda: len(messages(api, workflow_id)) >= 2, timeout=60, what="two messages")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)

    worker_process()
    run = wait_for(api, workflow_id, "completed", "failed", timeout=120)
    assert run["status"] == "completed", run["errors"]

    said = messages(api, workflow_id)
    logged = events(db, workflow_id)
    announced = [e.data["message_id"] for e in logged if e.event_type == "new_message"]
    assert sorted(announced) == sorted(m["message_id"] for m in said), "one event per message, none twice"
    kinds = Counter(e.event_type for e in logged)
    assert kinds["step_started"] == kinds["step_completed"] == len(run["steps"])
    assert kinds["workflow_status_changed"] == 2
    assert kinds["new_decision"] == 1
    artifacts = [e.data["artifact_id"] for e in logged if e.event_type == "artifact_created"]
    assert len(artifacts) == len(set(artifacts)) == len(run["artifacts"])


def test_a_persons_message_posted_through_the_api_reaches_the_next_turn(api: TestClient, db: Engine, start_worker):
    llm = ScriptedBackend(delay=0.02)
    start_worker(llm)
    workflow_id = start_run(api, staffed_project(api))
    wait_until(lambda: asked(llm, DESIGN_PROBLEM), what="design decision under way")

    note = "Please keep non-ASCII letters: transliterate them instead of dropping them."
    stories = messages(api, workflow_id)[0]  # a reply to the product owner's stories, in their thread
    body = {"content": f"  {note} ", "author": "Ada", "parent_message_id": stories["message_id"]}
    posted = api.post(f"/api/communication/{workflow_id}/messages", json=body)
    assert posted.status_code == 201, posted.text
    message = posted.json()
    assert (message["message_type"], message["agent_name"], message["agent_role"]) == ("human", "Ada", "human")
    assert message["content"] == note and message["workflow_id"] == workflow_id
    assert message["parent_message_id"] == stories["message_id"]

    run = wait_for(api, workflow_id, "completed", "failed")
    assert run["status"] == "completed", run["errors"]
    assert asked(llm, note) >= 1, "a later turn's prompt carries the message"
    human = [m for m in messages(api, workflow_id) if m["message_type"] == "human"]
    assert [(m["message_id"], m["content"], m["parent_message_id"]) for m in human] == [
        (message["message_id"], note, stories["message_id"])
    ], "stored once"
    announced = [e for e in events(db, workflow_id) if e.event_type == "new_message"]
    assert [e.data["message_id"] for e in announced].count(message["message_id"]) == 1

    late = api.post(f"/api/communication/{workflow_id}/messages", json={"content": "Too late?"})
    assert late.status_code == 409 and "completed" in late.json()["detail"]


def test_a_decision_waits_for_approval_and_can_be_overridden(api: TestClient, db: Engine, start_worker):
    start_worker(ScriptedBackend())
    options = {"approval": {"decisions": ["design"], "timeout_seconds": 600}}
    workflow_id = start_run(api, staffed_project(api), options=options)

    run = wait_for(api, workflow_id, "paused")
    decision_id = run["metrics"]["awaiting_approval"]
    design = next(s for s in run["steps"] if s["name"] == "design")
    assert design["status"] == "waiting_for_approval" and design["decision_id"] == decision_id
    time.sleep(1)
    assert api.get(f"/api/workflows/{workflow_id}").json()["status"] == "paused", "nothing runs while it waits"

    url = f"/api/workflows/{workflow_id}/decisions/{decision_id}/approval"
    assert api.post(url, json={"action": "override", "variant_id": "Z"}).status_code == 422
    override = {"action": "override", "variant_id": "B", "comment": "B is simpler.", "author": "Ada"}
    response = api.post(url, json=override)
    assert response.status_code == 200, response.text

    run = wait_for(api, workflow_id, "completed", "failed")
    assert run["status"] == "completed", run["errors"]
    with Session(db) as session:
        decision = session.get(Decision, decision_id)
        assert decision is not None and decision.chosen_variant_id == "B"
    note = next(m for m in messages(api, workflow_id) if m["message_type"] == "human")
    assert note["agent_name"] == "Ada" and "B is simpler." in note["content"]
    assert note["parent_message_id"] == str(decision.discussion_thread_id)
    assert api.post(url, json={"action": "approve"}).status_code == 409


def test_an_unanswered_approval_times_out_to_the_chosen_default(api: TestClient, start_worker):
    start_worker(ScriptedBackend())
    project_id = staffed_project(api, roles=("reviewer", "developer"))
    accept = start_run(api, project_id, "code_review", options={"approval": {"decisions": ["*"], "timeout_seconds": 1}})
    fail = {"approval": {"decisions": ["verdict"], "timeout_seconds": 1, "on_timeout": "fail"}}
    failing = start_run(api, project_id, "code_review", options=fail)

    run = wait_for(api, accept, "completed", "failed")
    assert run["status"] == "completed", run["errors"]
    note = next(m for m in messages(api, accept) if m["message_type"] == "status_update")
    assert "No answer in time" in note["content"]
    run = wait_for(api, failing, "completed", "failed")
    assert run["status"] == "failed" and "was not approved within 1 s" in run["errors"][-1]["error"]


def test_a_reset_by_hand_marks_the_run_running_again(api: TestClient, start_worker, run_settings):
    llm = FailingWhile("Answer the review")  # code_review's last step
    start_worker(llm)
    workflow_id = start_run(api, staffed_project(api, roles=("reviewer", "developer")), "code_review")
    assert wait_for(api, workflow_id, "failed", "completed")["status"] == "failed"
    llm.failing = False

    async def reset_like_the_cli() -> None:  # `temporal workflow reset -w ID --event-id N`, not the API
        client = await Client.connect(run_settings.temporal_address)
        handle = client.get_workflow_handle(workflow_id)
        event_id = reset_point(await handle.fetch_history())
        await client.workflow_service.reset_workflow_execution(
            ResetWorkflowExecutionRequest(
                namespace="default",
                workflow_execution=WorkflowExecution(workflow_id=workflow_id),
                reason="by hand",
                workflow_task_finish_event_id=event_id,
                request_id=str(uuid.uuid4()),
            )
        )

    anyio.run(reset_like_the_cli)
    wait_for(api, workflow_id, "running", "completed")  # the API was not told: the run says so itself
    run = wait_for(api, workflow_id, "completed", "failed")
    assert run["status"] == "completed", run["errors"]
    assert [s["status"] for s in run["steps"]] == ["completed"] * 3
