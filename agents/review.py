"""The `review` graph: an agent judges a piece of work and returns a structured verdict.

    judge -> settle

`judge` asks for a schema-constrained verdict; `settle` applies the stated rule that a blocker finding can never be
approved, and writes the verdict as the message the team reads.
"""

import operator
from dataclasses import dataclass
from typing import Annotated, Literal, TypedDict

from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, Field

from agents.config import AgentConfig
from agents.context import TurnContext
from agents.llm import LLMClient, TokenCallback, Usage
from agents.prompts import review_messages
from agents.structured import NONEMPTY, STRIPPED, ask_structured, cut_to


class Finding(BaseModel):
    severity: Literal["blocker", "major", "minor"]
    issue: Annotated[str, NONEMPTY, cut_to(300)]
    suggestion: Annotated[str, STRIPPED, cut_to(300)] = ""


class Verdict(BaseModel):
    verdict: Literal["approve", "request_changes"]
    summary: Annotated[str, NONEMPTY, cut_to(400)]
    findings: list[Finding] = Field(default_factory=list, max_length=8)


class ReviewState(TypedDict, total=False):
    agent: AgentConfig
    context: TurnContext
    subject: str
    work: str
    verdict: Verdict
    text: str
    usage: Annotated[Usage, operator.add]


@dataclass
class ReviewResult:
    verdict: Verdict
    text: str
    usage: Usage

    @property
    def approved(self) -> bool:
        return self.verdict.verdict == "approve"


def render_verdict(verdict: Verdict) -> str:
    head = "Approved" if verdict.verdict == "approve" else "Changes requested"
    lines = [f"{head}: {verdict.summary}"]
    for finding in verdict.findings:
        fix = f" Fix: {finding.suggestion}" if finding.suggestion else ""
        lines.append(f"- [{finding.severity}] {finding.issue}{fix}")
    return "\n".join(lines)


def make_review_graph(llm: LLMClient, *, on_token: TokenCallback | None = None):
    def judge(state: ReviewState) -> ReviewState:
        agent = state["agent"]
        verdict, usage = ask_structured(
            llm, review_messages(agent, state["context"], state["subject"], state["work"]), Verdict,
            temperature=agent.temperature, max_tokens=min(agent.max_tokens, 768), on_token=on_token,
            model_name=agent.model,
        )  # fmt: skip
        return {"verdict": verdict, "usage": usage}

    def settle(state: ReviewState) -> ReviewState:
        verdict = state["verdict"]
        if verdict.verdict == "approve" and any(f.severity == "blocker" for f in verdict.findings):
            verdict = verdict.model_copy(update={"verdict": "request_changes"})
        return {"verdict": verdict, "text": render_verdict(verdict)}

    graph = StateGraph(ReviewState)
    graph.add_node("judge", judge)
    graph.add_node("settle", settle)
    graph.add_edge(START, "judge")
    graph.add_edge("judge", "settle")
    graph.add_edge("settle", END)
    return graph.compile()


def review(
    llm: LLMClient,
    agent: AgentConfig,
    context: TurnContext,
    work: str,
    *,
    subject: str = "work",
    on_token: TokenCallback | None = None,
) -> ReviewResult:
    state = make_review_graph(llm, on_token=on_token).invoke(
        {"agent": agent, "context": context, "subject": subject, "work": work, "usage": Usage()}
    )
    return ReviewResult(verdict=state["verdict"], text=state["text"], usage=state["usage"])
