"""The LLM client: one interface (`LLMClient.complete`), three backends (in-process, OpenAI-compatible servers
routed by model, scripted), one client per process (`get_llm`)."""

import threading

from agents.llm.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    LLMClient,
    LLMError,
    LLMOutputError,
    TokenCallback,
    Usage,
    derive_seed,
    sub_seed,
)
from config import Settings, get_settings

__all__ = [
    "ChatMessage",
    "Completion",
    "CompletionRequest",
    "LLMClient",
    "LLMError",
    "LLMOutputError",
    "TokenCallback",
    "Usage",
    "derive_seed",
    "get_llm",
    "make_llm",
    "sub_seed",
]

_lock = threading.Lock()
_clients: dict[tuple[object, ...], LLMClient] = {}


def make_llm(settings: Settings) -> LLMClient:
    """A new client for the configured backend (the in-process model loads on first use)."""
    backend = settings.effective_llm_backend
    if backend == "scripted":
        from agents.llm.scripted import ScriptedBackend

        return ScriptedBackend(delay=settings.llm_scripted_delay)
    if backend in ("server", "openai"):
        from agents.llm.router import ModelRouter

        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return ModelRouter(
            settings.model_services(),
            settings.default_model_service,
            api_key=key,
            timeout=settings.llm_timeout,
            wait_for_server=settings.llm_wait_for_server,
            take_turns=backend == "server",
        )
    from agents.llm.llama_cpp import LlamaCppBackend
    from agents.llm.model import resolve_model_path

    return LlamaCppBackend(resolve_model_path(settings), n_ctx=settings.llm_n_ctx, n_threads=settings.llm_n_threads)


def get_llm(settings: Settings | None = None) -> LLMClient:
    """The process's client for these settings: made once, so the model is loaded once."""
    settings = settings or get_settings()
    key = (
        settings.effective_llm_backend,
        settings.llm_model_path,
        settings.llm_cache_dir,
        settings.llm_base_url,
        tuple(settings.model_services().items()),
        settings.llm_n_ctx,
        settings.llm_n_threads,
    )
    with _lock:
        if key not in _clients:
            _clients[key] = make_llm(settings)
        return _clients[key]
