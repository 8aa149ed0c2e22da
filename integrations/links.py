"""What a run has in Jira or Confluence: its `integration_links` rows, read once and written one at a time."""

import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects.postgresql import insert

from db.models import IntegrationLink
from db.session import transaction


@dataclass(frozen=True)
class Link:
    key: str  # a Jira issue key or comment id, a Confluence page id, a reached status category
    url: str | None = None


class Links:
    """The links of one run in one system, by (kind, ref). `save` commits at once: a link is recorded before
    anything else happens, so an attempt that dies right after still leaves it for the next one."""

    def __init__(self, engine: Engine, workflow_id: uuid.UUID, system: str) -> None:
        self.engine, self.workflow_id, self.system = engine, workflow_id, system
        with transaction(engine) as session:
            rows = session.scalars(
                select(IntegrationLink).where(
                    IntegrationLink.workflow_id == workflow_id, IntegrationLink.system == system
                )
            ).all()
            self._links = {(r.kind, r.ref): Link(r.external_key, r.url) for r in rows}

    def get(self, kind: str, ref: str = "") -> Link | None:
        return self._links.get((kind, ref))

    def save(
        self,
        kind: str,
        ref: str,
        key: str,
        url: str | None = None,
        *,
        step: str | None = None,
        decision_id: uuid.UUID | None = None,
    ) -> Link:
        values = {"external_key": key, "url": url}
        statement = insert(IntegrationLink).values(
            id=uuid.uuid4(),
            workflow_id=self.workflow_id,
            system=self.system,
            kind=kind,
            ref=ref,
            step=step,
            decision_id=decision_id,
            **values,
        )
        with transaction(self.engine) as session:
            session.execute(statement.on_conflict_do_update(constraint="uq_integration_links_target", set_=values))
        link = self._links[(kind, ref)] = Link(key, url)
        return link

    def forget(self, kind: str, ref: str = "") -> None:
        """Drop a link whose target is gone (deleted in Jira or Confluence), so the next sync creates it again."""
        with transaction(self.engine) as session:
            session.execute(
                delete(IntegrationLink).where(
                    IntegrationLink.workflow_id == self.workflow_id,
                    IntegrationLink.system == self.system,
                    IntegrationLink.kind == kind,
                    IntegrationLink.ref == ref,
                )
            )
        self._links.pop((kind, ref), None)
