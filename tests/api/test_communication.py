"""The communication API on recorded conversations: threads, statistics, and what a person may post when."""

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db.models import AgentMessage
from db.records import DecisionRecord, MessageRecord, record_decision, record_message
from db.session import transaction
from tests.support import new_run


def say(engine: Engine, run: uuid.UUID, name: str, role: str, kind: str, text: str, **fields: Any) -> uuid.UUID:
    message_id = uuid.uuid4()
    with transaction(engine) as session:
        record_message(session, MessageRecord(message_id, run, None, name, role, kind, text, **fields))
    return message_id


@pytest.fixture
def conversation(db: Engine) -> dict[str, Any]:
    """A decision thread (proposal, a vote with a person's reply under it, the outcome), an open question, a note."""
    run = new_run(db)
    usage = {"prompt_tokens": 100, "completion_tokens": 20, "latency_ms": 1000}
    proposal = say(db, run, "Ann", "architect", "proposal", "Option A or B?", requires_response=True, **usage)
    vote_usage = {"prompt_tokens": 50, "completion_tokens": 10, "latency_ms": 500}
    vote = say(db, run, "Dev", "developer", "answer", "I vote A", parent_message_id=proposal, **vote_usage)
    human = say(db, run, "Ada", "human", "human", "A, please.", parent_message_id=vote)
    outcome = say(db, run, "Ann", "architect", "decision", "Decision: A", parent_message_id=proposal, **usage)
    question = say(db, run, "Rev", "reviewer", "question", "Which locale?", requires_response=True)
    note = say(db, run, "Conclave", "architect", "status_update", "Design done.")
    with transaction(db) as session:
        record_decision(
            session,
            DecisionRecord(
                uuid.uuid4(),
                run,
                "A or B",
                "",
                [{"id": "A", "title": "A"}, {"id": "B", "title": "B"}],
                [{"agent_name": "Dev", "variant_id": "A"}],
                "A",
                "because",
                [],
                proposal,
            ),
        )
    return {
        "run": run,
        "proposal": proposal,
        "vote": vote,
        "human": human,
        "outcome": outcome,
        "question": question,
        "note": note,
    }


def test_threads_nest_replies_under_the_message_they_answer(client: TestClient, conversation: dict[str, Any]):
    c = conversation
    page = client.get(f"/api/communication/{c['run']}/threads").json()
    assert page["total"] == 3
    first, second, third = page["items"]
    assert [first["message_id"], second["message_id"], third["message_id"]] == [
        str(c["proposal"]),
        str(c["question"]),
        str(c["note"]),
    ]
    assert [r["message_id"] for r in first["replies"]] == [str(c["vote"]), str(c["outcome"])]
    assert [r["message_id"] for r in first["replies"][0]["replies"]] == [str(c["human"])]
    assert first["message_count"] == 4 and second["message_count"] == 1
    assert first["participants"] == ["Ann", "Dev", "Ada"]
    assert first["last_message_at"] == first["replies"][1]["created_at"]

    paged = client.get(f"/api/communication/{c['run']}/threads", params={"skip": 1, "limit": 1}).json()
    assert [t["message_id"] for t in paged["items"]] == [str(c["question"])] and paged["total"] == 3


def test_stats_count_by_type_and_author_with_tokens_latency_and_open_questions(
    client: TestClient, conversation: dict[str, Any]
):
    stats = client.get(f"/api/communication/{conversation['run']}/stats").json()
    assert stats["total_messages"] == 6
    assert stats["by_type"] == {
        "proposal": 1,
        "answer": 1,
        "human": 1,
        "decision": 1,
        "question": 1,
        "status_update": 1,
    }
    assert stats["threads"] == 3 and stats["decisions"] == 1
    assert (stats["prompt_tokens"], stats["completion_tokens"], stats["total_tokens"]) == (250, 50, 300)
    assert stats["average_latency_ms"] == pytest.approx((1000 + 500 + 1000) / 3, abs=0.1)
    # the proposal was answered; the reviewer's question was not
    assert stats["awaiting_response"] == 1
    ann = stats["by_agent"][0]
    assert (ann["agent_name"], ann["messages"], ann["prompt_tokens"]) == ("Ann", 2, 200)
    assert ann["average_latency_ms"] == 1000
    assert {a["agent_name"]: a["messages"] for a in stats["by_agent"]} == {
        "Ann": 2,
        "Dev": 1,
        "Ada": 1,
        "Rev": 1,
        "Conclave": 1,
    }
    assert stats["first_message_at"] <= stats["last_message_at"]


def test_an_empty_run_has_empty_threads_and_zero_stats(client: TestClient, db: Engine):
    run = new_run(db)
    assert client.get(f"/api/communication/{run}/threads").json() == {"items": [], "total": 0, "skip": 0, "limit": 100}
    stats = client.get(f"/api/communication/{run}/stats").json()
    assert stats["total_messages"] == stats["awaiting_response"] == stats["total_tokens"] == 0
    assert stats["average_latency_ms"] is None and stats["by_agent"] == [] and stats["by_type"] == {}


def test_messages_filter_by_type_and_agent_and_page_oldest_first(client: TestClient, conversation: dict[str, Any]):
    url = f"/api/communication/{conversation['run']}/messages"
    everything = client.get(url).json()
    assert [m["content"] for m in everything["items"]][:3] == ["Option A or B?", "I vote A", "A, please."]
    assert [m["content"] for m in client.get(url, params={"message_type": "human"}).json()["items"]] == ["A, please."]
    page = client.get(url, params={"skip": 2, "limit": 2}).json()
    assert [m["content"] for m in page["items"]] == ["A, please.", "Decision: A"] and page["total"] == 6
    assert client.get(url, params={"message_type": "gossip"}).status_code == 422


def stored_messages(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(AgentMessage)) or 0


def test_posting_checks_the_run_its_state_and_the_body_and_changes_nothing_when_refused(
    client: TestClient, db: Engine, conversation: dict[str, Any]
):
    run, other = conversation["run"], new_run(db)
    finished = new_run(db, status="completed")
    before = stored_messages(db)
    url = f"/api/communication/{run}/messages"

    missing = client.post(f"/api/communication/{uuid.uuid4()}/messages", json={"content": "hi"})
    assert missing.status_code == 404
    closed = client.post(f"/api/communication/{finished}/messages", json={"content": "hi"})
    assert closed.status_code == 409 and "completed" in closed.json()["detail"]
    for body in (
        {"content": "   "},
        {"content": ""},
        {},
        {"content": "hi", "mood": "happy"},
        {"content": "x" * 20_001},
        {"content": "hi", "author": ""},
    ):
        assert client.post(url, json=body).status_code == 422, body
    stranger = say(db, other, "Zed", "developer", "proposal", "elsewhere")
    misplaced = client.post(url, json={"content": "hi", "parent_message_id": str(stranger)})
    assert misplaced.status_code == 422 and "parent_message_id" in str(misplaced.json()["detail"])
    # Temporal is unreachable in these tests: the message cannot be delivered, so it is not stored either
    unreachable = client.post(url, json={"content": "Please hurry."})
    assert unreachable.status_code == 503
    assert stored_messages(db) == before + 1  # only the stranger's message, written by the test


def test_a_retried_post_with_its_message_id_returns_the_message_already_posted(
    client: TestClient, db: Engine, conversation: dict[str, Any]
):
    run = conversation["run"]
    url = f"/api/communication/{run}/messages"
    posted = conversation["human"]  # as if an earlier attempt had been stored, and its answer lost
    retry = client.post(url, json={"content": "A, please.", "message_id": str(posted), "author": "Ada"})
    assert retry.status_code == 201 and retry.json()["message_id"] == str(posted)  # Temporal is not even asked
    taken = client.post(url, json={"content": "Something else", "message_id": str(conversation["vote"])})
    assert taken.status_code == 409 and "taken" in taken.json()["detail"]
    assert stored_messages(db) == 6
