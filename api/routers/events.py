"""Server-Sent Events: the event log of one run, or of all runs, live and resumable with `Last-Event-ID`."""

import uuid
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse

from api.errors import COMMON_ERRORS, NOT_FOUND
from api.schemas.events import StreamEventResponse
from api.sse import EventHub, follow, has_ended_before
from db.models import Workflow

router = APIRouter(tags=["events"], responses=COMMON_ERRORS)

# Clients that stop reading for this long are dropped; they reconnect with their last id and lose nothing.
SEND_TIMEOUT_SECONDS = 60

LastEventIdHeader = Annotated[
    int | None,
    Header(alias="Last-Event-ID", ge=0, description="Resume after this event id (sent by EventSource itself)."),
]
LastEventIdQuery = Annotated[
    int | None, Query(ge=0, description="Resume after this event id; the `Last-Event-ID` header wins.")
]

STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`text/event-stream`: frames `id:` (the event id), `event:` (its type) and `data:` (this "
        "JSON), plus a comment line every 15 s.",
        # A reference, not the model's own JSON schema: that one carries `$defs` no OpenAPI tool can resolve.
        "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/StreamEventResponse"}}},
        "model": StreamEventResponse,
    },
}


def _hub(request: Request) -> EventHub:
    hub: EventHub = request.app.state.events
    return hub


async def _stream(request: Request, workflow_id: uuid.UUID | None, after: int | None) -> EventSourceResponse:
    hub, settings = _hub(request), request.app.state.settings
    await hub.start()
    shutdown = anyio.Event()  # set by sse-starlette when the server stops: the stream then ends cleanly
    return EventSourceResponse(
        follow(hub, request.app.state.engine, workflow_id, after, shutdown),
        ping=settings.sse_keepalive_seconds,
        send_timeout=SEND_TIMEOUT_SECONDS,
        headers={"X-Accel-Buffering": "no"},
        shutdown_event=shutdown,
        shutdown_grace_period=2,
    )


def _already_ended(engine: Engine, workflow_id: uuid.UUID, after: int | None) -> bool:
    """404 for an unknown run; True when the client has seen the final status of a finished run already."""
    with Session(engine) as session:
        if session.get(Workflow, workflow_id) is None:
            raise HTTPException(status_code=404, detail=f"Workflow {workflow_id} not found")
    return after is not None and has_ended_before(engine, workflow_id, after)


@router.get(
    "/workflows/{workflow_id}/events",
    response_class=EventSourceResponse,
    responses={
        **STREAM,
        204: {"description": "The run has finished and the client has its final event: stop reconnecting."},
        **NOT_FOUND,
    },
)
async def stream_workflow_events(
    request: Request,
    workflow_id: uuid.UUID,
    last_event_id: LastEventIdQuery = None,
    last_event_id_header: LastEventIdHeader = None,
) -> Response:
    """One run's events: those after `Last-Event-ID` first (all of them without it), then live ones, each once and
    in order. The stream ends after the run's final status event; asked again from there, it answers 204."""
    after = last_event_id_header if last_event_id_header is not None else last_event_id
    engine = request.app.state.engine
    if await anyio.to_thread.run_sync(_already_ended, engine, workflow_id, after):
        return Response(status_code=204)
    return await _stream(request, workflow_id, after)


@router.get("/events", response_class=EventSourceResponse, responses=STREAM)
async def stream_events(
    request: Request, last_event_id: LastEventIdQuery = None, last_event_id_header: LastEventIdHeader = None
) -> Response:
    """Every run's events (and agents' status changes outside a run): those after `Last-Event-ID` first, then live
    ones. Without an id it starts at the present."""
    after = last_event_id_header if last_event_id_header is not None else last_event_id
    return await _stream(request, None, after)
