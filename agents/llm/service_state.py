"""What a model service is doing: reachable or not, its slots, how many are busy, how many requests wait.

Any OpenAI-compatible server answers `GET /v1/models`; llama.cpp's server also reports its slots (`GET /props`) and
its counters (`GET /metrics`, Prometheus text: requests processing and deferred, prompt tokens evaluated and taken
from the prompt cache, tokens generated). Other servers report what they can; the rest stays None.
"""

import time
from dataclasses import dataclass, field
from typing import Literal

import httpx

from agents.llm.openai_compat import api_url

# llama-server's counters (`llamacpp:<name>`) read from /metrics.
COUNTERS = (
    "requests_processing",
    "requests_deferred",
    "prompt_tokens_total",
    "prompt_tokens_cached_total",
    "tokens_predicted_total",
)


@dataclass
class ServiceState:
    url: str
    status: Literal["up", "down", "degraded"]
    detail: str
    latency_ms: float | None = None
    slots: int | None = None
    counters: dict[str, float] = field(default_factory=dict)

    @property
    def busy(self) -> int | None:
        value = self.counters.get("requests_processing")
        return None if value is None else int(value)

    @property
    def queued(self) -> int | None:
        value = self.counters.get("requests_deferred")
        return None if value is None else int(value)


def server_root(base_url: str) -> str:
    """The server's own root (`http://host:port`) from its OpenAI base URL (`.../v1`)."""
    base = base_url.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def parse_metrics(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name.startswith("llamacpp:") and name[len("llamacpp:") :] in COUNTERS:
            try:
                values[name[len("llamacpp:") :]] = float(value)
            except ValueError:
                continue
    return values


def read_state(base_url: str, api_key: str | None = None, timeout: float = 2) -> ServiceState:
    """Ask the service at `base_url` (never raises: an unreachable one is `down`, with the reason)."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    root = server_root(base_url)
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=timeout, headers=headers) as client:
            models = client.get(api_url(base_url, "models"))
            latency = round((time.perf_counter() - started) * 1000, 1)
            if models.status_code != 200:
                detail = f"answered {models.status_code} to GET /v1/models"
                return ServiceState(base_url, "degraded", detail, latency)
            state = ServiceState(base_url, "up", "serving", latency)
            props = client.get(f"{root}/props")
            if props.status_code == 200:
                state.slots = props.json().get("total_slots")
            metrics = client.get(f"{root}/metrics")
            if metrics.status_code == 200:
                state.counters = parse_metrics(metrics.text)
    except (httpx.HTTPError, ValueError) as exc:
        return ServiceState(base_url, "down", f"unreachable: {type(exc).__name__}")
    return state
