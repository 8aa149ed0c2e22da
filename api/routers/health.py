import time
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from api.schemas.health import ComponentHealth, HealthResponse
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


@router.get("", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
def read_health(request: Request) -> JSONResponse:
    """Each component and its state; 503 when the database, which everything needs, is not usable."""
    components = {"database": check_database(request.app.state.engine)}
    overall: Literal["ok", "degraded", "down"] = "ok"
    if components["database"].status != "up":
        overall = "down"
    elif any(c.status in ("down", "degraded") for c in components.values()):
        overall = "degraded"
    report = HealthResponse(status=overall, version=request.app.version, components=components)
    return JSONResponse(report.model_dump(mode="json"), status_code=200 if overall != "down" else 503)
