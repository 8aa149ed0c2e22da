"""Prompt building: pure functions from an agent and its context to chat messages, within a size budget.

Small models lose the thread in long prompts and the context window is finite, so each part has a budget: the most
recent messages and a person's messages first, long texts cut in the middle with a visible marker.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from agents.config import AgentConfig
from agents.context import TurnContext
from agents.llm import ChatMessage

MESSAGE_CHARS = 800
THREAD_CHARS = 6000
ARTIFACT_CHARS = 4000
REQUIREMENT_CHARS = 4000


def clip(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    return f"{text[:head]}\n[... {len(text) - limit} characters left out ...]\n{text[-(limit - head) :]}"


def _thread_section(ctx: TurnContext) -> str:
    lines: list[str] = []
    used = 0
    for message in reversed(ctx.thread):  # newest first until the budget is spent
        who = "A person on the team" if message.role == "human" else f"{message.author} ({message.role})"
        line = f"- {who}, {message.message_type}: {clip(message.content, MESSAGE_CHARS)}"
        if used + len(line) > THREAD_CHARS and message.role != "human":
            continue
        lines.append(line)
        used += len(line)
    return "\n".join(reversed(lines))


def _artifact_section(ctx: TurnContext) -> str:
    parts: list[str] = []
    budget = ARTIFACT_CHARS
    for artifact in reversed(ctx.artifacts):
        if budget <= 200:
            break
        body = clip(artifact.content, budget)
        parts.append(f"`{artifact.path}`\n```\n{body}\n```")
        budget -= len(body)
    return "\n\n".join(reversed(parts))


def context_block(ctx: TurnContext) -> str:
    sections = [f"Requirement:\n{clip(ctx.requirement, REQUIREMENT_CHARS)}"]
    if ctx.thread:
        sections.append(f"The team's discussion so far:\n{_thread_section(ctx)}")
    if ctx.artifacts:
        sections.append(f"Files written so far:\n{_artifact_section(ctx)}")
    return "\n\n".join(sections)


def as_agent(agent: AgentConfig, request: str) -> list[ChatMessage]:
    """The agent's system prompt, then the request."""
    return [ChatMessage("system", agent.system_prompt), ChatMessage("user", request)]


def produce_messages(agent: AgentConfig, ctx: TurnContext) -> list[ChatMessage]:
    return as_agent(agent, f"{context_block(ctx)}\n\nYour task ({ctx.step}): {ctx.task}")


def check_messages(agent: AgentConfig, ctx: TurnContext, draft: str) -> list[ChatMessage]:
    return [
        ChatMessage("system", "You check whether an answer does what its task asks. Reply in JSON."),
        ChatMessage(
            "user",
            f"Requirement:\n{clip(ctx.requirement, REQUIREMENT_CHARS)}\n\nTask: {ctx.task}\n\n"
            f"Answer by the {agent.role.value}:\n{clip(draft, 6000)}\n\n"
            "Does the answer fully do the task? List what is missing or wrong (at most 5 short items).",
        ),
    ]


def revise_messages(agent: AgentConfig, ctx: TurnContext, draft: str, missing: Sequence[str]) -> list[ChatMessage]:
    gaps = "\n".join(f"- {item}" for item in missing)
    return [
        *produce_messages(agent, ctx),
        ChatMessage("assistant", clip(draft, 6000)),
        ChatMessage("user", f"Your answer misses:\n{gaps}\n\nWrite the complete answer again with these fixed."),
    ]


def review_messages(agent: AgentConfig, ctx: TurnContext, subject: str, work: str) -> list[ChatMessage]:
    return as_agent(
        agent,
        f"{context_block(ctx)}\n\nReview this {subject}:\n{clip(work, 6000)}\n\n"
        "Give your verdict (approve or request_changes), a one-sentence summary and your findings.",
    )


def verdict_only_messages(agent: AgentConfig, ctx: TurnContext, subject: str, work: str) -> list[ChatMessage]:
    """A verdict's last form, when the full one could not be read: approve or request_changes, and one sentence."""
    return as_agent(
        agent,
        f"Requirement:\n{clip(ctx.requirement, REQUIREMENT_CHARS)}\n\nReview this {subject}:\n{clip(work, 4000)}\n\n"
        "Answer with your verdict (approve or request_changes) and one sentence that says why.",
    )


def propose_messages(agent: AgentConfig, problem: str, description: str, ctx: TurnContext) -> list[ChatMessage]:
    return as_agent(
        agent,
        f"{context_block(ctx)}\n\nThe team must decide: {problem}\n{description}\n\n"
        "Propose 2 or 3 options that differ in substance (different approaches, not rewordings of one), each with "
        "a short title and a description of one or two sentences.",
    )


def alternative_messages(
    agent: AgentConfig, problem: str, description: str, ctx: TurnContext, titles: Sequence[str]
) -> list[ChatMessage]:
    """A focused follow-up when a proposal had fewer than two distinct options: one more, different from those."""
    known = "\n".join(f"- {t}" for t in titles)
    ask = (
        f"One option so far:\n{known}\n\nPropose one other option: a different approach to the same question, not a "
        "rewording of the one above."
        if titles
        else "Propose one option that answers it."
    )
    return as_agent(
        agent,
        f"Requirement:\n{clip(ctx.requirement, REQUIREMENT_CHARS)}\n\nThe team must decide: {problem}\n{description}"
        f"\n\n{ask} Give it a short title and a description of one or two sentences.",
    )


def vote_messages(
    agent: AgentConfig, problem: str, description: str, options: str, ctx: TurnContext
) -> list[ChatMessage]:
    return as_agent(
        agent,
        f"{context_block(ctx)}\n\nThe team must decide: {problem}\n{description}\n\nOptions:\n{options}\n\n"
        "Vote for exactly one option by its id and give your reason in one or two sentences.",
    )


def choice_messages(agent: AgentConfig, problem: str, options: str) -> list[ChatMessage]:
    """A vote's last form, when the full vote could not be read: the option's id alone."""
    return as_agent(
        agent, f"The team must decide: {problem}\n\nOptions:\n{options}\n\nAnswer with the id of your choice."
    )


def justify_messages(agent: AgentConfig, problem: str, chosen: str, votes: str) -> list[ChatMessage]:
    return as_agent(
        agent,
        f"The team decided: {problem}\nChosen option: {chosen}\nVotes:\n{votes}\n\n"
        "Write the justification of this decision in two or three sentences, from the voters' reasons.",
    )


# --- code that is run: the module, its tests, repairs (agents/write_code.py), rulings (agents/ruling.py) -----------

FAILURE_CHARS = 1200
FAILURES_SHOWN = 6


@dataclass(frozen=True)
class FailingTest:
    name: str  # pytest node id
    source: str  # the test function's code
    message: str  # the error pytest reported


def first_line(text: str) -> str:
    """The first line that says something (pytest's error message starts there)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def failures_block(failures: Sequence[FailingTest]) -> str:
    """The failing tests with their code and error; tests failing with the same error are shown once (a NameError
    in the code fails every test alike, and one copy says it best)."""
    groups: dict[str, list[FailingTest]] = {}
    for failure in failures:
        groups.setdefault(first_line(failure.message), []).append(failure)
    parts = []
    for same in list(groups.values())[:FAILURES_SHOWN]:
        failure = same[0]
        source = f"```python\n{clip(failure.source, 1500)}\n```\n" if failure.source else ""
        also = f" (and {len(same) - 1} more tests failing with the same error)" if len(same) > 1 else ""
        parts.append(f"### {failure.name}{also}\n{source}Error:\n```\n{clip(failure.message, FAILURE_CHARS)}\n```")
    if len(groups) > FAILURES_SHOWN:
        parts.append(f"({sum(len(g) for g in list(groups.values())[FAILURES_SHOWN:])} more failing tests not shown)")
    return "\n\n".join(parts)


def _where(paths: Sequence[str]) -> str:
    if paths:
        return f"Put it in `{paths[0]}`, the file the requirement names" + (
            f" (and the other files it names: {', '.join(paths[1:])})" if paths[1:] else ""
        )
    return "Choose a short module file name after what it provides (e.g. `slugify.py`)"


MODULE_RULES = (
    "Write the complete module: every function whole, no placeholders or TODOs, only the standard library unless "
    "the requirement says otherwise, and nothing that runs at import time (no example calls, prints, input() or "
    "`if __name__ == '__main__'` block). Put each file in its own ```python code block, with its file name on the "
    "line just before the block."
)


def module_messages(agent: AgentConfig, ctx: TurnContext, paths: Sequence[str]) -> list[ChatMessage]:
    return as_agent(
        agent,
        f"{context_block(ctx)}\n\nYour task ({ctx.step}): write the Python code that implements the requirement"
        f"{', as the team decided' if ctx.thread else ''}. {_where(paths)}. {MODULE_RULES}",
    )


def repair_messages(
    agent: AgentConfig,
    ctx: TurnContext,
    modules: dict[str, str],
    passed: int,
    total: int,
    failures: Sequence[FailingTest],
    problem: str | None,
) -> list[ChatMessage]:
    """A repair is a rewrite from the requirement, told what failed, without the failing code: shown its code, a
    small model copies it back unchanged (Qwen2.5-Coder-0.5B did in 12 of 12 repairs at temperatures 0.2 to 0.8,
    measured on the quality benchmark's tasks); told only what failed, it writes a different module."""
    if problem:
        found = f"The last version of this code could not be tested: {problem}"
    else:
        found = (
            f"The last version of this code was run against tests written from the requirement: {passed} of {total} "
            f"pass. These fail:\n\n{failures_block(failures)}"
        )
    return as_agent(
        agent,
        f"Requirement:\n{clip(ctx.requirement, REQUIREMENT_CHARS)}\n\n{found}\n\nWrite the module again, from the "
        "requirement, so that these tests pass as well as the others. Where a test contradicts the requirement, "
        f"follow the requirement. {_where(list(modules))}. {MODULE_RULES}",
    )


def tests_messages(agent: AgentConfig, ctx: TurnContext, api: str, path: str) -> list[ChatMessage]:
    return as_agent(
        agent,
        f"{context_block(ctx)}\n\nThe code to test provides (you do not see its bodies):\n```python\n{api}\n```\n\n"
        f"Your task ({ctx.step}): {ctx.task} Take every expected value from the requirement: each example it "
        "gives, each rule it states and each edge case it names (empty input, errors it says to raise). Import what "
        "you test from the module above. Write 4 to 8 short test functions (def test_...), each checking one "
        "behaviour in one to three asserts; no fixtures from plugins. "
        f"Put the file in one ```python code block, with the file name `{path}` on the line just before it.",
    )


def ruling_messages(agent: AgentConfig, requirement: str, failures: Sequence[FailingTest]) -> list[ChatMessage]:
    return as_agent(
        agent,
        f"Requirement:\n{clip(requirement, REQUIREMENT_CHARS)}\n\nThese tests were written from the requirement and "
        f"fail against the code:\n\n{failures_block(failures)}\n\nA test that expects what the requirement states "
        "must stay, and the code must change. A test that expects something the requirement does not say, or the "
        "opposite of what it says, is wrong. List only the tests that contradict the requirement, each with the "
        "reason in one sentence; list none when in doubt.",
    )
