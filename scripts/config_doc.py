"""Renders docs/configuration.md from the settings class (`config.Settings`), so the page cannot drift from the code.

    .venv/bin/python -m scripts.config_doc           # write docs/configuration.md (or `make docs`)
    .venv/bin/python -m scripts.config_doc --check   # exit 1 when the page differs from what the class renders

Each field gives its variable (the field's name in capitals), type, default and description (`Field(description=...)`
in config.py). The output depends only on config.py: paths under the checkout are shown relative to it, the user's
cache directory as `~/.cache`, and the default of a secret is never shown.
"""

import argparse
import sys
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import SecretStr
from pydantic.fields import FieldInfo

import config
from config import ROOT, Settings

PAGE = ROOT / "docs" / "configuration.md"
COMMAND = ".venv/bin/python -m scripts.config_doc"
SECRET_WORDS = ("key", "token", "password", "secret")

# Sections of the page, in order: a title, one sentence on what they configure, and their fields. A field not listed
# here still appears, under "Other settings".
GROUPS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "Environment and database",
        "Which safety checks apply, and the PostgreSQL that holds everything the UI shows.",
        ("environment", "database_url", "database_connect_timeout"),
    ),
    (
        "API and live events",
        "The HTTP API (`python -m api`), the web UI it serves and its Server-Sent Events.",
        (
            "api_host",
            "api_port",
            "cors_origins",
            "max_body_bytes",
            "ui_dir",
            "log_level",
            "sse_keepalive_seconds",
            "sse_subscriber_buffer",
        ),
    ),
    (
        "Local stack",
        "What `make up` keeps on this machine.",
        ("conclave_data_dir", "conclave_pgport"),
    ),
    (
        "The models",
        "The models the agents' turns run on, and the servers that run them.",
        (
            "llm_backend",
            "llm_role_models",
            "llm_server_port",
            "llm_server_slots",
            "llm_server_threads",
            "llm_server_bin",
            "llm_services",
            "llm_model_path",
            "llm_cache_dir",
            "llm_base_url",
            "llm_api_key",
            "llm_n_ctx",
            "llm_n_threads",
            "llm_timeout",
            "llm_wait_for_server",
            "llm_scripted_delay",
        ),
    ),
    (
        "Artifact storage",
        "The S3 bucket that holds the files the agents write.",
        ("s3_endpoint", "s3_access_key", "s3_secret_key", "s3_bucket", "s3_secure", "s3_region"),
    ),
    (
        "Temporal and the worker",
        "Where runs execute, and how much one worker (`python worker.py`) takes on.",
        (
            "temporal_address",
            "temporal_namespace",
            "temporal_ui_url",
            "temporal_task_queue",
            "llm_concurrency",
            "worker_nice",
            "activity_heartbeat_timeout",
        ),
    ),
    (
        "Sandbox",
        "The test runs of the agents' code (see [the code loop](code-loop.md)).",
        ("sandbox_concurrency", "sandbox_wall_seconds", "sandbox_cpu_seconds", "sandbox_memory_mb", "sandbox_nice"),
    ),
    (
        "Jira and Confluence",
        "The mirrors of each run (see [integrations](integrations.md)).",
        (
            "jira_url",
            "jira_username",
            "jira_api_token",
            "confluence_url",
            "confluence_username",
            "confluence_api_token",
            "integration_timeout",
            "integration_max_attempts",
            "public_url",
        ),
    ),
]

HEADER = f"""\
# Configuration

<!-- Generated from config.py by `{COMMAND}`: edit the descriptions there, not this page. -->

Every process (the API, the worker, `make up`, the tests) reads its settings from the environment, or from a `.env`
file in the project root, through one settings class: `Settings` in [config.py](../config.py). This page is
generated from that class, and a test (`tests/test_docs.py`) fails when the two disagree: after changing a setting,
run `{COMMAND}` (or `make docs`).

`make up` passes its environment to the processes it starts; after changing a variable, run `make restart`. With
`ENVIRONMENT=production` the settings refuse the local defaults that are unsafe beyond a developer's machine (the
local database, a `*` CORS origin, the local S3 key pair, the scripted model). Secrets (`SecretStr`) are never
logged or returned, and the database URL is printed with its password masked.
"""

# Variables read outside the settings class: (variable, default, meaning).
ELSEWHERE: list[tuple[str, str, str]] = [
    (
        "`PG_BIN`",
        "the newest `/usr/lib/postgresql/*/bin`",
        "where the PostgreSQL server binaries are, for the local cluster and the tests",
    ),
    ("`XDG_CACHE_HOME`", "`~/.cache`", "the base of `LLM_CACHE_DIR`'s default"),
    (
        "`OMP_WAIT_POLICY`, `GOMP_SPINCOUNT`",
        "unset",
        "OpenMP's own settings, passed through to llama.cpp; measured: leave them unset (see "
        "[bench/README.md](../bench/README.md))",
    ),
    (
        "`TEST_DATABASE_URL`",
        "unset",
        "the tests use this PostgreSQL server (creating and dropping their own databases) instead of starting a "
        "throwaway cluster",
    ),
    ("`TEST_MODEL_SEED`", "`1`", "the sampling seed of the real-model tests"),
]


def _constraints(metadata: Iterable[Any]) -> str:
    low = high = ""
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            low = f"{item.ge}"
        elif isinstance(item, annotated_types.Gt):
            low = f"> {item.gt}"
        elif isinstance(item, annotated_types.Le):
            high = f"{item.le}"
    if low and high:
        return f"{low} to {high}"
    if low:
        return low if low.startswith(">") else f"≥ {low}"
    return f"≤ {high}" if high else ""


def _type(annotation: Any, metadata: list[Any]) -> str:
    """The annotation in words: its base type, its allowed values or range, and whether it may stay unset."""
    optional = False
    if get_origin(annotation) in (Union, types.UnionType):
        arguments = [a for a in get_args(annotation) if a is not type(None)]
        optional = len(arguments) < len(get_args(annotation))
        annotation = arguments[0]
    if get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        metadata = [*metadata, *(m for info in extra if isinstance(info, FieldInfo) for m in info.metadata)]
    if get_origin(annotation) is Literal:
        values = [f"`{value}`" for value in get_args(annotation)]
        words = ", ".join(values[:-1]) + f" or {values[-1]}"
    elif get_origin(annotation) is list:
        words = "comma-separated list"
    else:
        names = {bool: "`true` or `false`", int: "integer", float: "number", str: "text", Path: "path"}
        words = names.get(annotation, "secret" if annotation is SecretStr else getattr(annotation, "__name__", "?"))
    if limits := _constraints(metadata):
        words += f", {limits}"
    return words + (", optional" if optional else "")


def _is_secret(name: str, field: FieldInfo) -> bool:
    annotation = field.annotation
    secret_type = annotation is SecretStr or SecretStr in get_args(annotation)
    return secret_type or any(word in name for word in SECRET_WORDS)


def _path(value: Path) -> str:
    cache = config.user_cache_dir()
    if value.is_relative_to(ROOT):
        return str(value.relative_to(ROOT))
    if value.is_relative_to(cache):
        return str(Path("~/.cache/conclave") / value.relative_to(cache))
    return str(value)


def _default(name: str, field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if _is_secret(name, field):
        return "set (not shown)"
    if isinstance(value, bool):
        shown = str(value).lower()
    elif isinstance(value, list):
        shown = ",".join(str(item) for item in value)
    elif isinstance(value, Path):
        shown = _path(value)
    else:
        shown = str(value)
    return f"`{shown}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(names: Iterable[str]) -> list[str]:
    rows = ["| variable | type | default | meaning |", "|---|---|---|---|"]
    for name in names:
        field = Settings.model_fields[name]
        if not field.description:
            raise ValueError(f"config.Settings.{name} has no description: add Field(description=...) in config.py")
        cells = (f"`{name.upper()}`", _type(field.annotation, field.metadata), _default(name, field), field.description)
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return rows


def render() -> str:
    """The whole page, as `docs/configuration.md` should hold it."""
    lines = [HEADER]
    listed: set[str] = set()
    for title, intro, names in GROUPS:
        lines += [f"## {title}", "", intro, "", *_table(names), ""]
        listed.update(names)
    if others := [name for name in Settings.model_fields if name not in listed]:
        lines += ["## Other settings", "", *_table(others), ""]
    lines += ["## Read elsewhere", "", "A few variables are read outside the settings class:", ""]
    lines += ["| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| {variable} | {default} | {meaning} |" for variable, default, meaning in ELSEWHERE]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the page is out of date; write nothing")
    page = render()
    if parser.parse_args(argv).check:
        if not PAGE.is_file() or PAGE.read_text() != page:
            print(f"{PAGE.relative_to(ROOT)} is out of date: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    PAGE.parent.mkdir(exist_ok=True)
    PAGE.write_text(page)
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
