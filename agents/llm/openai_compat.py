"""A backend for any OpenAI-compatible chat server (llama.cpp's `llama-server`, vLLM, ...), streamed over SSE."""

import json
from collections.abc import Generator
from typing import Any

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential

from agents.llm.base import CompletionRequest, LLMError, StreamingBackend, StreamStats


class ServerNotReady(LLMError):
    """The server refused the connection or is still loading its model (503): nothing was generated yet, so the
    request may simply be sent again once it is up (a restart by supervisor takes seconds)."""


def api_url(base_url: str, path: str) -> str:
    """`<base>/v1/<path>`, whether LLM_BASE_URL ends in /v1 or not."""
    base = base_url.rstrip("/")
    return f"{base}/{path}" if base.endswith("/v1") else f"{base}/v1/{path}"


class OpenAICompatBackend(StreamingBackend):
    name = "openai"

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        model: str = "default",
        timeout: float = 600,
        wait_for_server: float = 0,
    ) -> None:
        self.url = api_url(base_url, "chat/completions")
        self.model = model
        self.wait_for_server = wait_for_server
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout, connect=10))
        # OpenAI's `json_schema` response format first; llama.cpp-style servers that refuse it get
        # `{"type": "json_object", "schema": ...}` instead, remembered for the rest of the process.
        self._schema_format = "json_schema"

    def _response_format(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self._schema_format == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}
        return {"type": "json_object", "schema": schema}

    def _format_refused(self, request: CompletionRequest, response: httpx.Response) -> bool:
        """True (and switch formats) when the server refused OpenAI's schema format itself."""
        if request.json_schema is None or self._schema_format != "json_schema" or response.status_code == 401:
            return False
        if "response_format" not in response.text and "json_schema" not in response.text:
            return False
        self._schema_format = "json_object"
        return True

    def _open(self, body: dict[str, Any]) -> httpx.Response:
        """The streamed response, once the server takes the request: a refused connection or a 503 (model loading)
        is asked again for up to `wait_for_server` seconds (tenacity: exponential backoff, 0.5 s to 5 s)."""

        @retry(
            retry=retry_if_exception_type(ServerNotReady),
            stop=stop_after_delay(self.wait_for_server),
            wait=wait_exponential(multiplier=0.5, max=5),
            reraise=True,
        )
        def send() -> httpx.Response:
            try:
                response = self._client.send(self._client.build_request("POST", self.url, json=body), stream=True)
            except httpx.ConnectError as exc:
                raise ServerNotReady(f"the model server at {self.url} is unreachable: ConnectError: {exc}") from exc
            if response.status_code == 503:
                response.read()
                response.close()
                raise ServerNotReady(f"the model server at {self.url} is not ready: {response.text[:200]}")
            return response

        return send()

    def _stream(self, request: CompletionRequest, stats: StreamStats) -> Generator[str, None, None]:
        body: dict[str, Any] = {
            "model": request.model or self.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.seed is not None:
            body["seed"] = request.seed
        if request.json_schema is not None:
            body["response_format"] = self._response_format(request.json_schema)
        try:
            response = self._open(body)
            try:
                if response.status_code >= 400:
                    response.read()
                    if self._format_refused(request, response):
                        yield from self._stream(request, stats)
                        return
                    raise LLMError(f"the model server answered {response.status_code}: {response.text[:300]}")
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    if usage := chunk.get("usage"):
                        stats.prompt_tokens = usage.get("prompt_tokens", 0)
                        stats.completion_tokens = usage.get("completion_tokens", 0)
                    for choice in chunk.get("choices") or []:
                        if choice.get("finish_reason"):
                            stats.finish_reason = "length" if choice["finish_reason"] == "length" else "stop"
                        content = (choice.get("delta") or {}).get("content")
                        if content:
                            yield content
            finally:
                response.close()
            if not stats.prompt_tokens:
                # Some servers (llama-cpp-python's) ignore `include_usage`: estimate ~4 characters per token.
                stats.prompt_tokens = sum(len(m.content) for m in request.messages) // 4 + 1
                stats.extra["prompt_tokens_estimated"] = True
        except httpx.HTTPError as exc:
            # The URL is fine to show; the API key is only in a header and never in the message.
            raise LLMError(f"the model server at {self.url} is unreachable: {type(exc).__name__}: {exc}") from exc
