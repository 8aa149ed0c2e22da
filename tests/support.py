"""Small helpers shared by the tests."""

import socket
import uuid

from sqlalchemy import Engine

from db.models import Project, Workflow
from db.session import transaction


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_run(engine: Engine, status: str = "running", workflow_type: str = "documentation") -> uuid.UUID:
    """A run's row in a project of its own, written straight to the database (no Temporal run behind it)."""
    with transaction(engine) as session:
        project = Project(name="Tests", type="library", status="active", created_by="test")
        session.add(project)
        session.flush()
        workflow = Workflow(
            project_id=project.id,
            name="Test run",
            workflow_type=workflow_type,
            status=status,
            priority="low",
            requirement="Write it.",
            created_by="test",
        )
        session.add(workflow)
        session.flush()
        return workflow.workflow_id
