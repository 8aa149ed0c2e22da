"""The code graph: an agent writes code that will be run, and a guard checks it before anything runs it.

    write -> guard -> (write again, told what is wrong ->) guard -> done

Used for a module (the developer, `module_messages`), a repair of it (the developer, shown the failing tests,
`repair_messages`) and its tests (the tester, from the requirement and the module's signatures, `tests_messages`).
The guard is the caller's: `module_files` (agents/module_files.py) for a module, `guard_tests`
(agents/pytest_file.py) for tests: the right block, no demo code, compiling, defining something. An answer that is
still unusable after the second attempt is returned with its `error`, never as good code: the workflow decides.
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph

from agents.config import AgentConfig
from agents.llm import ChatMessage, CompletionRequest, LLMClient, TokenCallback, Usage
from agents.module_files import CodeFiles

ATTEMPTS = 2


class CodeState(TypedDict, total=False):
    messages: list[ChatMessage]
    answer: str
    code: CodeFiles
    attempts: int
    finish_reason: str
    usage: Annotated[Usage, operator.add]


@dataclass
class CodeAnswer:
    text: str  # the last answer, as the model wrote it
    files: dict[str, str]
    error: str | None  # why the files cannot be used; None: they can
    changes: list[str] = field(default_factory=list)  # what the guard changed (demo code removed, imports added)
    attempts: int = 1
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = "stop"


def make_code_graph(
    llm: LLMClient,
    agent: AgentConfig,
    guard: Callable[[str], CodeFiles],
    *,
    temperature: float,
    max_tokens: int,
    seed: int | None = None,
    on_token: TokenCallback | None = None,
) -> Any:
    def write(state: CodeState) -> CodeState:
        messages = state["messages"]
        if "code" in state:  # a second attempt: the model sees its answer and what is wrong with it
            messages = [
                *messages,
                ChatMessage("assistant", state["answer"][:6000] or "(empty)"),
                ChatMessage(
                    "user",
                    f"That answer cannot be used: {state['code'].error}. Write the complete file(s) again, fixed, "
                    "each in its own ```python code block with its file name on the line just before it.",
                ),
            ]
        completion = llm.complete(
            CompletionRequest(messages, temperature=temperature, max_tokens=max_tokens, seed=seed, model=agent.model),
            on_token,
        )
        return {
            "answer": completion.text.strip(),
            "usage": completion.usage,
            "finish_reason": completion.finish_reason,
            "attempts": state.get("attempts", 0) + 1,
        }

    def check(state: CodeState) -> CodeState:
        return {"code": guard(state["answer"])}

    def again(state: CodeState) -> str:
        return "write" if state["code"].error and state["attempts"] < ATTEMPTS else END

    graph = StateGraph(CodeState)
    graph.add_node("write", write)
    graph.add_node("guard", check)
    graph.add_edge(START, "write")
    graph.add_edge("write", "guard")
    graph.add_conditional_edges("guard", again, ["write", END])
    return graph.compile()


def write_code(
    llm: LLMClient,
    agent: AgentConfig,
    messages: list[ChatMessage],
    guard: Callable[[str], CodeFiles],
    *,
    temperature: float | None = None,
    max_tokens: int | None = None,
    seed: int | None = None,
    on_token: TokenCallback | None = None,
) -> CodeAnswer:
    """Ask for code, guard it, ask once more with the guard's finding if it is unusable."""
    graph = make_code_graph(
        llm,
        agent,
        guard,
        temperature=agent.temperature if temperature is None else temperature,
        max_tokens=min(max_tokens or agent.max_tokens, agent.max_tokens),
        seed=seed,
        on_token=on_token,
    )
    state = graph.invoke({"messages": messages, "usage": Usage()})
    code: CodeFiles = state["code"]
    return CodeAnswer(
        text=state["answer"],
        files=code.files,
        error=code.error,
        changes=code.changes,
        attempts=state["attempts"],
        usage=state["usage"],
        finish_reason=state.get("finish_reason", "stop"),
    )
