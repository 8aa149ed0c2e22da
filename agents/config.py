"""What an agent is when it thinks: its configuration, read from its `agents` row or its role's template."""

import uuid
from dataclasses import dataclass

from agents.roles import ROLE_TEMPLATES
from db.enums import AgentRole
from db.models import Agent


@dataclass(frozen=True)
class AgentConfig:
    name: str
    role: AgentRole
    model: str
    temperature: float
    max_tokens: int
    system_prompt: str
    capabilities: tuple[str, ...] = ()
    agent_id: uuid.UUID | None = None

    @classmethod
    def from_template(cls, role: AgentRole | str, name: str | None = None) -> "AgentConfig":
        template = ROLE_TEMPLATES[AgentRole(role)]
        return cls(
            name=name or template.name,
            role=template.role,
            model=template.model,
            temperature=template.temperature,
            max_tokens=template.max_tokens,
            system_prompt=template.system_prompt,
            capabilities=tuple(template.capabilities),
        )

    @classmethod
    def from_row(cls, agent: Agent) -> "AgentConfig":
        """The row's settings; whatever the row leaves empty comes from its role's template."""
        template = ROLE_TEMPLATES[AgentRole(agent.role)]
        return cls(
            agent_id=agent.agent_id,
            name=agent.name,
            role=AgentRole(agent.role),
            model=agent.model or template.model,
            temperature=float(agent.temperature) if agent.temperature is not None else template.temperature,
            max_tokens=agent.max_tokens or template.max_tokens,
            system_prompt=agent.system_prompt or template.system_prompt,
            capabilities=tuple(agent.capabilities if agent.capabilities is not None else template.capabilities),
        )
