"""What the UI's tests need: Node.js with the UI's packages installed (`npm ci`, as `make up` does), and Chromium."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from ops import ui

CHROMIUM = os.environ.get("CHROME_BIN") or shutil.which("chromium") or "/usr/bin/chromium"


def require_node_modules() -> Path:
    """The UI's directory, with node_modules installed from package-lock.json (once; again after the lock changes)."""
    if problem := ui.node_problem():
        pytest.fail(f"the UI's tests need Node.js: {problem}")
    log = Path(tempfile.gettempdir()) / "conclave-ui-npm-ci.log"
    try:
        ui.ensure_modules(log)
    except ui.UiBuildError as exc:
        pytest.fail(str(exc))
    return ui.UI


def require_chromium() -> str:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"the UI's tests need Chromium at {CHROMIUM} (scripts/install-system-deps installs it)")
    return CHROMIUM
