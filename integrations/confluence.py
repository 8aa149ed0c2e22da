"""Confluence through `atlassian-python-api`: one page per run, "Workflow: <name>", updated in place.

The page is created once and its id recorded; every later sync (a resumed run finishing, a sync run again) writes
a new version of the same page, and none at all when nothing changed. Before creating, the space is searched for
the title: a page there that names this run's id is this run's page (an attempt died before recording it); a page
of another run with the same name makes this run's title end with its short id instead.
"""

import hashlib
import logging
from typing import Any

from atlassian import Confluence
from requests import HTTPError, RequestException

from config import Settings
from integrations import CONFLUENCE as SYSTEM
from integrations import IntegrationError, require_configured
from integrations.links import Link, Links

log = logging.getLogger("conclave.integrations.confluence")

PAGE_TITLE_CHARS = 255


def page_title(name: str) -> str:
    title = "Workflow: " + " ".join(name.split())
    return title if len(title) <= PAGE_TITLE_CHARS else title[: PAGE_TITLE_CHARS - 1] + "…"


def _response(exc: Exception) -> Any:
    """The HTTP response behind a client error, if any (atlassian's ApiError wraps requests' HTTPError)."""
    response = getattr(exc, "response", None)
    reason = getattr(exc, "reason", None)
    if response is None and isinstance(reason, HTTPError):
        response = reason.response
    return response


def _status(exc: Exception) -> int | None:
    return getattr(_response(exc), "status_code", None)


def describe_error(exc: Exception, url: str, what: str) -> str:
    """A message safe to store and show: the status and Confluence's own message, never the request."""
    response = _response(exc)
    if response is not None and getattr(response, "status_code", None):
        status = response.status_code
        if status in (401, 403):
            return f"Confluence at {url} refused the credentials (HTTP {status}) to {what}"
        try:
            message = str(response.json().get("message") or "")
        except (ValueError, AttributeError):
            message = ""
        return f"Confluence at {url} answered HTTP {status} to {what}" + (f": {message[:300]}" if message else "")
    if isinstance(exc, RequestException):
        return f"Confluence at {url} could not be reached to {what} ({type(exc).__name__})"
    return f"Confluence at {url} failed to {what}: {str(exc)[:300]}"


def connect(settings: Settings) -> Confluence:
    require_configured(settings, SYSTEM)
    assert settings.confluence_url and settings.confluence_username and settings.confluence_api_token
    return Confluence(
        url=settings.confluence_url.rstrip("/"),
        username=settings.confluence_username,
        password=settings.confluence_api_token.get_secret_value(),
        timeout=settings.integration_timeout,
    )


class ConfluenceMirror:
    """One run's page in one space; its id is saved in `links` before it is used."""

    def __init__(self, client: Confluence, space_key: str, links: Links) -> None:
        self.client, self.space_key, self.links = client, space_key, links
        self.url = client.url.rstrip("/")
        self.created = self.updated = 0

    def call(self, what: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except Exception as exc:  # requests' and atlassian's errors alike; never re-raised with the request in them
            raise IntegrationError(describe_error(exc, self.url, what)) from None

    def page_url(self, page: dict[str, Any]) -> str:
        links = page.get("_links") or {}
        webui = links.get("webui") or f"/pages/viewpage.action?pageId={page['id']}"
        return f"{links.get('base') or self.url}{webui}"

    def find(self, title: str) -> dict[str, Any] | None:
        # The plain content search, not `get_page_by_title`: that one logs an ERROR whenever the page is absent.
        params = {"type": "page", "spaceKey": self.space_key, "title": title, "expand": "body.storage,version"}
        found = self.call(f"search the space {self.space_key}", self.client.get, "rest/api/content", params=params)
        results = (found or {}).get("results") or []
        return results[0] if results else None

    def publish(self, title: str, body: str) -> Link:
        """Create the run's page or write `body` as its next version. Nothing is written when `body` is what was
        written last (kept as a digest: Confluence normalises what it stores, so its copy cannot be compared)."""
        digest = hashlib.sha256(body.encode()).hexdigest()
        link = self.links.get("page")
        written = self.links.get("page_body")
        if link is not None and written is not None and written.key == digest:
            return link
        current = self.page(link.key) if link is not None else None
        if link is None or current is None:  # never created, or deleted in Confluence since: created (again)
            link, current = self.create(title, body)
        if current.get("body", {}).get("storage", {}).get("value", "").strip() != body.strip():
            self.call(
                "update the page",
                self.client.update_page,
                link.key,
                current["title"],
                body,
                representation="storage",
                always_update=True,
            )
            self.updated += 1
        self.links.save("page_body", "", digest)
        return link

    def page(self, page_id: str) -> dict[str, Any] | None:
        """The recorded page, or None when it was deleted in Confluence (its link is forgotten then)."""
        try:
            return self.client.get_page_by_id(page_id, expand="body.storage,version")  # type: ignore[no-any-return]
        except Exception as exc:
            if _status(exc) != 404:
                raise IntegrationError(describe_error(exc, self.url, "read the page")) from None
        log.info("page %s of run %s is gone from Confluence: creating it again", page_id, self.links.workflow_id)
        self.links.forget("page")
        self.links.forget("page_body")
        return None

    def create(self, title: str, body: str) -> tuple[Link, dict[str, Any]]:
        """The run's page: the one of this title that names the run (an attempt died before recording it), else a
        new one; under the run's short id when another run's page has the title."""
        run = str(self.links.workflow_id)
        page = self.find(title)
        if page is not None and run not in page.get("body", {}).get("storage", {}).get("value", ""):
            title = f"{title[: PAGE_TITLE_CHARS - 11]} ({run[:8]})"
            page = self.find(title)
        if page is None:
            page = self.call(
                f"create the page {title!r}",
                self.client.create_page,
                self.space_key,
                title,
                body,
                representation="storage",
            )
            page.setdefault("body", {"storage": {"value": body}})
            self.created += 1
            log.info("created page %s for run %s", page["id"], run)
        return self.links.save("page", "", str(page["id"]), self.page_url(page)), page


def check_connection(settings: Settings) -> str | None:
    """What is wrong with reaching Confluence with our credentials (None: nothing)."""
    try:
        client = connect(settings)
        client.get("rest/api/space", params={"limit": 1})
    except IntegrationError as exc:
        return str(exc)
    except Exception as exc:
        return describe_error(exc, str(settings.confluence_url), "list spaces")
    return None


def check_space(settings: Settings, space_key: str) -> str | None:
    """What is wrong with publishing into `space_key` (None: it exists and we may see it)."""
    try:
        client = connect(settings)
        client.get_space(space_key, expand="")
    except IntegrationError as exc:
        return str(exc)
    except Exception as exc:
        if _status(exc) == 404:
            where = settings.confluence_url
            return f"Confluence space {space_key} was not found at {where} (or this account may not see it)"
        return describe_error(exc, str(settings.confluence_url), f"read space {space_key}")
    return None
