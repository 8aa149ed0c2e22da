"""`make up`'s build of the web UI (frontend-ui/): once, and again only when its sources change.

    python -m ops.ui build     npm ci when node_modules is missing or was installed from another package-lock.json,
                               then ng build when the sources differ from those of the last build
    python -m ops.ui status    whether the build is current

Which sources a build came from is a SHA-256 of them, kept beside the build (`.sources-sha256`). A build goes to a
directory of its own first and replaces the served one only when it succeeded, so a running API keeps serving the
last good UI meanwhile. Without Node.js (20.19 or newer) the UI is skipped with a note: the API runs without it.
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from config import ROOT, get_settings

UI = ROOT / "frontend-ui"
DIST = UI / "dist" / "frontend-ui"  # angular.json's output path; the served files are in its browser/
STAMP_NAME = ".sources-sha256"
MODULES_STAMP = UI / "node_modules" / ".package-lock-sha256"
# What a build depends on: its sources, its dependencies and its configuration.
SOURCES = ("src", "public", "package.json", "package-lock.json", "angular.json", "tsconfig.json", "tsconfig.app.json")


def supported_node(major: int, minor: int) -> bool:
    """Angular 20's `engines`: ^20.19.0 || ^22.12.0 || >=24.0.0."""
    return (major == 20 and minor >= 19) or (major == 22 and minor >= 12) or major >= 24


class UiBuildError(RuntimeError):
    pass


def sources_hash(root: Path = UI) -> str:
    """SHA-256 over the paths and contents of the UI's sources, in a fixed order."""
    digest = hashlib.sha256()
    for name in SOURCES:
        top = root / name
        files = sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else [top] if top.is_file() else []
        for path in files:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def lock_hash(root: Path = UI) -> str:
    return hashlib.sha256((root / "package-lock.json").read_bytes()).hexdigest()


def node_problem() -> str | None:
    """Why the UI cannot be built here, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "Node.js is not installed (the UI needs Node.js 20.19 or newer and npm)"
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    try:
        major, minor = (int(part) for part in version.lstrip("v").split(".")[:2])
    except ValueError:
        return f"`node --version` printed {version!r}"
    if not supported_node(major, minor):
        return f"Node.js {version} is not one Angular 20 supports (^20.19, ^22.12 or 24 and newer)"
    return None


def is_current(root: Path = UI, dist: Path = DIST) -> bool:
    stamp = dist / STAMP_NAME
    return (dist / "browser" / "index.html").is_file() and stamp.is_file() and stamp.read_text() == sources_hash(root)


def _run(command: list[str], log: Path, what: str) -> None:
    env = {**os.environ, "CI": "1", "NG_CLI_ANALYTICS": "false", "NO_COLOR": "1"}
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        result = subprocess.run(command, cwd=UI, stdout=out, stderr=subprocess.STDOUT, env=env, check=False)
    if result.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-25:]
        raise UiBuildError(f"{what} failed (exit {result.returncode}); last lines of {log}:\n" + "\n".join(tail))


def ensure_modules(log: Path) -> bool:
    """`npm ci` unless node_modules holds what package-lock.json pins; True when it ran."""
    wanted = lock_hash()
    installed = MODULES_STAMP.is_file() and MODULES_STAMP.read_text() == wanted
    if installed and (UI / "node_modules" / ".bin" / "ng").exists():
        return False
    _run(["npm", "ci", "--no-audit", "--no-fund"], log, "npm ci")
    MODULES_STAMP.write_text(wanted)
    return True


def ensure_built(log: Path) -> str:
    """Build the UI unless the last build is of the current sources; says what it did."""
    if is_current():
        return "up to date"
    log.parent.mkdir(parents=True, exist_ok=True)
    installed = ensure_modules(log)
    sources = sources_hash()
    staging = UI / "dist" / f".build-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        _run([str(UI / "node_modules" / ".bin" / "ng"), "build", "--output-path", str(staging)], log, "ng build")
        (staging / STAMP_NAME).write_text(sources)
        previous = UI / "dist" / f".previous-{os.getpid()}"
        if DIST.exists():
            DIST.rename(previous)
        staging.rename(DIST)
        shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return "installed its packages and built it" if installed else "built it"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.ui", description=__doc__)
    parser.add_argument("command", choices=("build", "status"))
    command = parser.parse_args().command
    if command == "status":
        print("the web UI is built from the current sources" if is_current() else "the web UI needs a build")
        return
    if problem := node_problem():
        print(f"web UI: skipped, {problem}; the API runs without it")
        return
    log = get_settings().conclave_data_dir / "logs" / "ui-build.log"
    if not is_current():
        print("web UI: building (npm ci when needed, then ng build; a minute or two)...", flush=True)
    try:
        print(f"web UI: {ensure_built(log)}")
    except UiBuildError as exc:
        sys.exit(f"error: the web UI did not build: {exc}")


if __name__ == "__main__":
    main()
