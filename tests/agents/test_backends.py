"""The other backends: an OpenAI-compatible server (llama.cpp's own), the scripted one, and backend selection."""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agents.decide import vote_model
from agents.llm import ChatMessage, CompletionRequest, LLMError, LLMOutputError, get_llm, make_llm
from agents.llm.llama_cpp import LlamaCppBackend
from agents.llm.openai_compat import OpenAICompatBackend
from agents.llm.scripted import ScriptedBackend
from agents.structured import ask_structured
from config import Settings
from tests.support import free_port

API_KEY = "test-key-not-a-secret"


@pytest.fixture(scope="module")
def openai_server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on the test model, requiring an API key."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model_path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--api_key",
            API_KEY,
        ],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": ""},
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/models", headers={"Authorization": f"Bearer {API_KEY}"}).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "llama_cpp.server did not start"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_openai_backend_streams_text_with_usage(openai_server: str) -> None:
    backend = OpenAICompatBackend(openai_server, api_key=API_KEY)
    pieces: list[str] = []
    completion = backend.complete(
        CompletionRequest([ChatMessage("user", "Name two fruits.")], temperature=0, max_tokens=30), pieces.append
    )
    assert completion.text.strip() and "".join(pieces) == completion.text
    assert completion.usage.prompt_tokens > 0 and 0 < completion.usage.completion_tokens <= 30


def test_openai_backend_gives_schema_valid_answers(openai_server: str, model_seed: int) -> None:
    backend = OpenAICompatBackend(openai_server, api_key=API_KEY)
    answer, _ = ask_structured(
        backend, [ChatMessage("user", "A: tabs. B: spaces. Vote.")], vote_model(["A", "B"]), seed=model_seed
    )
    assert answer.variant_id in ("A", "B")  # type: ignore[attr-defined]


def test_openai_backend_reports_refusal_without_leaking_the_key(openai_server: str) -> None:
    backend = OpenAICompatBackend(openai_server, api_key="wrong-key-123")
    with pytest.raises(LLMError, match="401") as error:
        backend.complete(CompletionRequest([ChatMessage("user", "hi")], max_tokens=5))
    assert "wrong-key-123" not in str(error.value)


def test_an_unreachable_server_is_a_clear_error() -> None:
    backend = OpenAICompatBackend(f"http://127.0.0.1:{free_port()}", api_key="secret-xyz")
    with pytest.raises(LLMError, match="unreachable") as error:
        backend.complete(CompletionRequest([ChatMessage("user", "hi")], max_tokens=5))
    assert "secret-xyz" not in str(error.value)


def test_scripted_replies_are_deterministic_and_follow_the_schema() -> None:
    schema = vote_model(["B", "C"]).model_json_schema()
    request = CompletionRequest([ChatMessage("user", "Vote")], json_schema=schema)
    first, second = ScriptedBackend().complete(request), ScriptedBackend().complete(request)
    assert first.text == second.text
    assert json.loads(first.text)["variant_id"] == "B"


def test_structured_answers_are_repaired_then_refused_with_a_clear_error() -> None:
    schema = vote_model(["A", "B"])
    repaired = ScriptedBackend(["I pick B, obviously.", '{"variant_id": "B", "reason": "simpler"}'])
    answer, usage = ask_structured(repaired, [ChatMessage("user", "Vote")], schema)
    assert answer.variant_id == "B" and usage.calls == 2  # type: ignore[attr-defined]

    hopeless = ScriptedBackend(["no", '{"variant_id": "Z"}', "still no"])
    with pytest.raises(LLMOutputError, match=r"no valid Vote after 3 attempts; last problem: .*no JSON object"):
        ask_structured(hopeless, [ChatMessage("user", "Vote")], schema)


def test_a_looping_answer_is_cut_short() -> None:
    backend = ScriptedBackend(["Steps:\n" + "1. do the thing again\n" * 200])
    completion = backend.complete(CompletionRequest([ChatMessage("user", "Plan")], max_tokens=4000))
    assert completion.finish_reason == "loop"
    assert completion.text.count("do the thing again") == 1
    assert completion.usage.completion_tokens < 200


def test_settings_choose_the_backend(model_path: Path, tmp_path: Path) -> None:
    assert isinstance(make_llm(Settings(llm_backend="scripted")), ScriptedBackend)
    assert isinstance(make_llm(Settings(llm_base_url="http://127.0.0.1:1/v1")), OpenAICompatBackend)
    local = Settings(llm_model_path=model_path)
    assert isinstance(make_llm(local), LlamaCppBackend)
    assert get_llm(local) is get_llm(local)  # one client (one loaded model) per process
    with pytest.raises(LLMError, match="not a file"):
        make_llm(Settings(llm_model_path=tmp_path / "missing.gguf"))
