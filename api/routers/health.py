import time
from typing import Literal

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from activities.storage import ArtifactStore, StorageError
from agents.llm.model import DEFAULT_MODEL_FILE
from agents.llm.openai_compat import api_url
from api.schemas.health import ComponentHealth, HealthResponse
from config import Settings
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


@router.get("", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
def read_health(request: Request) -> JSONResponse:
    """Each component and its state; 503 when the database, which everything needs, is not usable."""
    components = {
        "database": check_database(request.app.state.engine),
        "storage": check_storage(request.app.state.store),
        "llm": check_llm(request.app.state.settings),
    }
    runs = request.app.state.runs
    components |= runs.call(runs.health)
    overall: Literal["ok", "degraded", "down"] = "ok"
    if components["database"].status != "up":
        overall = "down"
    elif any(c.status in ("down", "degraded") for c in components.values()):
        overall = "degraded"
    report = HealthResponse(status=overall, version=request.app.version, components=components)
    return JSONResponse(report.model_dump(mode="json"), status_code=200 if overall != "down" else 503)
