"""No run fails on the shape of an answer: each structured answer's last resort, on a real Temporal dev server,
PostgreSQL and S3, with a scripted model that answers badly on purpose. Each run completes, and its record says what
happened (the decision, the messages and their `fallback` attachments, the step summaries)."""

import json
from typing import Any

from fastapi.testclient import TestClient

from agents.llm import CompletionRequest
from agents.llm.scripted import ScriptedBackend, default_reply

from .support import messages, staffed_project, start_run, wait_for
from .test_code_loop import BUGGY, REQUIREMENT, TESTS, Team

UNREADABLE = "I think the first one is best, honestly."


def schema_title(request: CompletionRequest) -> str | None:
    return (request.json_schema or {}).get("title")


def answering(**by_schema: str) -> ScriptedBackend:
    """A model that answers the named structured requests (by their schema's title) as given, the rest as usual."""

    def reply(request: CompletionRequest) -> str:  # a repair asks with the same schema, and gets the same answer
        title = schema_title(request)
        return by_schema[title] if title in by_schema else default_reply(request)

    return ScriptedBackend([reply] * 500)


def fallbacks(said: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(a["answer"], a["action"]) for m in said for a in m["attachments"] or [] if a.get("kind") == "fallback"]


def step(run: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in run["steps"] if s["name"] == name)


REVIEW = ("code_review", ("reviewer", "developer", "architect"), "Review: def f(x): return x")
DOCUMENT = ("documentation", ("tech_writer", "reviewer", "developer"), "Document f(x), which returns x.")


def completed_run(
    api: TestClient, start_worker: Any, llm: ScriptedBackend, kind: tuple[str, tuple[str, ...], str]
) -> tuple[str, dict[str, Any]]:
    """A run of this kind (type, team, requirement) on `llm`, which must complete: (its id, the run)."""
    workflow_type, roles, requirement = kind
    start_worker(llm)
    workflow_id = start_run(api, staffed_project(api, roles=roles), workflow_type, requirement=requirement)
    run = wait_for(api, workflow_id, "completed", "failed", timeout=60)
    assert run["status"] == "completed", run["errors"]
    return workflow_id, run


def decision_of(api: TestClient, workflow_id: str) -> dict[str, Any]:
    return api.get(f"/api/communication/{workflow_id}/decisions").json()["items"][0]


def test_a_lead_that_keeps_giving_one_option_makes_an_uncontested_decision(api: TestClient, start_worker):
    one = json.dumps({"variants": [{"title": "Use a dict"}, {"title": "use a DICT."}]})
    llm = answering(Proposal=one, ProposedVariant=json.dumps({"title": "Use a dict!"}))
    workflow_id, run = completed_run(api, start_worker, llm, REVIEW)
    decision = decision_of(api, workflow_id)
    assert decision["uncontested"] is True
    assert [v["title"] for v in decision["variants"]] == ["Use a dict"] and decision["chosen_variant_id"] == "A"
    assert decision["votes"] == []  # nothing to vote on
    assert decision["justification"].startswith("Uncontested: the lead's options repeated one another")
    assert "asked 2 times for another option, the lead gave none that differs" in decision["justification"]
    assert "uncontested" in step(run, "verdict")["summary"]
    # the lead was asked for an alternative twice, each time shown the option it had
    asked = [r for r in llm.requests if schema_title(r) == "ProposedVariant"]
    assert len(asked) == 2 and all("Use a dict" in r.messages[-1].content for r in asked)
    said = messages(api, workflow_id)
    assert ("proposal", "asked_again") in fallbacks(said) and ("proposal", "uncontested") in fallbacks(said)
    assert any(m["content"].startswith("Decision (uncontested): A - Use a dict") for m in said)


def test_a_lead_whose_proposal_cannot_be_read_goes_ahead_as_the_requirement_says(api: TestClient, start_worker):
    workflow_id, _run = completed_run(
        api, start_worker, answering(Proposal=UNREADABLE, ProposedVariant=UNREADABLE), REVIEW
    )
    decision = decision_of(api, workflow_id)
    assert decision["uncontested"] and decision["variants"][0]["title"] == "Go ahead as the requirement says"
    assert "the lead's proposal could not be read" in decision["justification"]


def test_an_alternative_asked_for_makes_the_decision_contested_again(api: TestClient, start_worker):
    one = json.dumps({"variants": [{"title": "Merge"}, {"title": "merge"}]})
    other = json.dumps({"title": "Reject", "description": "Too risky."})
    workflow_id, _run = completed_run(api, start_worker, answering(Proposal=one, ProposedVariant=other), REVIEW)
    decision = decision_of(api, workflow_id)
    assert not decision["uncontested"] and [v["title"] for v in decision["variants"]] == ["Merge", "Reject"]
    assert len(decision["votes"]) == 3
    assert fallbacks(messages(api, workflow_id)) == [("proposal", "asked_again")]


def test_unreadable_votes_are_asked_again_as_an_id_then_abstain(api: TestClient, start_worker):
    llm = answering(Vote=UNREADABLE, Choice=UNREADABLE)
    workflow_id, _run = completed_run(api, start_worker, llm, REVIEW)
    decision = decision_of(api, workflow_id)
    assert decision["votes"] == [] and decision["chosen_variant_id"] == "A"  # the earliest-listed, by the tie rule
    assert decision["justification"].startswith("No readable vote came in")
    assert "3 abstained" in decision["justification"]
    said = messages(api, workflow_id)
    assert sum(m["content"].startswith("I abstain: no readable vote") for m in said) == 3
    assert fallbacks(said).count(("vote", "abstained")) == 3
    assert len([r for r in llm.requests if schema_title(r) == "Choice"]) == 3


def test_a_vote_whose_reason_cannot_be_read_counts_by_its_id(api: TestClient, start_worker):
    workflow_id, _run = completed_run(
        api, start_worker, answering(Vote=UNREADABLE, Choice='{"variant_id": "B"}'), REVIEW
    )
    decision = decision_of(api, workflow_id)
    assert [v["variant_id"] for v in decision["votes"]] == ["B", "B", "B"] and decision["chosen_variant_id"] == "B"
    assert all(v["reason"].startswith("(no reason given") for v in decision["votes"])
    assert fallbacks(messages(api, workflow_id)).count(("vote", "id_only")) == 3


def test_an_unreadable_review_leaves_the_work_unapproved_and_the_run_going(api: TestClient, start_worker):
    workflow_id, run = completed_run(api, start_worker, answering(Verdict=UNREADABLE, BareVerdict=UNREADABLE), DOCUMENT)
    summary = step(run, "document")["summary"]
    assert summary.startswith("not approved (no readable verdict)") and "after 0 revision(s)" in summary
    said = messages(api, workflow_id)
    reviews = [m for m in said if m["message_type"] == "review"]
    assert len(reviews) == 1 and reviews[0]["content"].startswith("No verdict: the review could not be read")
    assert fallbacks(said) == [("verdict", "no_verdict")]


def test_a_verdict_whose_findings_cannot_be_read_is_asked_again_without_them(api: TestClient, start_worker):
    bare = json.dumps({"verdict": "approve", "summary": "Clear and correct."})
    workflow_id, run = completed_run(api, start_worker, answering(Verdict=UNREADABLE, BareVerdict=bare), DOCUMENT)
    assert step(run, "document")["summary"].startswith("approved by")
    said = messages(api, workflow_id)
    assert any(m["content"] == "Approved: Clear and correct." for m in said)
    assert ("verdict", "verdict_only") in fallbacks(said)


def test_an_agent_that_answers_with_nothing_is_recorded_and_the_run_goes_on(api: TestClient, start_worker):
    def reply(request: CompletionRequest) -> str:
        return "" if "Write an outline" in request.messages[-1].content else default_reply(request)

    workflow_id, _run = completed_run(api, start_worker, ScriptedBackend([reply] * 500), DOCUMENT)
    said = messages(api, workflow_id)
    outline = next(m for m in said if m["content"].startswith("(no answer:"))
    assert "answered with empty text twice" in outline["content"]
    assert fallbacks([outline]) == [("answer", "empty")]


def test_an_unreadable_ruling_keeps_every_failing_test(api: TestClient, start_worker):
    team = Team(module=[BUGGY], tests=[TESTS], repair=[BUGGY], ruling=[UNREADABLE])
    start_worker(team.backend())
    project_id = staffed_project(api)
    workflow_id = start_run(api, project_id, requirement=REQUIREMENT, options={"code": {"rounds": 2}})

    run = wait_for(api, workflow_id, "completed", "failed", timeout=120)
    assert run["status"] == "completed", run["errors"]
    assert step(run, "verification")["summary"].startswith("NOT PASSING")  # nothing ruled out, nothing hidden
    said = messages(api, workflow_id)
    ruling = next(m for m in said if m["content"].startswith("I could not give a readable ruling"))
    assert "every failing test stands" in ruling["content"]
    assert fallbacks([ruling]) == [("ruling", "tests_stand")]
    assert not any(
        "Rule out" in d["problem"] for d in api.get(f"/api/communication/{workflow_id}/decisions").json()["items"]
    )
