import hashlib
import time
from typing import Literal

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from activities.storage import ArtifactStore, StorageError
from agents.llm.model import DEFAULT_MODEL_FILE
from agents.llm.openai_compat import api_url
from api.schemas.health import ComponentHealth, HealthResponse
from config import Settings
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


def check_model_server(settings: Settings) -> ComponentHealth:
    base = (settings.llm_base_url or "").rstrip("/")
    url = api_url(base, "models")
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    started = time.perf_counter()
    try:
        response = httpx.get(url, timeout=2, headers={"Authorization": f"Bearer {key}"} if key else {})
    except httpx.HTTPError as exc:
        return ComponentHealth(status="down", detail=f"model server at {base} unreachable: {type(exc).__name__}")
    latency = round((time.perf_counter() - started) * 1000, 1)
    if response.status_code != 200:
        detail = f"model server at {base} answered {response.status_code} to GET /v1/models"
        return ComponentHealth(status="degraded", latency_ms=latency, detail=detail)
    return ComponentHealth(status="up", latency_ms=latency, detail=f"OpenAI-compatible server at {base}")


def check_llm(settings: Settings) -> ComponentHealth:
    """Whether the configured model can be used; the model itself runs in the worker, not here."""
    backend = settings.effective_llm_backend
    if backend == "scripted":
        return ComponentHealth(status="up", detail="scripted replies (LLM_BACKEND=scripted, for tests)")
    if backend == "openai":
        return check_model_server(settings)
    if settings.llm_model_path is not None:
        if settings.llm_model_path.is_file():
            return ComponentHealth(status="up", detail=f"llama.cpp, model {settings.llm_model_path}")
        return ComponentHealth(status="down", detail=f"LLM_MODEL_PATH={settings.llm_model_path} is not a file")
    default = settings.llm_cache_dir / DEFAULT_MODEL_FILE
    if default.is_file():
        return ComponentHealth(status="up", detail=f"llama.cpp, model {default}")
    return ComponentHealth(status="degraded", detail="default model not prepared yet: `make up` assembles it")


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
    components = {
        "database": check_database(request.app.state.engine),
        "storage": check_storage(request.app.state.store),
        "llm": check_llm(request.app.state.settings),
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
    report = HealthResponse(status=overall, version=request.app.version, components=components)
    return JSONResponse(report.model_dump(mode="json"), status_code=200 if overall != "down" else 503)
