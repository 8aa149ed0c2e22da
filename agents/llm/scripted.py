"""Deterministic replies, for tests of the logic around the model (DESIGN.md allows this one stand-in).

Replies are taken in order from the given script; when it runs out (or there is none) a reply is made up from the
request: for a JSON schema the smallest object that satisfies it, for free text a short answer that names the
request and, when the prompt asks for fenced code, carries one code block. Same request, same reply.
"""

import json
import re
import threading
import time
from collections.abc import Callable, Generator, Sequence
from typing import Any

from agents.llm.base import CompletionRequest, StreamingBackend, StreamStats

Reply = str | Callable[[CompletionRequest], str]
_PIECES = re.compile(r"\s*\S+|\s+")


class ScriptedBackend(StreamingBackend):
    name = "scripted"

    def __init__(self, replies: Sequence[Reply] = (), delay: float = 0.0) -> None:
        self._replies = list(replies)
        self._lock = threading.Lock()
        self.delay = delay
        self.requests: list[CompletionRequest] = []

    def _next_reply(self, request: CompletionRequest) -> str:
        with self._lock:
            self.requests.append(request)
            reply = self._replies.pop(0) if self._replies else default_reply
        return reply(request) if callable(reply) else reply

    def _stream(self, request: CompletionRequest, stats: StreamStats) -> Generator[str, None, None]:
        text = self._next_reply(request)
        stats.prompt_tokens = sum(len(m.content) for m in request.messages) // 4 + 1
        pieces = _PIECES.findall(text)
        if len(pieces) > request.max_tokens:
            pieces, stats.finish_reason = pieces[: request.max_tokens], "length"
        for piece in pieces:
            if self.delay:
                time.sleep(self.delay)
            yield piece
        stats.completion_tokens = len(pieces)


def default_reply(request: CompletionRequest) -> str:
    if request.json_schema is not None:
        return json.dumps(example_for_schema(request.json_schema, request.json_schema))
    last = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
    topic = " ".join(last.split())[:120]
    text = f"Scripted answer. I have read the request: {topic}"
    if any("code block" in m.content or "```" in m.content for m in request.messages):
        text += '\n\n`scripted/solution.py`\n```python\ndef solution():\n    return "scripted"\n```\n'
    return text


def example_for_schema(schema: dict[str, Any], root: dict[str, Any], n: int = 0) -> Any:
    """The smallest value that satisfies a JSON schema (the subset pydantic emits); the n-th item of a list differs
    from the others in its strings ("scripted", "scripted 2", ...), as distinct options must."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return example_for_schema(root.get("$defs", {})[name], root, n)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return example_for_schema(schema[key][0], root, n)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object":
        props = schema.get("properties", {})
        return {name: example_for_schema(props[name], root, n) for name in schema.get("required", list(props))}
    if kind == "array":
        return [example_for_schema(schema.get("items", {}), root, i) for i in range(schema.get("minItems", 1))]
    if kind == "string":
        text = "scripted" if n == 0 else f"scripted {n + 1}"
        return text.ljust(schema.get("minLength", 0), ".")[: schema.get("maxLength", 100)]
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return schema.get("minimum", 1.0)
    if kind == "boolean":
        return True
    return None
