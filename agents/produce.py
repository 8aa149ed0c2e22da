"""The `produce` graph: an agent writes its part of a step (a design, code, a test plan, docs).

    draft -> check -> (revise ->) finalize

The agent drafts from the requirement, the thread and earlier files; checks its own draft against the task
(a structured self-review); revises once if the check finds gaps; and the code blocks of the final answer become
files with sensible paths.
"""

import operator
from dataclasses import dataclass, field
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, Field

from agents.config import AgentConfig
from agents.context import TurnContext
from agents.guard import CodeBlock, extract_code_blocks
from agents.llm import CompletionRequest, LLMClient, LLMOutputError, TokenCallback, Usage
from agents.prompts import check_messages, produce_messages, revise_messages
from agents.structured import NONEMPTY, ask_structured, cut_to


class SelfCheck(BaseModel):
    meets_task: bool
    missing: list[Annotated[str, NONEMPTY, cut_to(200)]] = Field(default_factory=list, max_length=5)


class ProduceState(TypedDict, total=False):
    agent: AgentConfig
    context: TurnContext
    draft: str
    check: SelfCheck
    final: str
    files: list[CodeBlock]
    finish_reason: str
    usage: Annotated[Usage, operator.add]


@dataclass
class ProduceResult:
    text: str
    files: list[CodeBlock]
    usage: Usage
    revised: bool
    missing: list[str] = field(default_factory=list)
    finish_reason: str = "stop"


def make_produce_graph(llm: LLMClient, *, self_check: bool = True, on_token: TokenCallback | None = None):
    def write(agent: AgentConfig, messages: list, temperature: float) -> tuple[str, Usage, str]:
        usage = Usage()
        for attempt in range(2):  # an empty answer gets one more try, a little warmer
            completion = llm.complete(
                CompletionRequest(
                    messages, temperature=temperature + 0.2 * attempt, max_tokens=agent.max_tokens, model=agent.model
                ),
                on_token,
            )
            usage = usage + completion.usage
            if completion.text.strip():
                return completion.text.strip(), usage, completion.finish_reason
        raise LLMOutputError(f"{agent.name} ({agent.role.value}) gave an empty answer twice")

    def draft(state: ProduceState) -> ProduceState:
        agent = state["agent"]
        text, usage, finish = write(agent, produce_messages(agent, state["context"]), agent.temperature)
        return {"draft": text, "usage": usage, "finish_reason": finish}

    def check(state: ProduceState) -> ProduceState:
        agent = state["agent"]
        result, usage = ask_structured(
            llm, check_messages(agent, state["context"], state["draft"]), SelfCheck,
            temperature=0.0, max_tokens=256, model_name=agent.model,
        )  # fmt: skip
        return {"check": result, "usage": usage}

    def needs_revision(state: ProduceState) -> str:
        result = state.get("check")
        return "revise" if result is not None and not result.meets_task and result.missing else "finalize"

    def revise(state: ProduceState) -> ProduceState:
        agent = state["agent"]
        messages = revise_messages(agent, state["context"], state["draft"], state["check"].missing)
        text, usage, finish = write(agent, messages, agent.temperature)
        return {"final": text, "usage": usage, "finish_reason": finish}

    def finalize(state: ProduceState) -> ProduceState:
        final = state.get("final") or state["draft"]
        return {"final": final, "files": extract_code_blocks(final, default_stem=state["context"].step)}

    graph = StateGraph(ProduceState)
    graph.add_node("draft", draft)
    graph.add_node("check", check)
    graph.add_node("revise", revise)
    graph.add_node("finalize", finalize)
    graph.add_edge(START, "draft")
    if self_check:
        graph.add_edge("draft", "check")
        graph.add_conditional_edges("check", needs_revision, ["revise", "finalize"])
    else:
        graph.add_edge("draft", "finalize")
    graph.add_edge("revise", "finalize")
    graph.add_edge("finalize", END)
    return graph.compile()


def produce(
    llm: LLMClient,
    agent: AgentConfig,
    context: TurnContext,
    *,
    self_check: bool = True,
    on_token: TokenCallback | None = None,
) -> ProduceResult:
    state = make_produce_graph(llm, self_check=self_check, on_token=on_token).invoke(
        {"agent": agent, "context": context, "usage": Usage()}
    )
    check = state.get("check")
    return ProduceResult(
        text=state["final"],
        files=state["files"],
        usage=state["usage"],
        revised="final" in state and state["final"] != state["draft"],
        missing=list(check.missing) if check and not check.meets_task else [],
        finish_reason=state.get("finish_reason", "stop"),
    )
