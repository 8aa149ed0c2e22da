"""The event log: ids in commit order under concurrent writers, and NOTIFY only for committed events."""

import threading
import time

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from db.events import CHANNEL, EventType, append_event
from db.session import transaction


def listen(engine: Engine) -> psycopg.Connection:
    url = make_url(engine.url).set(drivername="postgresql")
    conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
    conn.execute(f"LISTEN {CHANNEL}")
    return conn


def test_a_later_writer_waits_so_ids_follow_commit_order(db: Engine) -> None:
    first_appended, release_first = threading.Event(), threading.Event()
    ids: dict[str, int] = {}
    committed: list[str] = []

    def first() -> None:
        with transaction(db) as session:
            ids["first"] = append_event(session, None, EventType.STEP_STARTED, {"n": 1})
            first_appended.set()
            release_first.wait(10)
        committed.append("first")

    def second() -> None:
        first_appended.wait(10)
        with transaction(db) as session:
            ids["second"] = append_event(session, None, EventType.STEP_STARTED, {"n": 2})
        committed.append("second")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_appended.wait(10)
    time.sleep(0.5)
    assert "second" not in ids  # blocked on the event lock while the first transaction is open
    release_first.set()
    for t in threads:
        t.join(10)
    assert committed == ["first", "second"] and ids["first"] < ids["second"]


def test_notify_announces_committed_events_only(db: Engine) -> None:
    listener = listen(db)
    try:
        try:
            with transaction(db) as session:
                append_event(session, None, EventType.ERROR_OCCURRED, {"x": 1})
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        with transaction(db) as session:
            event_id = append_event(session, None, EventType.NEW_MESSAGE, {"x": 2})
        notes = list(listener.notifies(timeout=2, stop_after=1))
        assert [n.payload for n in notes] == [str(event_id)]
    finally:
        listener.close()
