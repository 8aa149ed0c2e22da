"""The agents' conversation in a run: messages and decisions (the seed's columns)."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from .common import InputModel, Name, OutputModel, storable_text

MAX_MESSAGE_CHARS = 20_000


class MessageCreate(InputModel):
    """A person's message to the team of a run that is still going; the next agent turn sees it."""

    content: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE_CHARS),
        AfterValidator(storable_text),
    ]
    author: Name = "user"
    parent_message_id: uuid.UUID | None = Field(None, description="Reply to this message of the run (its thread).")
    message_id: uuid.UUID | None = Field(
        None, description="Your id for the message, so that a retried request does not post it twice."
    )


class MessageResponse(OutputModel):
    message_id: uuid.UUID
    workflow_id: uuid.UUID | None
    agent_id: uuid.UUID | None
    agent_name: str
    agent_role: str
    message_type: str
    content: str
    addressed_to: list[str] | None
    addressed_to_names: list[str] | None
    parent_message_id: uuid.UUID | None
    requires_response: bool | None
    urgency: str | None
    attachments: list[Any] | None
    created_at: datetime | None
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_ms: int | None


class DecisionResponse(OutputModel):
    decision_id: uuid.UUID
    workflow_id: uuid.UUID | None
    problem: str
    description: str | None
    variants: list[Any]
    chosen_variant_id: str | None
    chosen_variant: dict[str, Any] | None = None
    votes: list[Any] | None
    justification: str | None
    responsible_agents: list[str] | None
    discussion_thread_id: uuid.UUID | None
    uncontested: bool = Field(
        False,
        description="The lead gave fewer than two distinct options: nothing was put to a vote (see the justification).",
    )
    created_at: datetime | None


class ThreadMessage(MessageResponse):
    replies: list["ThreadMessage"] = Field(default_factory=list, description="Direct replies, oldest first.")


class ThreadResponse(ThreadMessage):
    """A thread: its root message with the replies nested under the messages they answer."""

    message_count: int = Field(description="Messages in the thread, the root included.")
    participants: list[str] = Field(description="Names of everyone who wrote in the thread, in order of appearance.")
    last_message_at: datetime | None


class AgentStats(BaseModel):
    agent_id: uuid.UUID | None
    agent_name: str
    agent_role: str
    messages: int
    prompt_tokens: int
    completion_tokens: int
    average_latency_ms: float | None


class CommunicationStats(BaseModel):
    total_messages: int
    by_type: dict[str, int] = Field(description="Messages per message type.")
    by_agent: list[AgentStats] = Field(description="Per author (agents and people), most messages first.")
    threads: int = Field(description="Messages that start a thread (no parent).")
    decisions: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    average_latency_ms: float | None = Field(description="Mean time of the model calls that produced messages.")
    awaiting_response: int = Field(description="Messages that ask for a response and have no reply yet.")
    first_message_at: datetime | None
    last_message_at: datetime | None
