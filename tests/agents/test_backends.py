"""The other backends: OpenAI-compatible servers (llama.cpp's own, the stack's model service) routed by model, the
scripted one, and backend selection."""

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.decide import vote_model
from agents.llm import ChatMessage, CompletionRequest, LLMError, LLMOutputError, get_llm, make_llm
from agents.llm.llama_cpp import LlamaCppBackend
from agents.llm.openai_compat import OpenAICompatBackend
from agents.llm.router import ModelRouter
from agents.llm.scripted import ScriptedBackend
from agents.structured import ask_structured
from config import CHAT_MODEL, CODE_MODEL, Settings
from tests.llama import TEST_MODEL, LlamaServer, start_llama_server
from tests.support import free_port

API_KEY = "test-key-not-a-secret"


@pytest.fixture(scope="module")
def openai_server(model_path: Path) -> Iterator[str]:
    """llama.cpp's own server (the binary the stack runs) on the test model, two slots, requiring an API key."""
    server = start_llama_server(model_path, slots=2, api_key=API_KEY)
    yield server.url
    server.stop()


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
    assert isinstance(make_llm(Settings(llm_base_url="http://127.0.0.1:1/v1")), ModelRouter)
    served = make_llm(Settings(llm_backend="server"))
    assert isinstance(served, ModelRouter) and set(served.services) == {CHAT_MODEL, CODE_MODEL}
    local = Settings(llm_model_path=model_path)
    assert isinstance(make_llm(local), LlamaCppBackend)
    assert get_llm(local) is get_llm(local)  # one client (one loaded model) per process
    with pytest.raises(LLMError, match="not a file"):
        make_llm(Settings(llm_model_path=tmp_path / "missing.gguf"))


def test_the_server_answers_several_requests_at_once(openai_server: str) -> None:
    """Two slots: a second request starts generating before the first one ends (continuous batching), where one
    model in the process would make it wait for the whole first answer."""
    backend = OpenAICompatBackend(openai_server, api_key=API_KEY)
    first_token: dict[int, float] = {}
    finished: dict[int, float] = {}

    def ask(n: int) -> None:
        def seen(_piece: str) -> None:
            first_token.setdefault(n, time.monotonic())

        request = CompletionRequest([ChatMessage("user", f"Count from {n} to 200.")], max_tokens=120, seed=n)
        backend.complete(request, seen)
        finished[n] = time.monotonic()

    threads = [threading.Thread(target=ask, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(finished) == 2
    assert max(first_token.values()) < min(finished.values()), "both answers were being generated at the same time"


def test_requests_go_to_the_server_of_their_model(openai_server: str) -> None:
    elsewhere = f"http://127.0.0.1:{free_port()}/v1"
    router = ModelRouter({TEST_MODEL: openai_server, "other-model": elsewhere}, default=openai_server, api_key=API_KEY)
    ask = [ChatMessage("user", "Say hi.")]
    assert router.complete(CompletionRequest(ask, max_tokens=5, model=TEST_MODEL)).text
    with pytest.raises(LLMError, match="unreachable") as error:
        router.complete(CompletionRequest(ask, max_tokens=5, model="other-model"))
    assert elsewhere in str(error.value) and API_KEY not in str(error.value)
    # a name no service has goes to the default server
    assert router.complete(CompletionRequest(ask, max_tokens=5, model="gpt-4")).text
    with pytest.raises(LLMError, match="no model service runs 'gpt-4'"):
        ModelRouter({TEST_MODEL: openai_server}, default=None).complete(CompletionRequest(ask, model="gpt-4"))


def test_a_server_killed_mid_answer_is_an_error_to_retry(model_path: Path) -> None:
    """The model activity fails with LLMError, which Temporal retries (tests/workflows/test_model_server.py)."""
    server = start_llama_server(model_path, slots=1)
    backend = OpenAICompatBackend(server.url)
    request = CompletionRequest([ChatMessage("user", "Count from 1 to 500.")], max_tokens=400, seed=1)
    try:
        with pytest.raises(LLMError, match=r"unreachable|answered"):
            backend.complete(request, lambda _piece: server.process.kill())
        server.process.wait(timeout=10)
    finally:
        server.stop()


def test_a_call_waits_for_its_server_to_start(model_path: Path) -> None:
    """A server that is restarting (refusing connections, then loading its model) is waited for, not failed."""
    port = free_port()
    backend = OpenAICompatBackend(f"http://127.0.0.1:{port}/v1", wait_for_server=60)
    started: list[LlamaServer] = []
    later = threading.Timer(2.0, lambda: started.append(start_llama_server(model_path, slots=1, port=port)))
    later.start()
    try:
        completion = backend.complete(CompletionRequest([ChatMessage("user", "Say hi.")], max_tokens=5, seed=1))
        assert completion.usage.completion_tokens > 0
    finally:
        later.join()
        for server in started:
            server.stop()
