"""The `produce` graph: an agent writes its part of a step (a design, code, a test plan, docs).

    draft -> check -> (revise ->) finalize

The agent drafts from the requirement, the thread and earlier files; checks its own draft against the task
(a structured self-review); revises once if the check finds gaps; and the code blocks of the final answer become
files with sensible paths.

No turn fails on the shape of an answer (each last resort is recorded as a `Fallback`): a self-check that cannot be
read is skipped (the draft stands), and an agent that answers with nothing twice is recorded as having given no
answer (`NO_ANSWER`), so the run goes on with what the other agents wrote.
"""

import operator
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from agents.config import AgentConfig
from agents.context import TurnContext
from agents.guard import CodeBlock, extract_code_blocks
from agents.llm import CompletionRequest, LLMClient, TokenCallback, Usage, sub_seed
from agents.prompts import check_messages, produce_messages, revise_messages
from agents.structured import Fallback, ModelContext, text

NO_ANSWER = "(no answer: {name} answered with empty text twice)"


class SelfCheck(BaseModel):
    meets_task: bool
    missing: list[text(150)] = Field(default_factory=list, max_length=5)  # type: ignore[valid-type]


class ProduceState(TypedDict, total=False):
    agent: AgentConfig
    context: TurnContext
    seed: int | None
    draft: str
    check: SelfCheck | None
    final: str
    files: list[CodeBlock]
    finish_reason: str
    usage: Annotated[Usage, operator.add]
    fallbacks: Annotated[list[Fallback], operator.add]


@dataclass
class ProduceResult:
    text: str
    files: list[CodeBlock]
    usage: Usage
    revised: bool
    missing: list[str] = field(default_factory=list)
    finish_reason: str = "stop"
    fallbacks: list[Fallback] = field(default_factory=list)


def check_draft(
    llm: LLMClient, agent: AgentConfig, context: TurnContext, draft: str, *, seed: int | None = None
) -> tuple[SelfCheck | None, Usage, Fallback | None]:
    """The agent's check of its own draft; None (and the fallback taken) when the check cannot be read."""
    asked = ModelContext(llm).ask(
        check_messages(agent, context, draft), SelfCheck, temperature=0.0, seed=seed, model_name=agent.model
    )
    if asked.answer is None:
        return (
            None,
            asked.usage,
            Fallback("self_check", "skipped", f"the self-check could not be read ({asked.problem})"),
        )
    return asked.answer, asked.usage, None


def produce(
    llm: LLMClient,
    agent: AgentConfig,
    context: TurnContext,
    *,
    self_check: bool = True,
    seed: int | None = None,
    on_token: TokenCallback | None = None,
) -> ProduceResult:
    state = make_produce_graph(self_check=self_check).invoke(
        {"agent": agent, "context": context, "seed": seed, "usage": Usage(), "fallbacks": []},
        context=ModelContext(llm, on_token),
    )
    check = state.get("check")
    return ProduceResult(
        text=state["final"],
        files=state["files"],
        usage=state["usage"],
        revised="final" in state and state["final"] != state["draft"],
        missing=list(check.missing) if check and not check.meets_task else [],
        finish_reason=state.get("finish_reason", "stop"),
        fallbacks=state["fallbacks"],
    )


# The graph's nodes, in the order they run; `make_produce_graph` at the end puts them together.


def _write(state: ProduceState, model: ModelContext, messages: list, part: str) -> tuple[str | None, Usage, str]:
    """The agent's answer (None: empty); an empty one gets one more try, a little warmer."""
    agent, usage = state["agent"], Usage()
    for attempt in range(2):
        completion = model.complete(
            CompletionRequest(
                messages,
                temperature=agent.temperature + 0.2 * attempt,
                max_tokens=agent.max_tokens,
                seed=sub_seed(state.get("seed"), part, attempt),
                model=agent.model,
            )
        )
        usage = usage + completion.usage
        if completion.text.strip():
            return completion.text.strip(), usage, completion.finish_reason
    return None, usage, "empty"


def draft(state: ProduceState, runtime: Runtime[ModelContext]) -> ProduceState:
    agent = state["agent"]
    answer, usage, finish = _write(state, runtime.context, produce_messages(agent, state["context"]), "draft")
    if answer is None:
        fallback = Fallback("answer", "empty", f"{agent.name} ({agent.role.value}) answered with empty text twice")
        draft = NO_ANSWER.format(name=agent.name)
        return {"draft": draft, "usage": usage, "finish_reason": finish, "fallbacks": [fallback]}
    return {"draft": answer, "usage": usage, "finish_reason": finish}


def check(state: ProduceState, runtime: Runtime[ModelContext]) -> ProduceState:
    if state.get("finish_reason") == "empty":
        return {"check": None}
    result, usage, fallback = check_draft(
        runtime.context.llm,
        state["agent"],
        state["context"],
        state["draft"],
        seed=sub_seed(state.get("seed"), "check"),
    )
    return {"check": result, "usage": usage, "fallbacks": [fallback] if fallback else []}


def needs_revision(state: ProduceState) -> str:
    result = state.get("check")
    return "revise" if result is not None and not result.meets_task and result.missing else "finalize"


def revise(state: ProduceState, runtime: Runtime[ModelContext]) -> ProduceState:
    agent, check = state["agent"], state["check"]
    assert check is not None
    messages = revise_messages(agent, state["context"], state["draft"], check.missing)
    answer, usage, finish = _write(state, runtime.context, messages, "final")
    if answer is None:
        fallback = Fallback("answer", "empty", f"{agent.name}'s revision was empty twice; the draft stands")
        return {"usage": usage, "fallbacks": [fallback]}
    return {"final": answer, "usage": usage, "finish_reason": finish}


def finalize(state: ProduceState) -> ProduceState:
    final = state.get("final") or state["draft"]
    return {"final": final, "files": extract_code_blocks(final, default_stem=state["context"].step)}


def make_produce_graph(*, self_check: bool = True) -> Any:
    graph = StateGraph(ProduceState, context_schema=ModelContext)
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
