"""The LLM client on a real llama.cpp model (SmolLM2-135M), and the agents' graphs on it."""

import pytest
from pydantic import BaseModel

from agents.config import AgentConfig
from agents.context import TurnContext
from agents.decide import Variant, decide, vote_model
from agents.llm import ChatMessage, CompletionRequest, LLMError
from agents.llm.llama_cpp import LlamaCppBackend
from agents.produce import produce
from agents.structured import ask_structured, repair, validate_answer

CONTEXT = TurnContext(
    requirement="Write a function slugify(text) that lowercases text and joins its words with hyphens.",
    step="implementation",
    task="Write the module slug.py with the function slugify.",
)


class Cancelled(Exception):
    pass


def test_a_completion_streams_its_text_and_reports_usage(real_llm: LlamaCppBackend, model_seed: int) -> None:
    pieces: list[str] = []
    completion = real_llm.complete(
        CompletionRequest([ChatMessage("user", "Name three colours.")], temperature=0, max_tokens=40, seed=model_seed),
        on_token=pieces.append,
    )
    assert completion.text.strip()
    assert "".join(pieces) == completion.text
    assert completion.usage.prompt_tokens > 5
    assert 0 < completion.usage.completion_tokens <= 40
    assert completion.usage.latency_ms > 0


def test_max_tokens_bounds_the_answer(real_llm: LlamaCppBackend, model_seed: int) -> None:
    completion = real_llm.complete(
        CompletionRequest([ChatMessage("user", "Write a long story about a dragon.")], max_tokens=8, seed=model_seed)
    )
    assert completion.usage.completion_tokens == 8
    assert completion.finish_reason == "length"


def test_a_raising_token_callback_stops_the_generation_and_the_model_stays_usable(
    real_llm: LlamaCppBackend, model_seed: int
) -> None:
    seen: list[str] = []

    def cancel_after_three(piece: str) -> None:
        seen.append(piece)
        if len(seen) == 3:
            raise Cancelled

    request = CompletionRequest([ChatMessage("user", "Count from 1 to 100.")], max_tokens=200, seed=model_seed)
    with pytest.raises(Cancelled):
        real_llm.complete(request, on_token=cancel_after_three)
    assert len(seen) == 3
    again = real_llm.complete(CompletionRequest([ChatMessage("user", "Say hi.")], max_tokens=10, seed=model_seed))
    assert again.text.strip()


def test_a_prompt_larger_than_the_context_is_a_clear_error(real_llm: LlamaCppBackend, model_seed: int) -> None:
    huge = "word " * 6000  # ~6000 tokens, the test model's context is 4096
    with pytest.raises(LLMError, match="does not fit"):
        real_llm.complete(CompletionRequest([ChatMessage("user", huge)], max_tokens=10, seed=model_seed))


def test_a_produce_turn_writes_text_and_reports_usage(real_llm: LlamaCppBackend, model_seed: int) -> None:
    result = produce(real_llm, AgentConfig.from_template("developer"), CONTEXT, seed=model_seed)
    assert result.text.strip()
    # draft + self-check, and a revision when the check found gaps
    assert result.usage.calls >= 2
    assert result.usage.prompt_tokens > 50 and result.usage.completion_tokens > 0
    assert all(f.code.strip() and f.path for f in result.files)


class Vote(BaseModel):
    variant_id: str
    reason: str


def test_schema_constrained_output_validates(real_llm: LlamaCppBackend, model_seed: int) -> None:
    schema = vote_model(["A", "B"])
    answer, usage = ask_structured(
        real_llm,
        [ChatMessage("user", "Options: A: use a list. B: use a dict. Vote for one and say why.")],
        schema,
        seed=model_seed,
    )
    assert answer.variant_id in ("A", "B")  # type: ignore[attr-defined]
    assert answer.reason.strip()  # type: ignore[attr-defined]
    assert usage.calls == 1


def test_the_model_repairs_a_malformed_answer(real_llm: LlamaCppBackend, model_seed: int) -> None:
    schema = vote_model(["A", "B"])
    malformed = "I would go with B, because a dict gives constant-time lookups."
    with pytest.raises(ValueError):
        validate_answer(malformed, schema)
    completion = repair(real_llm, malformed, "the answer contains no JSON object", schema, seed=model_seed)
    fixed = validate_answer(completion.text, schema)
    assert fixed.variant_id in ("A", "B")  # type: ignore[attr-defined]
    assert completion.usage.completion_tokens > 0


def test_a_decision_with_three_agents_gets_one_vote_each_and_a_chosen_variant(
    real_llm: LlamaCppBackend, model_seed: int
) -> None:
    voters = [AgentConfig.from_template(role) for role in ("architect", "developer", "reviewer")]
    variants = [
        Variant("A", "Strip accents", "Turn é into e with unicodedata before slugifying."),
        Variant("B", "Drop non-ASCII", "Remove every character outside ASCII."),
        Variant("C", "Keep Unicode", "Keep letters as they are; only lowercase and hyphenate."),
    ]
    result = decide(
        real_llm, "How should slugify treat non-ASCII letters?", voters, CONTEXT, variants=variants, seed=model_seed
    )
    # every voter answered once: a vote for one of the variants with a reason, or (last resort) an abstention
    assert [v.agent.name for v in result.votes] == ["Architect", "Developer", "Reviewer"]
    assert all(v.variant_id in {"A", "B", "C", None} and v.reason for v in result.votes)
    assert sum(result.tally.values()) == len(result.cast) >= 1
    assert result.chosen_variant_id in {"A", "B", "C"}
    assert result.tally[result.chosen_variant_id] == max(result.tally.values())
    assert result.justification.strip() and f"Votes: A {result.tally['A']}" in result.justification


def test_a_decision_without_variants_has_the_lead_propose_them(real_llm: LlamaCppBackend, model_seed: int) -> None:
    voters = [AgentConfig.from_template("architect"), AgentConfig.from_template("developer")]
    result = decide(real_llm, "Which data structure should hold the slug cache?", voters, CONTEXT, seed=model_seed)
    assert 1 <= len(result.variants) <= 3
    assert [v.id for v in result.variants] == ["A", "B", "C"][: len(result.variants)]
    assert all(v.title for v in result.variants)
    assert len({v.title.lower() for v in result.variants}) == len(result.variants), "no option repeats another"
    assert result.chosen_variant_id in {v.id for v in result.variants}
    if result.uncontested:  # the lead gave one distinct option even when asked for another: said, not voted on
        assert len(result.variants) == 1 and result.votes == [] and result.justification.startswith("Uncontested:")
    else:
        assert len(result.variants) >= 2 and len(result.votes) == 2


def test_concurrent_callers_share_one_model_safely(real_llm: LlamaCppBackend, model_seed: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    prompts = ["Name a colour.", "Name an animal.", "Name a city.", "Name a fruit."]
    request = lambda p: CompletionRequest([ChatMessage("user", p)], temperature=0, max_tokens=16, seed=model_seed)  # noqa: E731
    alone = [real_llm.complete(request(p)).text for p in prompts]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda p: real_llm.complete(request(p)).text, prompts))
    assert together == alone  # generations are serialized on the one model: same answers as one at a time
