"""The health report: one entry per component, and an overall status."""

from typing import Literal

from pydantic import BaseModel, Field

ComponentState = Literal["up", "down", "degraded", "disabled"]


class ComponentHealth(BaseModel):
    status: ComponentState
    detail: str | None = Field(None, description="What is wrong, or what is running, in words.")
    latency_ms: float | None = None


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded", "down"]
    version: str
    components: dict[str, ComponentHealth]
