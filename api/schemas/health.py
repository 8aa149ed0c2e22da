"""The health report: one entry per component, and an overall status."""

from typing import Literal

from pydantic import BaseModel, Field

ComponentState = Literal["up", "down", "degraded", "disabled"]


class ComponentHealth(BaseModel):
    status: ComponentState
    detail: str | None = Field(default=None, description="What is wrong, or what is running, in words.")
    latency_ms: float | None = None


class ModelService(BaseModel):
    """A model the agents use, where it runs and how busy it is."""

    model: str = Field(description="The model's name: what an agent's `model` says.")
    roles: list[str] = Field(description="The roles whose new agents take this model (LLM_ROLE_MODELS).")
    backend: Literal["server", "openai", "llama_cpp", "scripted"]
    url: str | None = Field(default=None, description="Its OpenAI-compatible server; none in-process.")
    status: ComponentState
    detail: str | None = None
    slots: int | None = Field(default=None, description="Answers the server generates at once (llama.cpp's server).")
    busy: int | None = Field(default=None, description="Requests it is answering now.")
    queued: int | None = Field(default=None, description="Requests waiting for a free slot.")


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded", "down"]
    version: str
    components: dict[str, ComponentHealth]
    models: list[ModelService] = Field(
        default_factory=list, description="Each model service (the `llm` component sums them up)."
    )
