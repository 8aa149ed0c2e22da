"""Structured answers from a small model: schema-constrained decoding, validation, then bounded repair.

`ask_structured` asks for a JSON object matching a pydantic model. Backends that can (llama.cpp) constrain
decoding to the schema, so the syntax is right by construction; what the grammar cannot express (or a backend
that ignores the schema) is caught by validation. A bad answer is first repaired locally (fences, trailing
commas, truncation), then sent back to the model with the error, `max_repairs` times, before a clear
`LLMOutputError`.
"""

import json
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import AfterValidator, BaseModel, StringConstraints, ValidationError

from agents.guard import parse_json_object
from agents.llm import ChatMessage, Completion, CompletionRequest, LLMClient, LLMOutputError, TokenCallback, Usage

T = TypeVar("T", bound=BaseModel)


# String fields of model answers: `Annotated[str, NONEMPTY, cut_to(300)]`. Stripped, and cut to length after decoding:
# deliberately not `maxLength` in the schema, because llama.cpp turns `maxLength: n` into a grammar of n nested
# optional repetitions, which makes sampling crawl (minutes per answer); cutting afterwards costs nothing.
NONEMPTY = StringConstraints(strip_whitespace=True, min_length=1)
STRIPPED = StringConstraints(strip_whitespace=True)


def cut_to(limit: int) -> AfterValidator:
    return AfterValidator(lambda s: s[:limit])


def schema_for(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def validate_answer(text: str, model: type[T]) -> T:
    """The answer as `model`; ValueError with a short, model-readable reason when it is not one."""
    obj = parse_json_object(text)
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors()[:5])
        raise ValueError(problems) from exc


def repair(
    llm: LLMClient, bad_answer: str, error: str, model: type[BaseModel], *, max_tokens: int = 512,
    seed: int | None = None,
) -> Completion:  # fmt: skip
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
    return llm.complete(
        CompletionRequest(messages, temperature=0.0, max_tokens=max_tokens, json_schema=schema, seed=seed)
    )


def ask_structured(
    llm: LLMClient,
    messages: Sequence[ChatMessage],
    model: type[T],
    *,
    temperature: float = 0.2,
    max_tokens: int = 512,
    max_repairs: int = 2,
    seed: int | None = None,
    on_token: TokenCallback | None = None,
    model_name: str | None = None,
) -> tuple[T, Usage]:
    request = CompletionRequest(
        messages, temperature=temperature, max_tokens=max_tokens, json_schema=schema_for(model), seed=seed,
        model=model_name,
    )  # fmt: skip
    completion = llm.complete(request, on_token)
    usage = completion.usage
    answer = completion.text
    try:
        return validate_answer(answer, model), usage
    except ValueError as exc:
        error = str(exc)
    for _ in range(max_repairs):
        completion = repair(llm, answer, error, model, max_tokens=max_tokens, seed=seed)
        usage = usage + completion.usage
        try:
            return validate_answer(completion.text, model), usage
        except ValueError as exc:
            answer, error = completion.text, str(exc)
    raise LLMOutputError(
        f"the model gave no valid {model.__name__} after {1 + max_repairs} attempts; last problem: {error}"
    )
