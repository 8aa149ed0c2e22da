"""Structured answers from a small model: the grammar does the work, validation catches the rest, and every caller
has a last resort.

`ask_structured` asks for a JSON object matching a pydantic model. Backends that can (llama.cpp) constrain decoding
to the schema, so what the schema says holds by construction: the syntax, the enums, the number of items
(`minItems`, `maxItems`) and the length of every string (`maxLength`, from `text(n)`). With every string and list
bounded, so is the whole answer (`max_answer_tokens`), and the answer gets that many tokens: a small model that loops
inside a string stops at the string's limit, not at max_tokens, and still writes the fields after it. What a grammar
cannot say (a string of spaces, two items that say the same: llama-cpp-python's converter ignores `uniqueItems`, and
its `pattern` is no way out, since its `.` admits a quote and so breaks the JSON) is cleaned by the model's own
`mode="before"` validator (e.g. `Proposal` drops repeated variants), before validation. What is still wrong, or a
backend that ignores the schema, is repaired locally (fences, trailing commas, truncation), then sent back to the
model with the error, `max_repairs` times, before a clear `LLMOutputError`.

That error never fails a run: each caller (agents/decide.py, review.py, produce.py, ruling.py) has a last resort
that keeps the run going and records what it did as a `Fallback` (DESIGN.md, Invariants). The graphs' nodes ask
through `ModelContext.ask`, which returns the error's message in place of an answer (`Asked`), so each last resort
reads as an `if`.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, ValidationError

from agents.guard import parse_json_object
from agents.llm import ChatMessage, Completion, CompletionRequest, LLMClient, LLMOutputError, TokenCallback, Usage

T = TypeVar("T", bound=BaseModel)

NONEMPTY = StringConstraints(strip_whitespace=True, min_length=1)
STRIPPED = StringConstraints(strip_whitespace=True)
# The budget of an answer whose schema leaves something unbounded (or of a backend that ignores schemas).
UNBOUNDED_ANSWER_TOKENS = 512


def cut_to(limit: int) -> AfterValidator:
    return AfterValidator(lambda s: s[:limit])


def text(limit: int, *, required: bool = True) -> Any:
    """A string field of an answer: stripped, non-empty when `required`, at most `limit` characters. The limit is in
    the schema, so the grammar ends the string there (llama-cpp-python's converter emits a bounded repetition:
    measured at the same tokens/s as an unbounded string); a backend without grammars gets it cut instead."""
    return Annotated[
        str, NONEMPTY if required else STRIPPED, cut_to(limit), Field(json_schema_extra={"maxLength": limit})
    ]


def same_text(a: str, b: str) -> bool:
    """Whether two short texts say the same, ignoring case, punctuation and spacing."""
    return text_key(a) == text_key(b)


def text_key(value: object) -> str:
    return " ".join("".join(c if c.isalnum() else " " for c in str(value or "").lower()).split())


@dataclass(frozen=True)
class Fallback:
    """A last resort taken because a model's answer had an unusable shape: which answer, what was done instead, and
    why. Recorded with the turn (a message attachment), so the run says what happened."""

    answer: str  # proposal, vote, verdict, self_check, ruling, answer
    action: str  # e.g. asked_again, uncontested, abstained, verdict_only, no_verdict, skipped, tests_stand, empty
    reason: str

    def as_attachment(self) -> dict[str, str]:
        return {"kind": "fallback", "answer": self.answer, "action": self.action, "reason": self.reason[:500]}


def schema_for(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def max_answer_tokens(schema: dict[str, Any]) -> int | None:
    """The most tokens an answer that follows `schema` can take (None when something in it is unbounded).

    Counted in characters, with the optional space the grammar allows after each token of JSON: a generated token
    is at least one character, so the answer cannot run longer than this (a character written over several tokens,
    as a rare non-ASCII letter may be, is the exception; the local repair closes such an answer)."""

    def chars(node: dict[str, Any]) -> int | None:
        if "$ref" in node:
            return chars(schema.get("$defs", {})[node["$ref"].rsplit("/", 1)[-1]])
        if "enum" in node or "const" in node:
            return max(len(json.dumps(v)) for v in node.get("enum", [node.get("const")])) + 1
        for key in ("anyOf", "oneOf"):
            if key in node:
                options = [chars(option) for option in node[key]]
                return None if None in options else max(o for o in options if o is not None)
        kind = node.get("type")
        if kind == "string":
            return node["maxLength"] + 3 if "maxLength" in node else None  # the quotes and a space
        if kind == "array":
            item = chars(node.get("items", {}))
            return None if item is None or "maxItems" not in node else 3 + node["maxItems"] * (item + 2)
        if kind == "object":
            total = 3
            for name, prop in node.get("properties", {}).items():
                value = chars(prop)
                if value is None:
                    return None
                total += len(json.dumps(name)) + 3 + value + 2
            return total
        if kind == "boolean":
            return 6
        if kind in ("integer", "number"):
            return 24
        return None

    return chars(schema)


def validate_answer(text: str, model: type[T]) -> T:
    """The answer as `model`; ValueError with a short, model-readable reason when it is not one."""
    obj = parse_json_object(text)
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors()[:5])
        raise ValueError(problems) from exc


def repair(
    llm: LLMClient,
    bad_answer: str,
    error: str,
    model: type[BaseModel],
    *,
    max_tokens: int | None = None,
    seed: int | None = None,
) -> Completion:
    """Ask the model to turn a malformed answer into a valid one (one schema-constrained call); validate it next."""
    schema = schema_for(model)
    messages = [
        ChatMessage("system", "You correct malformed JSON. Reply with one JSON object only, no prose."),
        ChatMessage(
            "user",
            f"This answer should be a JSON object matching the schema below, but it is not valid: {error}\n\n"
            f"Schema:\n{json.dumps(schema)}\n\nAnswer to correct (keep its meaning):\n{bad_answer[:3000]}",
        ),
    ]
    budget = max_tokens or max_answer_tokens(schema) or UNBOUNDED_ANSWER_TOKENS
    return llm.complete(CompletionRequest(messages, temperature=0.0, max_tokens=budget, json_schema=schema, seed=seed))


def ask_structured(
    llm: LLMClient,
    messages: Sequence[ChatMessage],
    model: type[T],
    *,
    temperature: float = 0.2,
    max_tokens: int | None = None,
    max_repairs: int = 2,
    seed: int | None = None,
    on_token: TokenCallback | None = None,
    model_name: str | None = None,
) -> tuple[T, Usage]:
    """The model's answer as `model`, with its usage; `LLMOutputError` when no valid one came after the repairs
    (callers catch it and take their last resort). `max_tokens` defaults to what the schema allows."""
    schema = schema_for(model)
    budget = max_tokens or max_answer_tokens(schema) or UNBOUNDED_ANSWER_TOKENS
    request = CompletionRequest(
        messages, temperature=temperature, max_tokens=budget, json_schema=schema, seed=seed, model=model_name
    )
    completion = llm.complete(request, on_token)
    usage = completion.usage
    answer = completion.text
    try:
        return validate_answer(answer, model), usage
    except ValueError as exc:
        error = str(exc)
    for _ in range(max_repairs):
        completion = repair(llm, answer, error, model, max_tokens=budget, seed=seed)
        usage = usage + completion.usage
        try:
            return validate_answer(completion.text, model), usage
        except ValueError as exc:
            answer, error = completion.text, str(exc)
    raise LLMOutputError(
        f"the model gave no valid {model.__name__} after {1 + max_repairs} attempts; last problem: {error}",
        usage=usage,
    )


@dataclass(frozen=True)
class Asked(Generic[T]):
    """A structured answer, or why there is none: `answer` None when no valid one came (the caller's last resort)."""

    answer: T | None
    usage: Usage
    problem: str = ""  # the LLMOutputError's message, when there is no answer


@dataclass(frozen=True)
class ModelContext:
    """What a graph's nodes call: the model, and where its tokens go as they are written. LangGraph's runtime context
    (`StateGraph(State, context_schema=ModelContext)`, `graph.invoke(state, context=ModelContext(llm, on_token))`)."""

    llm: LLMClient
    on_token: TokenCallback | None = None

    def complete(self, request: CompletionRequest) -> Completion:
        return self.llm.complete(request, self.on_token)

    def ask(
        self,
        messages: Sequence[ChatMessage],
        model: type[T],
        *,
        temperature: float,
        seed: int | None,
        model_name: str | None,
        max_repairs: int = 2,
    ) -> Asked[T]:
        """`ask_structured`, with no valid answer as an `Asked` without one rather than an exception."""
        try:
            answer, usage = ask_structured(
                self.llm,
                messages,
                model,
                temperature=temperature,
                max_repairs=max_repairs,
                seed=seed,
                on_token=self.on_token,
                model_name=model_name,
            )
        except LLMOutputError as exc:
            return Asked(None, exc.usage, str(exc))
        return Asked(answer, usage)
