"""The one interface every model backend implements: a chat completion, optionally schema-constrained and streamed.

Backends produce text as a stream of pieces; `StreamingBackend.complete` turns that stream into a `Completion`,
feeding each piece to the caller's `on_token` (which may raise to abort, e.g. on a workflow cancel) and stopping a
generation that has fallen into a loop (small models repeat themselves; see `agents/guard.py`).
"""

import hashlib
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from agents.guard import RepetitionDetector

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length", "loop"]
# Called with each generated piece of text; raising from it aborts the generation (the exception propagates).
TokenCallback = Callable[[str], None]


class LLMError(RuntimeError):
    """The model could not answer: not configured, unreachable, or the prompt does not fit."""


class LLMOutputError(LLMError):
    """The model answered, but not in the required form, even after the allowed repairs and retries. Never fails a
    run: the caller takes its last resort (agents/structured.py), counting the tokens spent (`usage`)."""

    def __init__(self, message: str, usage: "Usage | None" = None) -> None:
        super().__init__(message)
        self.usage = usage or Usage()


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    calls: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.latency_ms + other.latency_ms,
            self.calls + other.calls,
        )


def derive_seed(*parts: object) -> int:
    """A sampling seed from what names a call (a run's seed or id, its step, turn, agent, attempt): the same call
    samples the same way again, and different calls differently."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def sub_seed(seed: int | None, *parts: object) -> int | None:
    """The seed of one call among several made under `seed` (None stays None: unseeded)."""
    return None if seed is None else derive_seed(seed, *parts)


@dataclass(frozen=True)
class CompletionRequest:
    messages: Sequence[ChatMessage]
    temperature: float = 0.2
    max_tokens: int = 512
    # A JSON schema the answer must follow; backends that can constrain decoding to it do so.
    json_schema: dict[str, Any] | None = None
    seed: int | None = None
    # The model name for backends that serve several (OpenAI-compatible servers); ignored in-process.
    model: str | None = None


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage
    finish_reason: FinishReason
    backend: str = ""


@dataclass
class StreamStats:
    """What a backend's stream reports about itself once it is exhausted."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: FinishReason = "stop"
    extra: dict[str, Any] = field(default_factory=dict)


class LLMClient(Protocol):
    name: str

    def complete(self, request: CompletionRequest, on_token: TokenCallback | None = None) -> Completion: ...


class StreamingBackend:
    """Base of the backends: subclasses implement `_stream`, this class does usage, timing and loop detection."""

    name = "base"

    def _stream(self, request: CompletionRequest, stats: StreamStats) -> Generator[str, None, None]:
        raise NotImplementedError

    def complete(self, request: CompletionRequest, on_token: TokenCallback | None = None) -> Completion:
        if request.max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
        started = time.perf_counter()
        stats = StreamStats()
        pieces: list[str] = []
        detector = RepetitionDetector()
        looped = False
        stream = self._stream(request, stats)
        try:
            for piece in stream:
                pieces.append(piece)
                if on_token is not None:
                    on_token(piece)
                # JSON-constrained output is bounded by its grammar; only free text is watched for loops.
                if request.json_schema is None and detector.feed(piece):
                    looped = True
                    break
        finally:
            stream.close()  # stops the generation in the backend (the generator's finally runs)
        text = "".join(pieces)
        if looped:
            text = detector.trim(text)
        usage = Usage(
            prompt_tokens=stats.prompt_tokens,
            completion_tokens=stats.completion_tokens or len(pieces),
            latency_ms=round((time.perf_counter() - started) * 1000),
            calls=1,
        )
        return Completion(
            text=text, usage=usage, finish_reason="loop" if looped else stats.finish_reason, backend=self.name
        )
