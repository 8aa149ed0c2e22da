"""Prompt building: pure functions from an agent and its context to chat messages, within a size budget.

Small models lose the thread in long prompts and the context window is finite, so each part has a budget: the most
recent messages and a person's messages first, long texts cut in the middle with a visible marker.
"""

from collections.abc import Sequence

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


def propose_messages(agent: AgentConfig, problem: str, description: str, ctx: TurnContext) -> list[ChatMessage]:
    return as_agent(
        agent,
        f"{context_block(ctx)}\n\nThe team must decide: {problem}\n{description}\n\n"
        "Propose 2 or 3 distinct options, each with a short title and a one-paragraph description.",
    )


def vote_messages(
    agent: AgentConfig, problem: str, description: str, options: str, ctx: TurnContext
) -> list[ChatMessage]:
    return as_agent(
        agent,
        f"{context_block(ctx)}\n\nThe team must decide: {problem}\n{description}\n\nOptions:\n{options}\n\n"
        "Vote for exactly one option by its id and give your reason in one or two sentences.",
    )


def justify_messages(agent: AgentConfig, problem: str, chosen: str, votes: str) -> list[ChatMessage]:
    return as_agent(
        agent,
        f"The team decided: {problem}\nChosen option: {chosen}\nVotes:\n{votes}\n\n"
        "Write the justification of this decision in two or three sentences, from the voters' reasons.",
    )
