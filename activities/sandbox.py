"""Run code the agents wrote, and its pytest tests, in a sandbox; report what passed and what failed.

Each run gets a fresh directory holding the files, and one child process tree with limits:
- wall time (killed when over), CPU seconds, address space, size of any file written, open files, processes, and a
  lower scheduling priority (`niceness`), so that a test run beside a generation slows the generation little;
- output: stdout and stderr are read as they come and the tree is killed past `output_bytes`;
- as root (the worker's usual case on one machine): new network, mount and PID namespaces (`unshare`): no network
  but loopback of its own, every mount read-only except the run's directory, and when the tree's first process ends
  the kernel ends every other one; then the code runs as `nobody` (`setpriv`), without new privileges;
- not root: the limits, the fresh directory and an empty environment only (`isolation` says which).
The child's environment holds no setting of ours (no database URL, no token). The caller's `should_stop` is asked a
few times a second, so a cancelled activity stops the run at once.
"""

import contextlib
import ctypes
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from activities.priority import lower_priority

NOBODY = 65534
PR_SET_PDEATHSIG = 1
VENV_MOUNT = "/mnt/conclave-python"  # inside the sandbox's mount namespace only (on a tmpfs over /mnt)
TRIM_CHARS = 2_000  # of one test's failure message
POLL_SECONDS = 0.1
REPORT = "report.xml"
COMPACT_OUTPUT = 4_000  # characters of output kept in an activity's result (it goes into the run's history)
COMPACT_TESTS = 60
COMPACT_MESSAGE = 1_000


@dataclass
class Limits:
    wall_seconds: float = 60
    cpu_seconds: int = 30
    memory_bytes: int = 1024**3
    output_bytes: int = 1024**2
    file_bytes: int = 16 * 1024**2
    processes: int = 64
    open_files: int = 256
    # Scheduling priority (nice) of the run: test runs yield the cores to the model's generation (bench/threads.py).
    niceness: int = 10


@dataclass
class TestOutcome:
    __test__ = False  # not a pytest test class, whatever its name
    name: str  # pytest's node id (`tests/test_slug.py::test_empty`): what `--deselect` and a re-run take
    outcome: str  # passed, failed, error, skipped
    message: str = ""
    seconds: float = 0.0


@dataclass
class SandboxResult:
    status: str  # passed (every test), failed (some test), error (collection or no tests), stopped (a limit)
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    tests: list[TestOutcome] = field(default_factory=list)
    reason: str | None = None  # why it was stopped, or why no test ran
    output: str = ""
    exit_code: int | None = None
    duration_ms: int = 0
    isolation: str = ""

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors

    def compact(self) -> "SandboxResult":
        """Small enough for a workflow's history: the output's tail and the first tests (counts stay exact)."""
        tail = self.output[-COMPACT_OUTPUT:] if len(self.output) > COMPACT_OUTPUT else self.output
        # failures first: they are what a repair needs
        tests = sorted(self.tests, key=lambda t: t.outcome == "passed")[:COMPACT_TESTS]
        return replace(self, output=tail, tests=[replace(t, message=_trim(t.message, COMPACT_MESSAGE)) for t in tests])

    @property
    def failures(self) -> list[TestOutcome]:
        return [t for t in self.tests if t.outcome in ("failed", "error")]


class UnsafePath(ValueError):
    """A file name that would land outside the run's directory."""


def _safe_relative(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or name.startswith("~"):
        raise UnsafePath(f"{name!r} is not a relative path inside the sandbox")
    return path


def isolation_available() -> bool:
    return os.geteuid() == 0 and all(shutil.which(tool) for tool in ("unshare", "setpriv", "findmnt"))


def _limit_child(limits: Limits, isolated: bool) -> Callable[[], None]:
    def apply() -> None:  # runs in the child between fork and exec
        os.setsid()
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the worker dies: so does the run
        lower_priority(limits.niceness)  # inherited by everything the code starts; only root could raise it again
        cpu = limits.cpu_seconds
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if isolated:  # counted per user: only meaningful for `nobody`, not for the worker's own user
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))

    return apply


def _command(workdir: Path, pytest_args: list[str], isolated: bool) -> list[str]:
    if not isolated:
        return [sys.executable, "-B", "-m", "pytest", *pytest_args]
    # The worker's virtualenv may sit under a directory `nobody` cannot enter (a clone in a 0700 temporary
    # directory): it is mounted, read-only, at a path anyone can reach, and its interpreter started from there.
    python = [f"{VENV_MOUNT}/bin/{Path(sys.executable).name}", "-B", "-m", "pytest", *pytest_args]
    # In the new namespaces: the run's directory becomes a mount of its own, every other mount read-only, then the
    # code runs as nobody. A mount that cannot be made read-only stops the run rather than stay writable. `sh` stays
    # the namespace's first process (root, out of the code's reach): killing it ends every process in there.
    parent = VENV_MOUNT.rsplit("/", 1)[0]
    preamble = (
        'set -e; mount --make-rprivate /; mount --bind "$W" "$W"; '
        'for m in $(findmnt -rn -o TARGET); do [ "$m" = "$W" ] || mount -o remount,bind,ro "$m"; done; '
        f"mount -t tmpfs -o size=64k,mode=755 tmpfs {parent}; mkdir {VENV_MOUNT}; "
        f'mount --bind "$V" {VENV_MOUNT}; mount -o remount,bind,ro {VENV_MOUNT}; mount -o remount,ro {parent}; '
        'cd "$W"; '
        f'setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups --no-new-privs -- "$@"'
    )
    namespaces = ["unshare", "--net", "--mount", "--pid", "--fork", "--mount-proc", "--kill-child"]
    return [*namespaces, "--", "sh", "-c", preamble, "sh", *python]


def run_pytest(
    files: dict[str, str],
    *,
    limits: Limits | None = None,
    deselect: Sequence[str] = (),
    should_stop: Callable[[], bool] = lambda: False,
) -> SandboxResult:
    """Write `files` into a fresh directory and run pytest there under the limits, leaving out the tests (node ids)
    in `deselect`."""
    limits = limits or Limits()
    relative = {_safe_relative(name): text for name, text in files.items()}
    isolated = isolation_available()
    workdir = Path(tempfile.mkdtemp(prefix="conclave-sandbox-"))
    try:
        for path, text in relative.items():
            target = workdir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        if isolated:
            for entry in [workdir, *workdir.rglob("*")]:
                os.chown(entry, NOBODY, NOBODY)
        env = _environment(workdir)
        command = _command(workdir, _pytest_args(workdir, deselect), isolated)
        result = _supervise(command, workdir, env, limits, should_stop, isolated)
        result.isolation = "namespaces, read-only mounts, user nobody" if isolated else "limits only (not root)"
        _read_report(workdir / REPORT, result)
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _supervise(
    command: list[str],
    workdir: Path,
    env: dict[str, str],
    limits: Limits,
    should_stop: Callable[[], bool],
    isolated: bool,
) -> SandboxResult:
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=_limit_child(limits, isolated),  # the limits must be set in the child, before exec
    )
    output = bytearray()
    overflow = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        while chunk := os.read(process.stdout.fileno(), 65536):
            if len(output) < limits.output_bytes:
                output.extend(chunk[: limits.output_bytes - len(output)])
            else:
                overflow.set()
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reason = None
    while process.poll() is None:
        if overflow.is_set():
            reason = f"printed more than {limits.output_bytes:,} bytes"
        elif time.monotonic() - started > limits.wall_seconds:
            reason = f"ran longer than {limits.wall_seconds:g} s"
        elif should_stop():
            reason = "cancelled"
        if reason:
            _kill(process)
            break
        time.sleep(POLL_SECONDS)
    process.wait()
    reader.join(timeout=5)
    if process.stdout is not None:
        process.stdout.close()
    code = process.returncode
    reason = reason or _signal_reason(code, isolated, limits)
    return SandboxResult(
        status="stopped" if reason else "error",
        reason=reason,
        output=output.decode("utf-8", "replace"),
        exit_code=code,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def _signal_reason(code: int, isolated: bool, limits: Limits) -> str | None:
    """Why the code ended, when a signal ended it: as a negative code, or as 128 + n through the namespace's shell."""
    number = -code if code < 0 else code - 128 if isolated and code > 128 else None
    if number is None or number not in signal.Signals._value2member_map_:
        return None
    name = signal.Signals(number).name
    return f"used more than {limits.cpu_seconds} s of CPU" if name == "SIGXCPU" else f"killed by {name}"


def _pytest_args(workdir: Path, deselect: Sequence[str]) -> list[str]:
    # xunit1: the report names each test's file, from which its node id is rebuilt
    options = ["-q", "-p", "no:cacheprovider", "-o", "addopts=", "-o", "junit_family=xunit1"]
    options += ["--continue-on-collection-errors", f"--junitxml={workdir / REPORT}", "--rootdir", "."]
    return options + [f"--deselect={node}" for node in deselect]


def _environment(workdir: Path) -> dict[str, str]:
    """The code's whole environment: nothing of the worker's (no secret reaches it); `W` and `V` name the directory
    and the virtualenv for the namespace's shell."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "W": str(workdir),
        "V": sys.prefix,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(workdir),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }


def _kill(process: subprocess.Popen[bytes]) -> None:
    """End the whole tree: its process group, and (isolated) the PID namespace with its first process."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _read_report(report: Path, result: SandboxResult) -> None:
    """Per-test outcomes from pytest's JUnit XML (written by the sandboxed code's process: size-limited, parsed
    defensively)."""
    if not report.is_file():
        if result.reason is None:
            result.reason = "pytest wrote no report: " + (result.output.strip().splitlines() or ["no output"])[-1]
        return
    try:
        root = ET.parse(report).getroot()
    except ET.ParseError as exc:
        result.reason = result.reason or f"unreadable test report: {exc}"
        return
    for case in root.iter("testcase"):
        name = _node_id(case.get("file") or "", case.get("classname") or "", case.get("name") or "")
        outcome, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            if (node := case.find(kind)) is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[kind]
                message = ((node.get("message") or "") + "\n" + (node.text or "")).strip()
                break
        seconds = float(case.get("time") or 0)
        result.tests.append(TestOutcome(name, outcome, _trim(message), seconds))
    result.passed = sum(t.outcome == "passed" for t in result.tests)
    result.failed = sum(t.outcome == "failed" for t in result.tests)
    result.errors = sum(t.outcome == "error" for t in result.tests)
    result.skipped = sum(t.outcome == "skipped" for t in result.tests)
    if result.reason is None:
        if result.total == 0:
            result.reason = "no tests ran"
        else:
            result.status = "passed" if result.failed == result.errors == 0 else "failed"


def _node_id(file: str, classname: str, name: str) -> str:
    """pytest's node id from a JUnit test case: `tests/test_a.py::TestX::test_y` from file `tests/test_a.py`,
    classname `tests.test_a.TestX` and name `test_y` (a collection error has no file: its classname is the path)."""
    if not file:
        return "::".join(part for part in (classname, name) if part)
    module = file.removesuffix(".py").replace("/", ".")
    if name == module and not classname:  # the file itself failed to import
        return file
    inner = classname.removeprefix(module).strip(".")
    return "::".join(part for part in (file, *inner.split("."), name) if part)


def _trim(text: str, limit: int = TRIM_CHARS) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n… ({len(text) - limit} characters left out) …\n{text[-half:]}"
