"""Agent turns and decisions recorded in PostgreSQL and S3 (scripted model, real database, real rclone S3)."""

import hashlib
import json
import uuid

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from activities.agent_turns import run_agent_turn
from activities.decisions import hold_decision
from activities.storage import ArtifactStore
from activities.turn_io import TurnConfigurationError
from activities.types import DecisionRequest, TurnRequest
from agents.llm import CompletionRequest
from agents.llm.llama_cpp import LlamaCppBackend
from agents.llm.scripted import ScriptedBackend
from db.models import Agent, AgentMessage, Artifact, Decision, Project, Workflow, WorkflowEvent

CODE = "def slugify(text):\n    return '-'.join(text.lower().split())\n"
CODE_REPLY = f"Here is the module.\n\n`src/slug.py`\n```python\n{CODE}```\n"
OK_CHECK = '{"meets_task": true, "missing": []}'


@pytest.fixture
def team(db: Engine, model_seed: int) -> dict[str, uuid.UUID]:
    with Session(db) as session, session.begin():
        project = Project(name="Slugs", type="library", status="active", created_by="test")
        session.add(project)
        session.flush()
        workflow = Workflow(
            project_id=project.id,
            name="Add slugify",
            workflow_type="feature_development",
            status="running",
            priority="medium",
            requirement="Write slugify(text): lowercase, words joined by hyphens.",
            created_by="test",
            options={"seed": model_seed},  # the real-model turns sample alike on every test run
        )
        agents = {
            role: Agent(name=f"{role.title()} Bot", role=role, status="idle", model="m", project_id=project.id)
            for role in ("architect", "developer", "reviewer")
        }
        session.add_all([workflow, *agents.values()])
        session.flush()
        return {"workflow": workflow.workflow_id, **{role: a.agent_id for role, a in agents.items()}}


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (AgentMessage, Artifact, Decision, WorkflowEvent)
        }


def events(engine: Engine) -> list[WorkflowEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(WorkflowEvent).order_by(WorkflowEvent.id)))


def test_a_turn_records_its_message_files_usage_and_events(db: Engine, store: ArtifactStore, team: dict) -> None:
    llm = ScriptedBackend([CODE_REPLY, OK_CHECK])
    request = TurnRequest(
        workflow_id=str(team["workflow"]),
        step="implementation",
        turn="draft",
        agent_id=str(team["developer"]),
        task="Write src/slug.py",
        addressed_to=[str(team["reviewer"])],
        requires_response=True,
        urgency="high",
    )
    result = run_agent_turn(request, llm=llm, engine=db, store=store)

    assert [a["path"] for a in result.artifacts] == ["src/slug.py"]
    with Session(db) as session:
        message = session.get(AgentMessage, uuid.UUID(result.message_id))
        assert message is not None
        assert message.content == CODE_REPLY.strip()
        assert (message.agent_name, message.agent_role, message.message_type) == (
            "Developer Bot",
            "developer",
            "proposal",
        )
        assert message.addressed_to == [str(team["reviewer"])] and message.addressed_to_names == ["Reviewer Bot"]
        assert message.requires_response and message.urgency == "high"
        assert message.prompt_tokens and message.completion_tokens and message.latency_ms is not None
        artifact = session.scalars(select(Artifact)).one()
        workflow = session.get(Workflow, team["workflow"])
        agent = session.get(Agent, team["developer"])
    # the file is in S3, byte for byte, with the recorded size and hash
    body = store.get(artifact.object_key)
    assert body.decode() == CODE
    assert artifact.size_bytes == len(body) and artifact.content_type.startswith("text/x-python")
    assert artifact.sha256 == hashlib.sha256(body).hexdigest()
    assert artifact.created_by_agent_id == team["developer"] and artifact.step == "implementation"
    assert workflow is not None and [a["path"] for a in workflow.artifacts or []] == ["src/slug.py"]
    assert agent is not None and agent.status == "idle" and agent.current_task is None and agent.last_active

    kinds = [(e.event_type, e.data.get("status")) for e in events(db)]
    assert kinds == [
        ("agent_status_changed", "busy"),
        ("artifact_created", None),
        ("new_message", None),
        ("agent_status_changed", "idle"),
    ]
    assert all(e.workflow_id == team["workflow"] for e in events(db))


def test_the_same_turn_twice_writes_one_set_of_rows_and_calls_the_model_once(
    db: Engine, store: ArtifactStore, team: dict
) -> None:
    llm = ScriptedBackend([CODE_REPLY, OK_CHECK])
    request = TurnRequest(
        workflow_id=str(team["workflow"]),
        step="implementation",
        turn="draft",
        agent_id=str(team["developer"]),
        task="Write src/slug.py",
    )
    first = run_agent_turn(request, llm=llm, engine=db, store=store)
    before = counts(db)
    second = run_agent_turn(request, llm=llm, engine=db, store=store)
    assert counts(db) == before == {"agent_messages": 1, "artifacts": 1, "decisions": 0, "workflow_events": 4}
    assert second.reused and second.message_id == first.message_id and second.artifacts == first.artifacts
    assert len(llm.requests) == 2  # draft and self-check of the first run only


def test_the_next_turn_sees_the_thread_and_the_files(db: Engine, store: ArtifactStore, team: dict) -> None:
    wf = str(team["workflow"])
    run_agent_turn(
        TurnRequest(wf, "implementation", "draft", str(team["developer"]), "Write src/slug.py", self_check=False),
        llm=ScriptedBackend([CODE_REPLY]),
        engine=db,
        store=store,
    )
    with Session(db) as session, session.begin():
        session.add(
            AgentMessage(
                workflow_id=team["workflow"],
                agent_name="Ada (person)",
                agent_role="human",
                message_type="human",
                content="Please also strip punctuation.",
            )
        )
    reviewer_llm = ScriptedBackend()
    draft = run_agent_turn(
        TurnRequest(
            wf,
            "review",
            "first",
            str(team["reviewer"]),
            "Review the code",
            kind="review",
            subject="code",
            review_artifact_ids=[],
        ),
        llm=reviewer_llm,
        engine=db,
        store=store,
    )
    prompt = reviewer_llm.requests[0].messages[-1].content
    assert "Developer Bot (developer), proposal: Here is the module." in prompt
    assert "A person on the team, human: Please also strip punctuation." in prompt
    assert "`src/slug.py`" in prompt and "def slugify(text):" in prompt
    assert draft.verdict == "approve"


def test_a_review_gives_a_structured_verdict_recorded_on_its_message(
    db: Engine, store: ArtifactStore, team: dict
) -> None:
    wf = str(team["workflow"])
    produced = run_agent_turn(
        TurnRequest(wf, "implementation", "draft", str(team["developer"]), "Write src/slug.py", self_check=False),
        llm=ScriptedBackend([CODE_REPLY]),
        engine=db,
        store=store,
    )
    verdict = {
        "verdict": "approve",
        "summary": "Works for ASCII input.",
        "findings": [{"severity": "blocker", "issue": "Crashes on None", "suggestion": "Reject None early"}],
    }
    result = run_agent_turn(
        TurnRequest(
            wf,
            "review",
            "first",
            str(team["reviewer"]),
            "Review the code",
            kind="review",
            subject="code",
            review_artifact_ids=[produced.artifacts[0]["artifact_id"]],
            parent_message_id=produced.message_id,
        ),
        llm=ScriptedBackend([json.dumps(verdict)]),
        engine=db,
        store=store,
    )
    # a blocker is never approved (the review graph's stated rule)
    assert result.verdict == "request_changes" and result.findings == 1
    with Session(db) as session:
        message = session.get(AgentMessage, uuid.UUID(result.message_id))
    assert message is not None and message.message_type == "review"
    assert message.parent_message_id == uuid.UUID(produced.message_id)
    assert message.content.startswith("Changes requested: Works for ASCII input.")
    assert "- [blocker] Crashes on None Fix: Reject None early" in message.content
    assert message.attachments == [{"kind": "verdict", **verdict, "verdict": "request_changes"}]


def test_a_decision_is_a_thread_of_proposal_votes_and_outcome(db: Engine, store: ArtifactStore, team: dict) -> None:
    def vote(choice: str, reason: str) -> str:
        return json.dumps({"variant_id": choice, "reason": reason})

    llm = ScriptedBackend(
        [
            vote("B", "Less code."),
            vote("A", "Keeps information."),
            vote("B", "Predictable output."),
            "Dropping non-ASCII keeps slugs predictable.",
        ]
    )
    voters = [str(team["architect"]), str(team["developer"]), str(team["reviewer"])]
    request = DecisionRequest(
        workflow_id=str(team["workflow"]),
        step="design",
        key="non-ascii",
        problem="How to treat non-ASCII letters?",
        agent_ids=voters,
        variants=[{"title": "Strip accents"}, {"title": "Drop non-ASCII", "description": "Remove"}],
    )
    outcome = hold_decision(request, llm=llm, engine=db, store=store)
    assert (outcome.chosen_variant_id, outcome.chosen_title, outcome.tally) == ("B", "Drop non-ASCII", {"A": 1, "B": 2})

    with Session(db) as session:
        decision = session.get(Decision, uuid.UUID(outcome.decision_id))
        assert decision is not None
        assert decision.problem == "How to treat non-ASCII letters?"
        assert decision.variants == [
            {"id": "A", "title": "Strip accents", "description": ""},
            {"id": "B", "title": "Drop non-ASCII", "description": "Remove"},
        ]
        assert [(v["agent_name"], v["variant_id"], v["reason"]) for v in decision.votes or []] == [
            ("Architect Bot", "B", "Less code."),
            ("Developer Bot", "A", "Keeps information."),
            ("Reviewer Bot", "B", "Predictable output."),
        ]
        assert decision.chosen_variant_id == "B" and decision.responsible_agents == voters
        assert decision.justification and decision.justification.startswith(
            "Dropping non-ASCII keeps slugs predictable."
        )
        assert "Votes: A 1, B 2." in decision.justification
        thread = session.scalars(select(AgentMessage).order_by(AgentMessage.created_at)).all()
    root = thread[0]
    assert decision.discussion_thread_id == root.message_id
    assert root.message_type == "proposal" and root.requires_response and "B: Drop non-ASCII - Remove" in root.content
    assert [m.message_type for m in thread[1:]] == ["answer", "answer", "answer", "decision"]
    assert all(m.parent_message_id == root.message_id for m in thread[1:])
    assert thread[1].content == "I vote B: Less code." and thread[1].completion_tokens
    assert [e.event_type for e in events(db)].count("new_decision") == 1

    before = counts(db)
    again = hold_decision(request, llm=ScriptedBackend(), engine=db, store=store)
    assert again.reused and again.decision_id == outcome.decision_id and counts(db) == before


def test_a_tie_goes_to_the_leads_choice(db: Engine, store: ArtifactStore, team: dict) -> None:
    llm = ScriptedBackend(['{"variant_id": "B", "reason": "x"}', '{"variant_id": "A", "reason": "y"}', "Because."])
    outcome = hold_decision(
        DecisionRequest(
            str(team["workflow"]),
            "design",
            "tie",
            "Pick one",
            [str(team["reviewer"]), str(team["developer"])],
            variants=[{"title": "One"}, {"title": "Two"}],
        ),
        llm=llm,
        engine=db,
        store=store,
    )
    assert outcome.chosen_variant_id == "B"  # the reviewer leads this decision and voted B
    with Session(db) as session:
        decision = session.get(Decision, uuid.UUID(outcome.decision_id))
    assert decision is not None and "Tie broken: a tie goes to the lead's choice" in (decision.justification or "")


def test_a_turn_for_an_unknown_agent_fails_clearly_and_writes_nothing(
    db: Engine, store: ArtifactStore, team: dict
) -> None:
    request = TurnRequest(str(team["workflow"]), "s", "t", str(uuid.uuid4()), "Do it")
    with pytest.raises(TurnConfigurationError, match=r"agent .* does not exist"):
        run_agent_turn(request, llm=ScriptedBackend(), engine=db, store=store)
    assert counts(db) == {"agent_messages": 0, "artifacts": 0, "decisions": 0, "workflow_events": 0}


def test_a_failed_model_call_marks_the_agent_and_records_no_message(
    db: Engine, store: ArtifactStore, team: dict
) -> None:
    from agents.llm import LLMError

    def fail(_: CompletionRequest) -> str:
        raise LLMError("the model server at http://x is unreachable")

    with pytest.raises(LLMError):
        run_agent_turn(
            TurnRequest(str(team["workflow"]), "s", "t", str(team["developer"]), "Do it"),
            llm=ScriptedBackend([fail]),
            engine=db,
            store=store,
        )
    with Session(db) as session:
        agent = session.get(Agent, team["developer"])
    assert agent is not None and agent.status == "error" and "unreachable" in (agent.current_task or "")
    assert counts(db)["agent_messages"] == 0


def test_a_real_model_turn_and_decision_are_recorded_with_their_usage(
    db: Engine, store: ArtifactStore, team: dict, real_llm: LlamaCppBackend
) -> None:
    wf = str(team["workflow"])
    turn = run_agent_turn(
        TurnRequest(wf, "design", "draft", str(team["architect"]), "Describe the module and its function."),
        llm=real_llm,
        engine=db,
        store=store,
    )
    outcome = hold_decision(
        DecisionRequest(
            wf,
            "design",
            "errors",
            "What should slugify do with an empty string?",
            [str(team["architect"]), str(team["developer"]), str(team["reviewer"])],
            variants=[{"title": "Return an empty string"}, {"title": "Raise ValueError"}],
        ),
        llm=real_llm,
        engine=db,
        store=store,
    )
    with Session(db) as session:
        messages = session.scalars(select(AgentMessage).order_by(AgentMessage.created_at)).all()
        decision = session.get(Decision, uuid.UUID(outcome.decision_id))
    assert messages[0].message_id == uuid.UUID(turn.message_id) and messages[0].content.strip()
    assert [m.message_type for m in messages] == ["proposal", "proposal", "answer", "answer", "answer", "decision"]
    # every message the model wrote carries its usage; the decision's opening names given variants, no model call
    assert messages[1].completion_tokens is None
    assert all(m.prompt_tokens and m.completion_tokens and m.latency_ms for m in [messages[0], *messages[2:]])
    # each voter answered: a vote counted in the decision, or (last resort) an abstention said in the thread
    abstained = sum(m.content.startswith("I abstain:") for m in messages[2:5])
    assert decision is not None and len(decision.votes or []) == outcome.votes == 3 - abstained
    assert decision.chosen_variant_id in ("A", "B")
    assert sum(outcome.tally.values()) == outcome.votes
