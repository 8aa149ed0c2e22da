"""The reviewer's ruling on failing tests: which of them contradict the requirement, each with a reason.

The answer is schema-constrained to the failing tests' names (`ruling_model`); the team then votes on ruling them
out. An answer that stays unreadable rules out nothing: in doubt, the tests stand.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, create_model

from agents.config import AgentConfig
from agents.llm import LLMClient, TokenCallback, Usage
from agents.prompts import FailingTest, ruling_messages
from agents.structured import Fallback, ModelContext, text


@dataclass(frozen=True)
class RuledOut:
    test: str
    reason: str


@dataclass
class Ruling:
    ruled_out: list[RuledOut]
    usage: Usage
    fallback: Fallback | None = None  # the answer could not be read: the tests stand


def ruling_model(names: Sequence[str]) -> type[BaseModel]:
    """The reviewer's answer: the tests to rule out, by name (only the failing tests' names are possible)."""
    item = create_model(
        "RuledOutTest",
        test=(Literal[tuple(names)], ...),  # type: ignore[valid-type,arg-type]
        reason=(text(200), ...),
    )
    return create_model("Ruling", rule_out=(list[item], Field(default_factory=list, max_length=len(names))))  # type: ignore[valid-type]


def rule_on_tests(
    llm: LLMClient,
    agent: AgentConfig,
    requirement: str,
    failures: Sequence[FailingTest],
    *,
    seed: int | None = None,
    on_token: TokenCallback | None = None,
) -> Ruling:
    """The failing tests the reviewer finds contradict the requirement (each once), with reasons. An answer that
    stays unreadable rules out nothing: in doubt, the tests stand (the last resort, recorded as a `Fallback`)."""
    names = [f.name for f in failures]
    asked = ModelContext(llm, on_token).ask(
        ruling_messages(agent, requirement, failures),
        ruling_model(names),
        temperature=0.0,
        seed=seed,
        model_name=agent.model,
    )
    if asked.answer is None:
        reason = f"the ruling could not be read ({asked.problem})"
        return Ruling([], asked.usage, Fallback("ruling", "tests_stand", reason))
    ruled: dict[str, str] = {}
    for item in asked.answer.rule_out:  # type: ignore[attr-defined]
        ruled.setdefault(item.test, item.reason)
    return Ruling([RuledOut(test, reason) for test, reason in ruled.items()], asked.usage)
