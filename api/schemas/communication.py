"""The agents' conversation in a run: messages and decisions (the seed's columns)."""

import uuid
from datetime import datetime
from typing import Any

from .common import OutputModel


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
    created_at: datetime | None
