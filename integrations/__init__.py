"""Jira and Confluence clients, wrapped for idempotent use.

Each thing Conclave creates in Jira or Confluence is recorded in `integration_links` (through a `Links` store) right
after it is created, and looked up before anything is created: a retried sync finds it and creates nothing again.
For the short moment between creating and recording, the created thing also carries a mark of its own (a Jira
label, a line in a comment, the run's id on a page) that the next attempt searches for before creating.

Credentials come from the environment (config.py) and never appear in an error, a log line or an event: the errors
raised here carry the server's URL and status only.
"""

from typing import Any

from pydantic import SecretStr

from config import Settings

JIRA = "jira"
CONFLUENCE = "confluence"
SYSTEMS = (JIRA, CONFLUENCE)
TITLES = {JIRA: "Jira", CONFLUENCE: "Confluence"}


class IntegrationError(Exception):
    """Jira or Confluence refused or could not be reached; the message is safe to show and to log."""


class NotConfigured(IntegrationError):
    """The integration is turned on for a project, but this process has no URL or credentials for it."""


def missing_settings(settings: Settings, system: str) -> list[str]:
    """The environment variables a system still needs (none: it is configured)."""
    missing = []
    for part in ("url", "username", "api_token"):
        value = getattr(settings, f"{system}_{part}")
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not (text or "").strip():
            missing.append(f"{system.upper()}_{part.upper()}")
    return missing


def project_targets(project: Any) -> dict[str, str]:
    """Where a project mirrors its runs: each system it turns on, with its Jira project or Confluence space key."""
    wanted = {
        JIRA: (project.jira_enabled, project.jira_project_key),
        CONFLUENCE: (project.confluence_enabled, project.confluence_space_key),
    }
    return {system: key for system, (enabled, key) in wanted.items() if enabled and key}


def _not_set(names: list[str]) -> str:
    return f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} not set"


def require_configured(settings: Settings, system: str) -> None:
    if missing := missing_settings(settings, system):
        raise NotConfigured(f"{TITLES[system]} is turned on for this project, but {_not_set(missing)}")


def check_connection(settings: Settings, system: str) -> str | None:
    """What is wrong with reaching a configured system with our credentials (None: nothing)."""
    from integrations import confluence, jira  # the clients load only where they are used

    return (jira if system == JIRA else confluence).check_connection(settings)


def check_target(settings: Settings, system: str, key: str) -> str | None:
    """What is wrong with mirroring into a Jira project or Confluence space `key` (None: nothing)."""
    if missing := missing_settings(settings, system):
        return f"{TITLES[system]} is turned on, but {_not_set(missing)}: its syncs will fail"
    from integrations import confluence, jira

    return jira.check_project(settings, key) if system == JIRA else confluence.check_space(settings, key)
