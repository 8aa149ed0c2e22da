"""Workflows as stored (the seed's columns); starting and steering runs comes with the Temporal worker."""

import uuid
from datetime import datetime
from typing import Any

from .common import OutputModel


class WorkflowResponse(OutputModel):
    workflow_id: uuid.UUID
    project_id: uuid.UUID | None
    name: str
    description: str | None
    workflow_type: str
    status: str
    priority: str
    requirement: str
    assigned_agents: list[str] | None
    steps: list[Any] | None
    artifacts: list[Any] | None
    metrics: dict[str, Any] | None
    errors: list[Any] | None
    tags: list[str] | None
    created_by: str
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None
