"""Jira through the `jira` client: an epic per run, a story per step linked to it, comments, and status moves.

Works with Jira Cloud and Server/Data Center (basic auth with an API token or password):
- a story joins its epic through `parent` on Cloud, and through the "Epic Link" field on Server/Data Center, found
  by name in the field list (its id differs between instances); an epic gets the "Epic Name" field where it exists;
- statuses move by the project's own workflow: the transitions offered for the issue are looked up and one leading
  to the wanted status category (`indeterminate` = in progress, `done`) is taken; none offered, nothing moves.

Idempotent (integrations/__init__.py): issues carry a label naming their run and part (`conclave-<run>-<ref>`) and
comments end with a line naming what they are for, so an attempt that died before recording what it created finds
it instead of creating it again.
"""

import logging
import re
import uuid
from typing import Any

from jira import JIRA, JIRAError
from requests import RequestException

from config import Settings
from integrations import JIRA as SYSTEM
from integrations import IntegrationError, require_configured
from integrations.links import Link, Links

log = logging.getLogger("conclave.integrations.jira")

EPIC, STORY = "Epic", "Story"
IN_PROGRESS, DONE = "indeterminate", "done"  # Jira's status categories (the other one is `new`)
MAX_MOVES = 3  # transitions tried on the way to a status category (e.g. To Do -> In Progress -> Done)
SUMMARY_CHARS = 254  # Jira: "Summary must be less than 255 characters."
TEXT_CHARS = 30_000  # Jira's limit on a description or comment is 32,767 characters
PLAIN_CHARS = 12_000  # of one piece of quoted text: two fit in a description with room to spare
_NOFORMAT = re.compile(r"\{(\s*noformat)", re.IGNORECASE)


def label(workflow_id: uuid.UUID, ref: str = "") -> str:
    """The label that marks an issue as this run's epic ('') or the story of step `ref`."""
    suffix = re.sub(r"[^A-Za-z0-9_-]", "-", ref)
    return f"conclave-{workflow_id}" + (f"-{suffix}" if suffix else "")


def plain(text: str, limit: int = PLAIN_CHARS) -> str:
    """Text shown as written: Jira wiki markup inside `{noformat}` is not interpreted (and the text cannot close
    the block itself). Clipped inside the block, so the block always ends."""
    return "{noformat}\n" + _NOFORMAT.sub(r"{ \1", clip(text, limit)) + "\n{noformat}"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_error(exc: Exception, url: str, what: str) -> str:
    """A message that is safe to store and show: the status and Jira's own error text, never the request (the
    client's own message includes the request headers, with the credentials)."""
    if isinstance(exc, JIRAError):
        if exc.status_code in (401, 403):
            return f"Jira at {url} refused the credentials (HTTP {exc.status_code}) to {what}"
        detail = ""
        if exc.response is not None:
            try:
                body = exc.response.json()
                messages = [*body.get("errorMessages", []), *(f"{k}: {v}" for k, v in body.get("errors", {}).items())]
                detail = "; ".join(str(m) for m in messages)
            except (ValueError, AttributeError):
                detail = ""
        return f"Jira at {url} answered HTTP {exc.status_code} to {what}" + (f": {clip(detail, 300)}" if detail else "")
    return f"Jira at {url} could not be reached to {what} ({type(exc).__name__})"


def connect(settings: Settings) -> JIRA:
    """A client for JIRA_URL; IntegrationError when it is not configured, not reachable or refuses us."""
    require_configured(settings, SYSTEM)
    assert settings.jira_url and settings.jira_username and settings.jira_api_token
    url = settings.jira_url.rstrip("/")
    try:
        return JIRA(
            server=url,
            basic_auth=(settings.jira_username, settings.jira_api_token.get_secret_value()),
            timeout=settings.integration_timeout,
            max_retries=0,  # the activity's retry policy decides
            options={"check_update": False},
        )
    except (JIRAError, RequestException) as exc:
        raise IntegrationError(describe_error(exc, url, "answer serverInfo")) from None


class JiraMirror:
    """One run's issues in one Jira project; every created key is saved in `links` before it is used."""

    def __init__(self, client: JIRA, project_key: str, links: Links) -> None:
        self.client, self.project_key, self.links = client, project_key, links
        self.url = client.server_url.rstrip("/")
        self.cloud = client.deploymentType == "Cloud"
        self._field_ids: dict[str, str] | None = None
        self.created = self.commented = self.moved = 0

    def call(self, what: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (JIRAError, RequestException) as exc:
            raise IntegrationError(describe_error(exc, self.url, what)) from None

    def browse_url(self, key: str) -> str:
        return f"{self.url}/browse/{key}"

    def field_id(self, name: str) -> str | None:
        """A custom field's id by its name ("Epic Link", "Epic Name"); None where the instance has no such field."""
        if self._field_ids is None:
            fields = self.call("list fields", self.client.fields)
            self._field_ids = {f["name"]: f["id"] for f in fields if f.get("custom")}
        return self._field_ids.get(name)

    # --- issues -----------------------------------------------------------------------------------------------

    def ensure_issue(
        self,
        ref: str,
        issue_type: str,
        summary: str,
        description: str,
        *,
        epic: str | None = None,
        step: str | None = None,
    ) -> Link:
        """The run's epic (`ref` '') or a step's story: the recorded one, else the one found by its label, else a
        new one."""
        kind = "epic" if issue_type == EPIC else "story"
        if (link := self.links.get(kind, ref)) is not None:
            return link
        mark = label(self.links.workflow_id, ref)
        jql = f'project = "{self.project_key}" AND labels = "{mark}"'
        found = self.call("search issues", self.client.search_issues, jql, maxResults=1, fields="summary")
        if found:
            key = found[0].key
            log.info("found %s %s of run %s by its label", kind, key, self.links.workflow_id)
        else:
            fields: dict[str, Any] = {
                "project": {"key": self.project_key},
                "issuetype": {"name": issue_type},
                "summary": clip(" ".join(summary.split()), SUMMARY_CHARS),
                "description": clip(description, TEXT_CHARS),
                "labels": ["conclave", mark],
            }
            if issue_type == EPIC and not self.cloud and (epic_name := self.field_id("Epic Name")):
                fields[epic_name] = fields["summary"]
            if epic is not None:
                epic_link = None if self.cloud else self.field_id("Epic Link")
                if epic_link:
                    fields[epic_link] = epic
                else:
                    fields["parent"] = {"key": epic}
            created = self.call(f"create the {kind}", self.client.create_issue, fields=fields, prefetch=False)
            key = created.key
            self.created += 1
            log.info("created %s %s for run %s", kind, key, self.links.workflow_id)
        return self.links.save(kind, ref, key, self.browse_url(key), step=step)

    # --- comments ---------------------------------------------------------------------------------------------

    def ensure_comment(self, issue_key: str, ref: str, body: str, *, decision_id: uuid.UUID | None = None) -> Link:
        """A comment on `issue_key` for `ref` (a decision or message id), posted once."""
        if (link := self.links.get("comment", ref)) is not None:
            return link
        footer = f"_Conclave: {ref}_"
        comments = self.call(f"read the comments of {issue_key}", self.client.comments, issue_key)
        existing = next((c for c in comments if str(getattr(c, "body", "")).rstrip().endswith(footer)), None)
        if existing is None:
            text = clip(body, TEXT_CHARS - len(footer) - 2) + "\n\n" + footer
            existing = self.call(f"comment on {issue_key}", self.client.add_comment, issue_key, text)
            self.commented += 1
        return self.links.save("comment", ref, str(existing.id), self.browse_url(issue_key), decision_id=decision_id)

    # --- statuses ---------------------------------------------------------------------------------------------

    def move(self, kind: str, ref: str, issue_key: str, category: str) -> None:
        """Move the issue to a status of `category` through the transitions its workflow offers (recorded once
        reached, so a later sync does not ask again)."""
        status_ref = f"{kind}:{ref}"
        reached = self.links.get("status", status_ref)
        if reached is not None and reached.key in (category, DONE):
            return
        for _ in range(MAX_MOVES):
            issue = self.call(f"read {issue_key}", self.client.issue, issue_key, fields="status")
            current = issue.raw["fields"]["status"]["statusCategory"]["key"]
            if current == category:
                self.links.save("status", status_ref, category, self.browse_url(issue_key))
                return
            offered = self.call(f"read the transitions of {issue_key}", self.client.transitions, issue_key)
            chosen = _transition_towards(offered, current, category)
            if chosen is None:
                log.info("%s: no transition from %s towards %s; left as it is", issue_key, current, category)
                return
            self.call(f"move {issue_key}", self.client.transition_issue, issue_key, chosen["id"])
            self.moved += 1


def _transition_towards(offered: list[dict[str, Any]], current: str, category: str) -> dict[str, Any] | None:
    """The transition into `category`, else (on the way to done) one into progress from a to-do status."""

    def into(wanted: str) -> dict[str, Any] | None:
        return next((t for t in offered if t.get("to", {}).get("statusCategory", {}).get("key") == wanted), None)

    if (direct := into(category)) is not None:
        return direct
    if category == DONE and current == "new":
        return into(IN_PROGRESS)
    return None


def check_connection(settings: Settings) -> str | None:
    """What is wrong with reaching Jira with our credentials (None: nothing)."""
    try:
        client = connect(settings)
        client.myself()
    except IntegrationError as exc:
        return str(exc)
    except (JIRAError, RequestException) as exc:
        return describe_error(exc, str(settings.jira_url), "read the account (myself)")
    return None


def check_project(settings: Settings, project_key: str) -> str | None:
    """What is wrong with mirroring into `project_key` (None: it exists and we may see it)."""
    try:
        client = connect(settings)
        client.project(project_key)
    except IntegrationError as exc:
        return str(exc)
    except (JIRAError, RequestException) as exc:
        if getattr(exc, "status_code", None) == 404:
            return f"Jira project {project_key} was not found at {settings.jira_url} (or this account may not see it)"
        return describe_error(exc, str(settings.jira_url), f"read project {project_key}")
    return None
