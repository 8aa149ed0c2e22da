"""The in-process backend: one `llama_cpp.Llama` per process, loaded once, one generation at a time.

A `Llama` object is not thread-safe, so every generation holds the lock; callers on other threads wait their turn
(the worker sizes its LLM task queue to one slot per loaded model, DESIGN.md).
"""

import logging
import os
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

from agents.llm.base import CompletionRequest, LLMError, StreamingBackend, StreamStats

log = logging.getLogger(__name__)


class LlamaCppBackend(StreamingBackend):
    name = "llama_cpp"

    def __init__(self, model_path: Path, n_ctx: int = 8192, n_threads: int = 0) -> None:
        self.model_path = Path(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        """Load the model (once); later calls return the same object."""
        with self._lock:
            return self._load_locked()

    def _load_locked(self) -> Any:
        if self._model is None:
            if not self.model_path.is_file():
                raise LLMError(f"model file not found: {self.model_path} (set LLM_MODEL_PATH to a GGUF file)")
            from llama_cpp import Llama  # imported here: loading the native library takes a moment

            log.info("loading model %s (n_ctx=%d, threads=%d)", self.model_path.name, self.n_ctx, self.n_threads)
            try:
                # the same threads for the prompt as for generation (llama-cpp-python would take every core for
                # the prompt whatever n_threads says)
                self._model = Llama(
                    model_path=str(self.model_path),
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    verbose=False,
                )
            except ValueError as exc:  # llama.cpp reports an unreadable model as ValueError
                raise LLMError(f"cannot load model {self.model_path}: {exc}") from exc
        return self._model

    def _stream(self, request: CompletionRequest, stats: StreamStats) -> Generator[str, None, None]:
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        kwargs: dict[str, Any] = {
            "messages": messages,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "stream": True,
        }
        if request.seed is not None:
            kwargs["seed"] = request.seed
        if request.json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": request.json_schema}
        with self._lock:
            model = self._load_locked()
            pieces = 0
            ended_on_stop = False
            try:
                for chunk in model.create_chat_completion(**kwargs):
                    choice = chunk["choices"][0]
                    if choice.get("finish_reason"):
                        ended_on_stop = choice["finish_reason"] == "stop"
                        stats.finish_reason = "stop" if ended_on_stop else "length"
                    content = choice.get("delta", {}).get("content")
                    if content:
                        pieces += 1
                        yield content
            except ValueError as exc:  # e.g. "Requested tokens (9000) exceed context window of 8192"
                raise LLMError(f"the prompt does not fit the model: {exc}") from exc
            finally:
                # Each streamed piece is one token. The context now holds the prompt and the completion, except
                # the last sampled token when generation was cut (by max_tokens or by us): it is never evaluated.
                stats.completion_tokens = pieces
                unevaluated = 0 if ended_on_stop or pieces == 0 else 1
                stats.prompt_tokens = max(model.n_tokens - pieces + unevaluated, 0)
