"""A run's bookkeeping activities on a real database: what a signal sent by hand cannot break."""

import uuid

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from activities.runs import record_human_message
from db.models import AgentMessage
from tests.support import new_run
from workflows.types import HumanMessage, HumanMessageRequest


def test_a_hand_sent_message_with_a_bad_id_or_parent_is_stored_once_without_failing(db: Engine):
    run = str(new_run(db, workflow_type="bug_fix"))

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
