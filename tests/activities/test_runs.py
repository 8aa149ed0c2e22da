"""A run's bookkeeping activities on a real database: what a signal sent by hand cannot break."""

import uuid

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from activities.runs import record_human_message
from db.models import AgentMessage, Project, Workflow
from db.session import transaction
from workflows.types import HumanMessage, HumanMessageRequest


def test_a_hand_sent_message_with_a_bad_id_or_parent_is_stored_once_without_failing(db: Engine):
    with transaction(db) as session:
        project = Project(name="P", type="library", status="active", created_by="test")
        session.add(project)
        session.flush()
        workflow = Workflow(
            project_id=project.id, name="W", workflow_type="bug_fix", status="running", priority="low",
            requirement="Fix it.", created_by="test",
        )  # fmt: skip
        session.add(workflow)
        session.flush()
        run = str(workflow.workflow_id)

    # as `temporal workflow signal --input '{"content": ..., "message_id": "note-1", "parent_message_id": ...}'`
    for parent in ("not-a-uuid", str(uuid.uuid4())):
        message = HumanMessage("Mind the locale.", author="ana", message_id="note-1", parent_message_id=parent)
        first = record_human_message(db, HumanMessageRequest(run, message))
        assert record_human_message(db, HumanMessageRequest(run, message)) == first  # a re-delivered signal

    with Session(db) as session:
        stored = session.scalars(select(AgentMessage)).all()
    assert [(m.content, m.agent_name, m.message_type, m.parent_message_id) for m in stored] == [
        ("Mind the locale.", "ana", "human", None)
    ]
    assert str(stored[0].message_id) == first
