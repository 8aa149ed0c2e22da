"""Live streams of the event log: one LISTEN per API process, fanned out to every subscriber without gaps.

DESIGN.md, Hard parts, "SSE without gaps". The `EventHub` holds one connection that `LISTEN`s on the events channel
and a second one that reads the rows a `NOTIFY` announces (the payload is only an id). It keeps `head`, the id of
the last row it has read, and hands every row above it to the subscribers of that run (and to those of all runs).

A stream (`follow`) registers its subscriber first, then reads the backlog after the client's `Last-Event-ID` from
the table, then sends what the hub hands over with an id above the last one sent. Nothing falls in between: a row
the hub read before the subscriber registered was committed by then, so the backlog read sees it; a row it reads
later is handed over. Ids are in commit order (db/events.py), so "above the last id sent" misses nothing.

Memory stays bounded: a subscriber's queue holds at most `buffer` events. One that falls behind (a slow client)
drops its queue and reads from the table again, from its last id, page by page. The rows and their encoded frames
are shared by all subscribers.

The hub reconnects after losing its connections (a database restart) and then reads everything after `head`, so
its subscribers lose nothing; they just wait.
"""

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import psycopg
from psycopg.rows import dict_row
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from db.enums import FINISHED_WORKFLOW_STATUSES
from db.events import CHANNEL, EventType, events_after, last_event
from db.models import WorkflowEvent

log = logging.getLogger("conclave.api.events")

HUB_PAGE = 500  # rows per read of the hub (shared by every subscriber)
STREAM_PAGE = 100  # rows per read of one stream catching up (bounds what a slow client holds at once)
RECONNECT_DELAYS = (0.5, 1, 2, 5, 10)  # seconds between attempts to reach the database again


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One row of the event log as the streams send it; the frame is encoded once for every subscriber."""

    id: int
    workflow_id: uuid.UUID | None
    final: bool  # a run's status event that ends it (completed, failed, cancelled)
    frame: bytes

    @classmethod
    def of(
        cls, id: int, workflow_id: uuid.UUID | None, event_type: str, data: Any, created_at: datetime
    ) -> "StreamEvent":
        payload = {
            "event_type": event_type,
            "workflow_id": str(workflow_id) if workflow_id else None,
            "data": data,
            "timestamp": created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }
        frame = f"id: {id}\nevent: {event_type}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n"
        final = (
            event_type == EventType.WORKFLOW_STATUS_CHANGED
            and isinstance(data, dict)
            and data.get("status") in FINISHED_WORKFLOW_STATUSES
        )
        return cls(id, workflow_id, final, frame.encode())

    @classmethod
    def of_row(cls, row: WorkflowEvent) -> "StreamEvent":
        return cls.of(row.id, row.workflow_id, row.event_type, row.data, row.created_at)


class Subscriber:
    """What the hub hands to one stream: a bounded queue, or the note that it overflowed."""

    def __init__(self, workflow_id: uuid.UUID | None, buffer: int) -> None:
        self.workflow_id = workflow_id
        self.buffer = buffer
        self.queue: deque[StreamEvent] = deque()
        self.overflowed = False
        self.overflows = 0  # times it fell behind and went back to the table
        self.stopping = False  # the server shuts down: end the stream cleanly
        self._wake = asyncio.Event()

    def offer(self, event: StreamEvent) -> None:
        if self.overflowed:
            return
        if len(self.queue) >= self.buffer:
            # Fallen behind: drop everything and re-read from the table (the stream knows its last id).
            self.overflowed = True
            self.overflows += 1
            self.queue.clear()
        else:
            self.queue.append(event)
        self._wake.set()

    async def wait(self) -> None:
        await self._wake.wait()
        self._wake.clear()

    async def stop_on(self, shutdown: anyio.Event) -> None:
        await shutdown.wait()
        self.stopping = True
        self._wake.set()


class HubUnavailable(RuntimeError):
    """The hub could not reach the database to start following the event log."""


class EventHub:
    """Follows the event log for one API process (create it inside the app's event loop: in the lifespan)."""

    def __init__(self, conninfo: str, connect_timeout: int, buffer: int) -> None:
        self._conninfo = conninfo
        self._connect_timeout = connect_timeout
        self.buffer = buffer
        self.head: int | None = None  # id of the last row read (and handed over)
        self._by_run: dict[uuid.UUID, set[Subscriber]] = {}
        self._everything: set[Subscriber] = set()
        self._announced = asyncio.Event()
        self._following = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Threads that read backlogs from the table: many clients reconnecting at once cannot starve the API.
        self.reads = anyio.CapacityLimiter(8)

    def subscribers(self) -> list[Subscriber]:
        return [*self._everything, *(s for run in self._by_run.values() for s in run)]

    async def start(self) -> None:
        """Follow the log (if not yet); raises HubUnavailable when the database cannot be reached for that."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._follow(), name="conclave-event-hub")
        if self.head is None:  # never connected yet: its first `head` bounds what a backlog read must cover
            try:
                await asyncio.wait_for(self._following.wait(), self._connect_timeout + 2)
            except TimeoutError as exc:
                raise HubUnavailable("The event log cannot be followed: the database does not answer.") from exc

    def subscribe(self, workflow_id: uuid.UUID | None) -> Subscriber:
        """Register a stream of one run (or of all runs with None); only after `start`."""
        assert self.head is not None, "EventHub.start() first"
        subscriber = Subscriber(workflow_id, self.buffer)
        if workflow_id is None:
            self._everything.add(subscriber)
        else:
            self._by_run.setdefault(workflow_id, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber.workflow_id is None:
            self._everything.discard(subscriber)
        elif (run := self._by_run.get(subscriber.workflow_id)) is not None:
            run.discard(subscriber)
            if not run:
                del self._by_run[subscriber.workflow_id]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    # --- following the log --------------------------------------------------------------------------------------

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self._conninfo,
            autocommit=True,
            connect_timeout=self._connect_timeout,
            application_name="conclave-events",
            # a dead peer is noticed within a minute even while nothing is announced
            keepalives=1,
            keepalives_idle=20,
            keepalives_interval=5,
            keepalives_count=3,
        )

    async def _follow(self) -> None:
        failures = 0
        while True:
            try:
                async with await self._connect() as listening, await self._connect() as reading:
                    await listening.execute(f"LISTEN {CHANNEL}")
                    if self.head is None:
                        cursor = await reading.execute("SELECT coalesce(max(id), 0) FROM workflow_events")
                        row = await cursor.fetchone()
                        self.head = int(row[0]) if row else 0
                    if failures:
                        log.info("following the event log again after %d failed attempt(s)", failures)
                    failures = 0
                    self._following.set()
                    self._announced.set()  # read what was committed while we were away
                    async with asyncio.TaskGroup() as group:
                        group.create_task(self._listen(listening))
                        group.create_task(self._pump(reading))
            except Exception as exc:  # a lost connection (or any surprise): reconnect, re-read after `head`
                self._following.clear()
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                cause = exc.exceptions[0] if isinstance(exc, ExceptionGroup) else exc
                expected = isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError)
                log.log(
                    logging.WARNING if expected else logging.ERROR,
                    "lost the event log (%s: %s); streams wait, nothing is lost; retrying in %s s",
                    type(cause).__name__,
                    cause,
                    delay,
                    exc_info=None if expected else cause,
                )
                await asyncio.sleep(delay)

    async def _listen(self, connection: psycopg.AsyncConnection[Any]) -> None:
        async for notify in connection.notifies():
            # Only a wake-up call: the pump reads every row above `head`, however many announcements it missed.
            if self.head is None or not notify.payload.isdigit() or int(notify.payload) > self.head:
                self._announced.set()

    async def _pump(self, connection: psycopg.AsyncConnection[Any]) -> None:
        async with connection.cursor(row_factory=dict_row) as cursor:
            while True:
                await self._announced.wait()
                self._announced.clear()
                while True:
                    await cursor.execute(
                        "SELECT id, workflow_id, event_type, data, created_at FROM workflow_events "
                        "WHERE id > %s ORDER BY id LIMIT %s",
                        (self.head, HUB_PAGE),
                    )
                    rows = await cursor.fetchall()
                    for row in rows:
                        self._hand_over(StreamEvent.of(**row))
                    if rows:
                        self.head = rows[-1]["id"]
                    if len(rows) < HUB_PAGE:
                        break

    def _hand_over(self, event: StreamEvent) -> None:
        for subscriber in self._everything:
            subscriber.offer(event)
        if event.workflow_id is not None:
            for subscriber in self._by_run.get(event.workflow_id, ()):
                subscriber.offer(event)


# --- one stream ---------------------------------------------------------------------------------------------------


def _read(engine: Engine, after_id: int, workflow_id: uuid.UUID | None) -> list[StreamEvent]:
    with Session(engine) as session:
        return [StreamEvent.of_row(row) for row in events_after(session, after_id, workflow_id, STREAM_PAGE)]


def final_status_id(engine: Engine, workflow_id: uuid.UUID) -> int | None:
    """The id of the run's latest status event when that status is final (the run has ended); else None. A resumed
    run has later status events, so an earlier `cancelled` does not count."""
    with Session(engine) as session:
        latest = last_event(session, workflow_id, EventType.WORKFLOW_STATUS_CHANGED)
    return latest.id if latest is not None and StreamEvent.of_row(latest).final else None


def ended_by(engine: Engine, workflow_id: uuid.UUID, after_id: int) -> bool:
    """The run has ended and its final status is at or before `after_id`."""
    final = final_status_id(engine, workflow_id)
    return final is not None and final <= after_id


def has_ended_before(engine: Engine, workflow_id: uuid.UUID, after_id: int) -> bool:
    """The run has ended by `after_id`, and nothing of the run follows that id: the client has it all."""
    if not ended_by(engine, workflow_id, after_id):
        return False
    with Session(engine) as session:
        return not events_after(session, after_id, workflow_id, limit=1)


async def follow(
    hub: EventHub, engine: Engine, workflow_id: uuid.UUID | None, after_id: int | None, shutdown: anyio.Event
) -> AsyncIterator[bytes]:
    """The SSE frames of one run (or of all runs) after `after_id`: the backlog, then live events, each once and in
    order. Without an id, a run's stream starts at the run's beginning and the stream of all runs at the present.
    A run's stream ends once it has sent the run's final status (its latest status event, when final) and what was
    committed after it.

    Await `hub.start()` before the response starts, so that a database that is down is a 503, not a broken stream.
    When `shutdown` is set (the server stops), the stream ends cleanly; the client reconnects with its last id.
    """
    subscriber = hub.subscribe(workflow_id)  # registered first, then the backlog is read
    last = after_id if after_id is not None else 0 if workflow_id is not None else hub.head or 0
    stopper = asyncio.create_task(subscriber.stop_on(shutdown))
    try:
        # A run that has ended: once its final status is sent, send what is committed after it (a late message),
        # then end. `closing` says the final status is behind us.
        closing = workflow_id is not None and await anyio.to_thread.run_sync(
            ended_by, engine, workflow_id, last, limiter=hub.reads
        )
        while not subscriber.stopping:
            # From the table: the backlog, or what a full queue dropped. Events handed over meanwhile are in
            # the table too (the hub reads only committed rows); those that arrive later are filtered by id.
            subscriber.overflowed = False
            subscriber.queue.clear()
            while True:
                page = await anyio.to_thread.run_sync(_read, engine, last, workflow_id, limiter=hub.reads)
                async for chunk in _chunks(hub, engine, workflow_id, page, last):
                    yield chunk.frames
                    last, closing = chunk.last, closing or chunk.ended
                if len(page) < STREAM_PAGE:
                    break
            if closing:
                return
            # Then what the hub hands over, until the subscriber falls behind or the run ends.
            while not (subscriber.overflowed or subscriber.stopping or closing):
                queued = list(subscriber.queue)
                subscriber.queue.clear()
                async for chunk in _chunks(hub, engine, workflow_id, queued, last):
                    yield chunk.frames
                    last, closing = chunk.last, closing or chunk.ended
                if not (subscriber.overflowed or subscriber.queue or closing):
                    await subscriber.wait()
    except SQLAlchemyError as exc:  # the database went away mid-stream: end it; the client resumes after `last`
        log.warning("event stream ended after id %s: the database failed (%s)", last, type(exc).__name__)
    finally:
        stopper.cancel()
        hub.unsubscribe(subscriber)


@dataclass
class _Chunk:
    frames: bytes
    last: int  # id of its last event
    ended: bool  # it holds the run's final status event


CHUNK_BYTES = 64 * 1024


async def _chunks(
    hub: EventHub, engine: Engine, workflow_id: uuid.UUID | None, events: list[StreamEvent], last: int
) -> AsyncIterator[_Chunk]:
    """The events above `last`, several frames per write (fewer sends when events come in bursts); a chunk ends
    with a run's final status event, if there is one."""
    frames: list[bytes] = []
    size = 0
    for event in events:
        if event.id <= last:
            continue
        frames.append(event.frame)
        size += len(event.frame)
        last = event.id
        ended = await _ends(hub, engine, workflow_id, event)
        if ended or size >= CHUNK_BYTES:
            yield _Chunk(b"".join(frames), last, ended)
            frames, size = [], 0
    if frames:
        yield _Chunk(b"".join(frames), last, False)


async def _ends(hub: EventHub, engine: Engine, workflow_id: uuid.UUID | None, event: StreamEvent) -> bool:
    """Whether this is the run's final status (no later status event: the run was not resumed since)."""
    if workflow_id is None or not event.final:
        return False
    final = await anyio.to_thread.run_sync(final_status_id, engine, workflow_id, limiter=hub.reads)
    return final == event.id
