"""Assembles the FastAPI app; run it with `python -m api` (host and port from the settings)."""

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from activities.storage import ArtifactStore
from api.errors import BodySizeLimit, install_error_handlers
from api.routers import agents, communication, health, projects, workflows
from api.temporal import RunControl
from api.temporal import install_error_handlers as install_temporal_errors
from config import Settings, get_settings
from db.session import make_engine

VERSION = "0.1.0"


def _operation_id(route: APIRoute) -> str:
    # Clean operation ids (e.g. "projects-read_projects") for a generated TypeScript client.
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Conclave API",
        version=VERSION,
        description='Projects, agents and durable multi-agent workflow runs. Errors are `{"detail": ...}`.',
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings)
    app.state.store = ArtifactStore(settings)
    app.state.runs = RunControl(settings)
    install_error_handlers(app)
    install_temporal_errors(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials="*" not in settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["Last-Event-ID"],
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for router in (health.router, projects.router, agents.router, workflows.router, communication.router):
        app.include_router(router, prefix="/api")
    return app
