"""Projects: field names are the seed's columns."""

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import AliasChoices, Field, StringConstraints

from db.enums import ProjectStatus, ProjectType

from .common import InputModel, JsonObject, Name, Omittable, OutputModel, PartialUpdate, ShortText, Text

JiraKey = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z][A-Z0-9_]{0,49}$")]
SpaceKey = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^~?[A-Za-z0-9_]{1,49}$")]
Url = Annotated[
    Text,
    StringConstraints(strip_whitespace=True, max_length=2048),
    Field(examples=["https://git.example.com/team/app.git"]),
]


class ProjectFields(InputModel):
    description: Text | None = None
    repository_url: Url | None = None
    repository_branch: ShortText | None = None
    jira_project_key: JiraKey | None = Field(None, description="Jira project key, e.g. CONC.")
    confluence_space_key: SpaceKey | None = Field(None, description="Confluence space key, e.g. DOCS.")
    metadata: JsonObject | None = None


class ProjectCreate(ProjectFields):
    name: Name
    type: ProjectType
    status: ProjectStatus = ProjectStatus.PLANNING
    jira_enabled: bool = False
    confluence_enabled: bool = False
    created_by: Name = "anonymous"


class ProjectUpdate(ProjectFields, PartialUpdate):
    """Partial update: only the fields sent are changed; `null` clears an optional field."""

    NOT_NULL = ("name", "type", "status", "jira_enabled", "confluence_enabled")

    name: Name | Omittable = None
    type: ProjectType | Omittable = None
    status: ProjectStatus | Omittable = None
    jira_enabled: bool | Omittable = None
    confluence_enabled: bool | Omittable = None


# Each integration's switch and the key it needs.
INTEGRATION_KEYS = {"jira_enabled": "jira_project_key", "confluence_enabled": "confluence_space_key"}


def integration_fields(project: Any) -> dict[str, Any]:
    """A saved project's integration switches and keys, by field name."""
    return {name: getattr(project, name) for pair in INTEGRATION_KEYS.items() for name in pair}


def integration_problem(fields: Mapping[str, Any]) -> tuple[str, str] | None:
    """An enabled integration needs its key; check the fields the project will have (for a partial update, merged
    with its saved ones)."""
    for enabled, key in INTEGRATION_KEYS.items():
        if fields.get(enabled) and not fields.get(key):
            return key, f"is required when {enabled} is true"
    return None


class ProjectResponse(OutputModel):
    id: uuid.UUID
    name: str
    description: str | None
    type: str
    status: str
    repository_url: str | None
    repository_branch: str | None
    jira_project_key: str | None
    jira_enabled: bool | None
    confluence_space_key: str | None
    confluence_enabled: bool | None
    created_by: str
    created_at: datetime | None
    updated_at: datetime | None
    # Read from the model's `meta` attribute (SQLAlchemy reserves `metadata`).
    metadata: dict[str, Any] | None = Field(validation_alias=AliasChoices("meta", "metadata"))


class ProjectSaved(ProjectResponse):
    """A project as created or updated, with what stands in the way of the integrations it turns on."""

    warnings: list[str] = Field(
        default_factory=list,
        description="For each integration turned on that runs could not use now: not configured, not reachable, "
        "or no such Jira project or Confluence space. The project is saved all the same.",
    )
