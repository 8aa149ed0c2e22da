"""The quality benchmark's tasks (bench/quality_tasks/<nn>_<name>/) and how a module is scored on them.

A task is a requirement naming its module file (`requirement.md`), hidden tests (`test_hidden.py`) and a correct
solution (`reference.py`). `check_tasks` runs each reference against its hidden tests (is the task sound?); `score`
runs them against an attempt's module, in the sandbox, and records the outcome in the attempt.
"""

import ast
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from activities.sandbox import Limits, SandboxResult, run_pytest

TASKS_DIR = Path(__file__).resolve().parent / "quality_tasks"
HIDDEN = "test_hidden.py"
SANDBOX = Limits(wall_seconds=60)
MODULE_FILE = re.compile(r"`([A-Za-z_]\w*\.py)`")


@dataclass(frozen=True)
class Task:
    key: str  # the directory's name: "01_roman"
    requirement: str
    hidden: str
    reference: str
    module: str  # the module file the requirement names ("roman.py"); "" when it names none

    @property
    def number(self) -> str:
        return self.key.split("_", 1)[0]

    @property
    def tests(self) -> int:
        return count_tests(self.hidden)


def count_tests(source: str) -> int:
    """The tests in a pytest file: its `test*` functions and the `test*` methods of its `Test*` classes (the task
    files use no parametrization, which `check_task` confirms against what pytest ran)."""
    count = 0
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            count += 1
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            count += sum(isinstance(n, ast.FunctionDef) and n.name.startswith("test") for n in node.body)
    return count


def imported_modules(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def load_tasks(selection: Sequence[str] = (), root: Path = TASKS_DIR) -> list[Task]:
    """The tasks in `root`, in order; `selection` keeps those whose number ("01") or name ("01_roman") it lists."""
    tasks = []
    for directory in sorted(p for p in root.iterdir() if p.is_dir() and re.match(r"\d+_", p.name)):
        requirement = (directory / "requirement.md").read_text(encoding="utf-8")
        match = MODULE_FILE.search(requirement)
        tasks.append(
            Task(
                key=directory.name,
                requirement=requirement,
                hidden=(directory / HIDDEN).read_text(encoding="utf-8"),
                reference=(directory / "reference.py").read_text(encoding="utf-8"),
                module=match.group(1) if match else "",
            )
        )
    if selection:
        wanted = set(selection)
        unknown = wanted - {t.number for t in tasks} - {t.key for t in tasks}
        if unknown:
            raise SystemExit(f"no such task: {', '.join(sorted(unknown))} (see {root})")
        tasks = [t for t in tasks if t.number in wanted or t.key in wanted]
    return tasks


def hidden_tests(task: Task, code: str) -> SandboxResult:
    """The task's hidden tests run in the sandbox against `code`, placed at the module file the requirement names."""
    return run_pytest({task.module or "module.py": code, HIDDEN: task.hidden}, limits=SANDBOX)


def passed_all(task: Task, result: SandboxResult) -> bool:
    return result.status == "passed" and result.passed == task.tests


def task_problems(task: Task) -> list[str]:
    """What makes a task unfair or unusable, short of running it."""
    problems = []
    if not task.module:
        problems.append("requirement.md names no module file (`name.py`)")
    elif task.module.removesuffix(".py") not in imported_modules(task.hidden):
        problems.append(f"{HIDDEN} does not import {task.module.removesuffix('.py')}, the module the requirement names")
    if task.tests == 0:
        problems.append(f"{HIDDEN} holds no test")
    return problems


def check_task(task: Task) -> tuple[SandboxResult, list[str]]:
    """The reference against the hidden tests, and every problem found (none: the task is sound)."""
    result = hidden_tests(task, task.reference)
    problems = task_problems(task)
    if not passed_all(task, result):
        failures = [f"{t.name}: {t.message.splitlines()[0] if t.message else t.outcome}" for t in result.failures]
        reason = f" ({result.reason})" if result.reason else ""
        problems.append(f"reference: {result.passed}/{task.tests} hidden tests passed{reason}; " + "; ".join(failures))
    return result, problems


def check_tasks(tasks: Sequence[Task], jobs: int = 1) -> list[tuple[Task, SandboxResult, list[str]]]:
    """`check_task` for each task, `jobs` sandboxes at a time."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return [(task, *outcome) for task, outcome in zip(tasks, pool.map(check_task, tasks), strict=True)]


@dataclass
class Attempt:
    """One way (raw or workflow) of answering one task, and how its module did on the hidden tests."""

    passed: int = 0
    total: int = 0
    ok: bool = False  # every hidden test passed
    seconds: float = 0.0
    note: str = ""  # why there is nothing to test, or what stopped the tests ("no module", "timed out", ...)
    code: str = ""


@dataclass
class WorkflowAttempt(Attempt):
    workflow_id: str = ""
    status: str = ""
    claim: dict[str, Any] = field(default_factory=dict)  # the run's own figures (metrics, CLAIM_KEYS)
    artifact: str = ""  # step and path of the artifact taken as the module


def score(task: Task, attempt: Attempt) -> None:
    """Run the hidden tests on the attempt's code and record the outcome in it."""
    attempt.total = task.tests
    if not attempt.code.strip():
        attempt.note = attempt.note or "no code"
        return
    result = hidden_tests(task, attempt.code)
    attempt.passed = min(result.passed, task.tests)
    attempt.ok = passed_all(task, result)
    if result.reason and not attempt.note:
        attempt.note = result.reason
    elif result.errors and not attempt.passed and not attempt.note:
        attempt.note = "the tests could not import it" if result.total == 1 else "errors"
