"""Agents: field names are the seed's columns; role templates fill what a new agent leaves out."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AliasChoices, Field, StringConstraints

from db.enums import AgentRole, AgentStatus

from .common import InputModel, JsonObject, Name, Omittable, OutputModel, PartialUpdate, Tag, Text, storable_text

ModelName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(storable_text)
]
Temperature = Annotated[
    float,
    Field(ge=0, le=2, description="Sampling temperature, 0 to 2; stored with two decimals."),
    AfterValidator(lambda t: round(t, 2)),  # what the NUMERIC(3,2) column keeps, so responses match the row
]
MaxTokens = Annotated[int, Field(ge=1, le=32768, description="Most tokens the agent may generate in one turn.")]
Capabilities = Annotated[list[Tag], Field(max_length=50)]


class AgentFields(InputModel):
    description: Text | None = None
    temperature: Temperature | None = None
    max_tokens: MaxTokens | None = None
    system_prompt: Text | None = None
    capabilities: Capabilities | None = None
    project_id: uuid.UUID | None = None
    metadata: JsonObject | None = None


class AgentCreate(AgentFields):
    """A new agent; model, temperature, max_tokens, system_prompt, capabilities and description default to
    the role's template (`GET /api/agents/templates`)."""

    name: Name
    role: AgentRole
    status: AgentStatus = AgentStatus.IDLE
    model: ModelName | None = None


class AgentUpdate(AgentFields, PartialUpdate):
    """Partial update: only the fields sent are changed; `null` clears an optional field."""

    NOT_NULL = ("name", "role", "status", "model")

    name: Name | Omittable = None
    role: AgentRole | Omittable = None
    status: AgentStatus | Omittable = None
    model: ModelName | Omittable = None


class AgentAssignment(InputModel):
    project_id: uuid.UUID | None = Field(description="The project to assign the agent to; null unassigns it.")


class AgentResponse(OutputModel):
    agent_id: uuid.UUID
    name: str
    role: str
    status: str
    description: str | None
    model: str
    temperature: float | None
    max_tokens: int | None
    system_prompt: str | None
    capabilities: list[str] | None
    project_id: uuid.UUID | None
    current_task: str | None
    created_at: datetime | None
    updated_at: datetime | None
    last_active: datetime | None
    metadata: dict[str, Any] | None = Field(validation_alias=AliasChoices("meta", "metadata"))


class AgentTemplate(OutputModel):
    role: AgentRole
    name: str
    description: str
    model: str
    temperature: float
    max_tokens: int
    system_prompt: str
    capabilities: list[str]
