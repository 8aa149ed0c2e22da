"""Who works on a run: the project's agents (or those the run names), and the roles a workflow type cannot do
without. Used by the API when a run is created and by the run's first activity."""

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Agent


def team_agents(session: Session, project_id: uuid.UUID | None, assigned: Iterable[str] | None) -> list[Agent]:
    """The named agents (in the order given), else the project's agents, oldest first."""
    if assigned:
        ids = [uuid.UUID(str(a)) for a in assigned]
        found = {a.agent_id: a for a in session.scalars(select(Agent).where(Agent.agent_id.in_(ids)))}
        return [found[i] for i in ids if i in found]
    if project_id is None:
        return []
    return list(
        session.scalars(select(Agent).where(Agent.project_id == project_id).order_by(Agent.created_at, Agent.agent_id))
    )


def missing_roles(agents: Iterable[Agent], required: Iterable[str]) -> list[str]:
    have = {a.role for a in agents}
    return [r for r in required if r not in have]
