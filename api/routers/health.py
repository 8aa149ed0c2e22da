import hashlib
import time
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from activities.storage import ArtifactStore, StorageError
from agents.llm.model import DEFAULT_MODEL_FILE
from agents.llm.service_state import ServiceState, read_state
from api.schemas.health import ComponentHealth, ComponentState, HealthResponse, ModelService
from config import ROLES, Settings
from db.models import Project
from integrations import CONFLUENCE, JIRA, SYSTEMS, TITLES, check_connection, missing_settings
from migrations.revision import head_revision

router = APIRouter(prefix="/health", tags=["health"])


def check_database(engine: Engine) -> ComponentHealth:
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SET LOCAL statement_timeout = 2000"))
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:  # any failure to reach or read the database means "down" for this report
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        if "alembic_version" in reason:
            return ComponentHealth(
                status="degraded",
                detail="reachable, but not migrated: run `make up` or `alembic upgrade head`",
            )
        return ComponentHealth(status="down", detail=f"unreachable: {reason}")
    latency = round((time.perf_counter() - started) * 1000, 1)
    head = head_revision()
    if current != head:
        return ComponentHealth(
            status="degraded",
            latency_ms=latency,
            detail=f"schema at {current}, code expects {head}: run migrations",
        )
    return ComponentHealth(status="up", latency_ms=latency, detail=f"schema at {current}")


def check_storage(store: ArtifactStore) -> ComponentHealth:
    started = time.perf_counter()
    try:
        store.ping()
    except StorageError as exc:
        return ComponentHealth(status="down", detail=str(exc))
    latency = round((time.perf_counter() - started) * 1000, 1)
    return ComponentHealth(status="up", latency_ms=latency, detail=f"S3 at {store.endpoint}, bucket {store.bucket}")


def check_models(settings: Settings) -> list[ModelService]:
    """Each model the roles use or a service names, where it runs and its state; the model itself runs in the
    worker (in-process) or in its server, never here."""
    backend = settings.effective_llm_backend
    roles = {role: settings.model_for(role) for role in ROLES}
    if backend == "scripted":
        detail = "scripted replies (LLM_BACKEND=scripted, for tests)"
        return [ModelService(model="scripted", roles=list(roles), backend=backend, status="up", detail=detail)]
    if backend == "llama_cpp":
        return [check_in_process_model(settings, list(roles))]
    services, default = settings.model_services(), settings.default_model_service
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    states: dict[str, ServiceState] = {}
    report = []
    for model in dict.fromkeys([*services, *roles.values()]):
        url = services.get(model, default)
        service = ModelService(
            model=model, roles=[r for r, m in roles.items() if m == model], backend=backend, url=url, status="down"
        )
        if url is None:
            service.detail = "no service runs it: set LLM_SERVICES or LLM_BASE_URL"
        else:
            if url not in states:  # models served by one server (the default) ask it once
                states[url] = read_state(url, key)
            state = states[url]
            service.status, service.detail = state.status, state.detail
            service.slots, service.busy, service.queued = state.slots, state.busy, state.queued
            if model not in services:
                service.detail = f"{state.detail}; not in LLM_SERVICES: served by the default server"
        report.append(service)
    return report


def check_in_process_model(settings: Settings, roles: list[str]) -> ModelService:
    """The in-process model: every role's, whatever its agents' `model` says."""
    path = settings.llm_model_path or settings.llm_cache_dir / DEFAULT_MODEL_FILE
    service = ModelService(model=path.stem, roles=roles, backend="llama_cpp", status="up", slots=1)
    if path.is_file():
        service.detail = f"llama.cpp in the worker, model {path}"
    elif settings.llm_model_path is not None:
        service.status, service.detail = "down", f"LLM_MODEL_PATH={settings.llm_model_path} is not a file"
    else:
        service.status, service.detail = "degraded", "default model not prepared yet: `make up` assembles it"
    return service


def summarize_models(models: list[ModelService]) -> ComponentHealth:
    """The `llm` component: the worst of the model services."""
    states = {m.status for m in models}
    worst: ComponentState = "down" if "down" in states else "degraded" if "degraded" in states else "up"
    if len(models) == 1:
        return ComponentHealth(status=models[0].status, detail=models[0].detail)
    parts = [f"{m.model} {m.status}" + ("" if m.status == "up" else f" ({m.detail})") for m in models]
    return ComponentHealth(status=worst, detail=f"{len(models)} models: {', '.join(parts)}")


# Jira and Confluence are asked at most this often (a health probe every few seconds must not load them).
INTEGRATION_CHECK_SECONDS = 30
INTEGRATION_CHECK_TIMEOUT = 3
_integration_checks: dict[tuple[str, ...], tuple[float, ComponentHealth]] = {}


def projects_turning_on(engine: Engine) -> dict[str, int]:
    """How many projects turn each system on (none counted when the database cannot tell: its own entry says why)."""
    counts = select(
        func.count().filter(Project.jira_enabled.is_(True)), func.count().filter(Project.confluence_enabled.is_(True))
    )
    try:
        with engine.connect() as conn:
            conn.execute(text("SET LOCAL statement_timeout = 2000"))
            jira, confluence = conn.execute(counts).one()
    except SQLAlchemyError:
        return {}
    return {JIRA: jira, CONFLUENCE: confluence}


def check_integration(settings: Settings, system: str, projects: int) -> ComponentHealth:
    """Jira's or Confluence's state: disabled, not configured (worse when projects turn it on), up or down."""
    title, url = TITLES[system], getattr(settings, f"{system}_url")
    missing = missing_settings(settings, system)
    if missing and projects:
        detail = f"{projects} project(s) turn {title} on, but {', '.join(missing)} not set: their syncs fail"
        return ComponentHealth(status="degraded", detail=detail)
    if not url:
        return ComponentHealth(status="disabled", detail=f"{system.upper()}_URL is not set: runs are not mirrored")
    if missing:
        return ComponentHealth(status="degraded", detail=f"{', '.join(missing)} not set: {title} cannot be used")
    token = getattr(settings, f"{system}_api_token").get_secret_value()
    # The account is part of the key (its token only as a digest): changed credentials are checked afresh.
    key = (system, url, getattr(settings, f"{system}_username"), hashlib.sha256(token.encode()).hexdigest())
    cached = _integration_checks.get(key)
    if cached is not None and time.monotonic() - cached[0] < INTEGRATION_CHECK_SECONDS:
        return cached[1]
    started = time.perf_counter()
    problem = check_connection(settings.model_copy(update={"integration_timeout": INTEGRATION_CHECK_TIMEOUT}), system)
    latency = round((time.perf_counter() - started) * 1000, 1)
    report = (
        ComponentHealth(status="down", latency_ms=latency, detail=problem)
        if problem
        else ComponentHealth(status="up", latency_ms=latency, detail=f"{title} at {url}")
    )
    _integration_checks[key] = (time.monotonic(), report)
    return report


@router.get("", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
def read_health(request: Request) -> JSONResponse:
    """Each component and its state; 503 when the database, which everything needs, is not usable."""
    models = check_models(request.app.state.settings)
    components = {
        "database": check_database(request.app.state.engine),
        "storage": check_storage(request.app.state.store),
        "llm": summarize_models(models),
    }
    engine, settings = request.app.state.engine, request.app.state.settings
    turning_on = projects_turning_on(engine)
    components |= {s: check_integration(settings, s, turning_on.get(s, 0)) for s in SYSTEMS}
    runs = request.app.state.runs
    components |= runs.call(runs.health)
    overall: Literal["ok", "degraded", "down"] = "ok"
    if components["database"].status != "up":
        overall = "down"
    elif any(c.status in ("down", "degraded") for c in components.values()):
        overall = "degraded"
    report = HealthResponse(status=overall, version=request.app.version, components=components, models=models)
    return JSONResponse(report.model_dump(mode="json"), status_code=200 if overall != "down" else 503)
