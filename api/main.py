"""Assembles the FastAPI app; run it with `python -m api` (host and port from the settings)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from activities.storage import ArtifactStore
from api.errors import BodySizeLimit, install_error_handlers
from api.routers import agents, communication, events, health, projects, workflows
from api.sse import EventHub, HubUnavailable
from api.temporal import RunControl
from api.temporal import install_error_handlers as install_temporal_errors
from api.ui import install_ui
from config import Settings, get_settings
from db.session import libpq_url, make_engine

VERSION = "0.1.0"


def _operation_id(route: APIRoute) -> str:
    # Clean operation ids (e.g. "projects-read_projects") for a generated TypeScript client.
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The hub lives on this event loop; it connects on the first stream, so the API starts without a database.
    settings: Settings = app.state.settings
    app.state.events = EventHub(libpq_url(settings), settings.database_connect_timeout, settings.sse_subscriber_buffer)
    try:
        yield
    finally:
        await app.state.events.close()


async def _events_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=503)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Conclave API",
        version=VERSION,
        description='Projects, agents and durable multi-agent workflow runs. Errors are `{"detail": ...}`.',
        generate_unique_id_function=_operation_id,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings)
    app.state.store = ArtifactStore(settings)
    app.state.runs = RunControl(settings)
    install_error_handlers(app)
    install_temporal_errors(app)
    app.add_exception_handler(HubUnavailable, _events_unavailable)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials="*" not in settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["Last-Event-ID"],
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for module in (health, projects, agents, workflows, communication, events):
        app.include_router(module.router, prefix="/api")
    install_ui(app, settings.ui_dir)
    return app
