"""The `review` graph: an agent judges a piece of work and returns a structured verdict.

    judge -> settle

`judge` asks for a schema-constrained verdict; `settle` applies the stated rule that a blocker finding can never be
approved, and writes the verdict as the message the team reads.

No review fails on the shape of its answer (each last resort is recorded as a `Fallback`): a verdict that cannot be
read is asked for again without findings (the verdict and a one-sentence summary); if that cannot be read either,
the review has no verdict (`verdict` None): the work is neither approved nor sent back, and the message says why.
"""

import operator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from agents.config import AgentConfig
from agents.context import TurnContext
from agents.llm import LLMClient, TokenCallback, Usage, sub_seed
from agents.prompts import review_messages, verdict_only_messages
from agents.structured import Fallback, ModelContext, text

MAX_FINDINGS = 5


class Finding(BaseModel):
    severity: Literal["blocker", "major", "minor"]
    issue: text(160)  # type: ignore[valid-type]
    suggestion: text(160, required=False) = ""  # type: ignore[valid-type]


class Verdict(BaseModel):
    verdict: Literal["approve", "request_changes"]
    summary: text(300)  # type: ignore[valid-type]
    findings: list[Finding] = Field(default_factory=list, max_length=MAX_FINDINGS)


class BareVerdict(BaseModel):
    """The last form of a verdict, when the full one could not be read."""

    verdict: Literal["approve", "request_changes"]
    summary: text(300)  # type: ignore[valid-type]


class ReviewState(TypedDict, total=False):
    agent: AgentConfig
    context: TurnContext
    subject: str
    work: str
    seed: int | None
    verdict: Verdict | None
    problem: str
    text: str
    usage: Annotated[Usage, operator.add]
    fallbacks: Annotated[list[Fallback], operator.add]


@dataclass
class ReviewResult:
    verdict: Verdict | None  # None: no readable verdict (the work is neither approved nor sent back)
    text: str
    usage: Usage
    fallbacks: list[Fallback] = field(default_factory=list)

    @property
    def approved(self) -> bool:
        return self.verdict is not None and self.verdict.verdict == "approve"


def render_verdict(verdict: Verdict) -> str:
    head = "Approved" if verdict.verdict == "approve" else "Changes requested"
    lines = [f"{head}: {verdict.summary}"]
    for finding in verdict.findings:
        fix = f" Fix: {finding.suggestion}" if finding.suggestion else ""
        lines.append(f"- [{finding.severity}] {finding.issue}{fix}")
    return "\n".join(lines)


def review(
    llm: LLMClient,
    agent: AgentConfig,
    context: TurnContext,
    work: str,
    *,
    subject: str = "work",
    seed: int | None = None,
    on_token: TokenCallback | None = None,
) -> ReviewResult:
    state = make_review_graph().invoke(
        {
            "agent": agent,
            "context": context,
            "subject": subject,
            "work": work,
            "seed": seed,
            "usage": Usage(),
            "fallbacks": [],
        },
        context=ModelContext(llm, on_token),
    )
    return ReviewResult(
        verdict=state["verdict"], text=state["text"], usage=state["usage"], fallbacks=state["fallbacks"]
    )


# The graph's nodes, in the order they run; `make_review_graph` at the end puts them together.


def judge(state: ReviewState, runtime: Runtime[ModelContext]) -> ReviewState:
    """A verdict with findings; one that cannot be read is asked for again without findings, with no repair."""
    agent, seed, model = state["agent"], state.get("seed"), runtime.context
    full = model.ask(
        review_messages(agent, state["context"], state["subject"], state["work"]),
        Verdict,
        temperature=agent.temperature,
        seed=sub_seed(seed, "review"),
        model_name=agent.model,
    )
    if full.answer is not None:
        return {"verdict": full.answer, "usage": full.usage}
    bare = model.ask(
        verdict_only_messages(agent, state["context"], state["subject"], state["work"]),
        BareVerdict,
        temperature=0.0,
        seed=sub_seed(seed, "verdict-only"),
        model_name=agent.model,
        max_repairs=0,
    )
    usage = full.usage + bare.usage
    if bare.answer is None:
        reason = (
            f"the review could not be read as a verdict ({full.problem}; asked again without findings: {bare.problem})"
        )
        return {
            "verdict": None,
            "problem": reason,
            "usage": usage,
            "fallbacks": [Fallback("verdict", "no_verdict", reason)],
        }
    fallback = Fallback("verdict", "verdict_only", f"the full verdict could not be read ({full.problem})")
    verdict = Verdict(verdict=bare.answer.verdict, summary=bare.answer.summary)
    return {"verdict": verdict, "usage": usage, "fallbacks": [fallback]}


def settle(state: ReviewState) -> ReviewState:
    """A blocker finding is never approved; the verdict becomes the message the team reads."""
    verdict = state["verdict"]
    if verdict is None:
        return {"text": f"No verdict: {state['problem']}. The work is neither approved nor sent back."}
    if verdict.verdict == "approve" and any(f.severity == "blocker" for f in verdict.findings):
        verdict = verdict.model_copy(update={"verdict": "request_changes"})
    return {"verdict": verdict, "text": render_verdict(verdict)}


def make_review_graph() -> Any:
    graph = StateGraph(ReviewState, context_schema=ModelContext)
    graph.add_node("judge", judge)
    graph.add_node("settle", settle)
    graph.add_edge(START, "judge")
    graph.add_edge("judge", "settle")
    graph.add_edge("settle", END)
    return graph.compile()
