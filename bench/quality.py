"""Benchmark: does the `feature_development` workflow write working code more often than one raw chat completion?

    PYTHONPATH=. python -m bench.quality [--tasks 01,03] [--api http://127.0.0.1:8000] [--timeout 600] [--out PATH]
    PYTHONPATH=. python -m bench.quality --check [--tasks 01,03]

Each task in bench/quality_tasks/<nn>_<name>/ is a small Python requirement (`requirement.md`, naming the module file
and its functions), pytest tests the agents never see (`test_hidden.py`) and a correct solution (`reference.py`).
For each task, in turn, the same model answers twice:
- raw: one chat completion in this process (`agents.llm.get_llm`, the stack's settings), a system prompt, the
  requirement and "write the complete module in one python code block"; the code is the block `pick_block` picks
  (no demo stripping: the workflow's guards are part of what is measured);
- workflow: a `feature_development` run through the live stack's API (`make up`), in one project staffed with one
  agent per role template; its module is the file the requirement names, as the `verification` step left it (else
  the latest artifact of that name).
Both modules then run the hidden tests in the sandbox (`activities.sandbox.run_pytest`, 60 s). A task passes when
every hidden test does. Seconds are the raw completion, and the run from its creation to its end (model time; the
hidden tests are not counted). The script prints a line per task, then tasks and tests passed by each, the ratio
workflow/raw of tasks passed, mean and max seconds per task, and whether the targets hold: the workflow passes at
least twice as many tasks as raw (and at least one), and no run takes over 600 s. A run still going after --timeout
is cancelled and its task counts as failed. The figures also go to --out as JSON (written after every task).

--check needs neither model nor stack: it runs each task's hidden tests against its reference and checks that the
requirement names the module the tests import; it exits 1 if any task fails.
"""

import argparse
import ast
import json
import re
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from activities.sandbox import Limits, SandboxResult, run_pytest
from config import ROOT

TASKS_DIR = Path(__file__).resolve().parent / "quality_tasks"
HIDDEN = "test_hidden.py"
SANDBOX = Limits(wall_seconds=60)

SYSTEM = "You are an expert Python developer."
INSTRUCTION = "Write the complete module in one ```python code block."
TEMPERATURE, MAX_TOKENS, SEED = 0.2, 2048, 42

POLL_SECONDS = 3
CANCEL_WAIT_SECONDS = 60  # after a timeout, for the cancelled run to stop using the model
FINISHED = ("completed", "failed", "cancelled")
AGENT_FIELDS = ("name", "role", "description", "model", "temperature", "max_tokens", "system_prompt", "capabilities")
CLAIM_KEYS = ("code_tests_passed", "code_tests_total", "code_rounds", "code_candidates")
FINAL_STEP = "verification"
TARGET_RATIO = 2
TARGET_SECONDS = 600

MODULE_FILE = re.compile(r"`([A-Za-z_]\w*\.py)`")


class BenchError(RuntimeError):
    """The stack answered, but not as the benchmark needs (a refused request): nothing sensible to measure."""


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


# Running the benchmark


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


def run_raw(llm: Any, task: Task, model: str | None) -> Attempt:
    """One chat completion of the requirement; its code block is the module."""
    from agents.llm.base import ChatMessage, CompletionRequest, LLMError
    from agents.python_source import pick_block

    messages = [ChatMessage("system", SYSTEM), ChatMessage("user", f"{task.requirement.strip()}\n\n{INSTRUCTION}")]
    request = CompletionRequest(messages, temperature=TEMPERATURE, max_tokens=MAX_TOKENS, seed=SEED, model=model)
    started = time.perf_counter()
    try:
        completion = llm.complete(request)
    except LLMError as exc:
        return Attempt(seconds=time.perf_counter() - started, note=f"model error: {exc}", total=task.tests)
    attempt = Attempt(seconds=time.perf_counter() - started, code=pick_block(completion.text, task.module))
    if completion.finish_reason != "stop":
        attempt.note = f"finish: {completion.finish_reason}"
    return attempt


class Api:
    """The stack's HTTP API, with the few calls the benchmark makes."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.client = httpx.Client(base_url=self.url, timeout=30)

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, path, **kwargs)
        if response.status_code != expect:
            raise BenchError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response

    def json(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        return self.call(method, path, expect, **kwargs).json()

    def staffed_project(self, name: str) -> str:
        """A new project with one agent per role template, as they come (the way tests/workflows/support.py does)."""
        project = self.json("POST", "/api/projects", 201, json={"name": name, "type": "library", "status": "active"})
        for template in self.json("GET", "/api/agents/templates"):
            body = {k: v for k, v in template.items() if k in AGENT_FIELDS} | {"project_id": project["id"]}
            self.call("POST", "/api/agents", 201, json=body)
        return str(project["id"])

    def artifacts(self, workflow_id: str) -> list[dict[str, Any]]:
        """Every artifact of the run, oldest first."""
        items: list[dict[str, Any]] = []
        while True:
            page = self.json(
                "GET", f"/api/workflows/{workflow_id}/artifacts", params={"limit": 200, "skip": len(items)}
            )
            items += page["items"]
            if not page["items"] or len(items) >= page.get("total", 0):
                return items

    def cancel(self, workflow_id: str) -> str:
        """Cancel the run and wait (a while) until it has stopped; its last status."""
        response = self.client.post(f"/api/workflows/{workflow_id}/cancel")
        if response.status_code not in (200, 409):  # 409: it ended meanwhile
            raise BenchError(f"cancel {workflow_id}: {response.status_code} {response.text[:500]}")
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        while True:
            status = str(self.json("GET", f"/api/workflows/{workflow_id}")["status"])
            if status in FINISHED or time.monotonic() > deadline:
                return status
            time.sleep(1)


def file_name(path: str) -> str:
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def final_module(artifacts: Sequence[dict[str, Any]], module: str) -> dict[str, Any] | None:
    """The run's final version of `module`: the latest artifact of the verification step at that path (else with
    that file name in another folder), else the latest artifact of any step with that file name, else None."""

    def latest(candidates: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
        return max(candidates, key=lambda c: (datetime.fromisoformat(c[1]["created_at"]), c[0]))[1]

    named = [(i, a) for i, a in enumerate(artifacts) if file_name(a["path"]) == module]
    final = [(i, a) for i, a in named if a.get("step") == FINAL_STEP]
    exact = [(i, a) for i, a in final if a["path"].removeprefix("./") == module]
    for candidates in (exact, final, named):
        if candidates:
            return latest(candidates)
    return None


def run_workflow(
    api: Api, project_id: str, task: Task, timeout: float, code: dict[str, int] | None = None
) -> WorkflowAttempt:
    """A feature_development run of the requirement (with the code loop's `code` options, if any), until it ends (or
    is cancelled at `timeout`); its module."""
    body = {"project_id": project_id, "name": f"bench {task.key}", "workflow_type": "feature_development",
            "requirement": task.requirement, **({"options": {"code": code}} if code else {})}  # fmt: skip
    started = time.monotonic()
    workflow_id = str(api.json("POST", "/api/workflows", 201, json=body)["workflow_id"])
    attempt = WorkflowAttempt(workflow_id=workflow_id, total=task.tests)
    try:
        while True:
            run = api.json("GET", f"/api/workflows/{workflow_id}")
            attempt.status = str(run["status"])
            if attempt.status in FINISHED:
                break
            if time.monotonic() - started > timeout:
                attempt.seconds = time.monotonic() - started
                attempt.status = api.cancel(workflow_id)
                attempt.note = f"timed out after {timeout:g} s, cancelled"
                return attempt
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        api.cancel(workflow_id)  # do not leave the run occupying the model
        raise
    attempt.seconds = time.monotonic() - started
    metrics = run.get("metrics") or {}
    attempt.claim = {key: metrics[key] for key in CLAIM_KEYS if key in metrics}
    artifact = final_module(api.artifacts(workflow_id), task.module)
    if artifact is None:
        attempt.note = "no module"
        return attempt
    attempt.artifact = f"{artifact.get('step')}:{artifact['path']}"
    attempt.code = api.call("GET", f"/api/workflows/{workflow_id}/artifacts/{artifact['id']}").content.decode(
        "utf-8", "replace"
    )
    return attempt


# Reporting

COLUMNS = (
    f"{'task':<20}{'raw':>7}{'':5}{'raw s':>8}{'workflow':>10}{'':5}{'wf s':>8}  {'status':<10}"
    f"{'claim: tests rounds cands':<28}note"
)


def claim_text(claim: dict[str, Any]) -> str:
    def value(key: str) -> str:
        return str(claim[key]) if key in claim else "-"

    return (
        f"{value('code_tests_passed')}/{value('code_tests_total')} "
        f"rounds {value('code_rounds')} cands {value('code_candidates')}"
    )


def task_line(task: Task, raw: Attempt, flow: WorkflowAttempt) -> str:
    def mark(attempt: Attempt) -> str:
        return "PASS" if attempt.ok else "fail"

    notes = "; ".join(f"{side}: {a.note}" for side, a in (("raw", raw), ("wf", flow)) if a.note)
    return (
        f"{task.key:<20}{raw.passed:>3}/{raw.total:<3} {mark(raw):<4}{raw.seconds:>8.1f}"
        f"{flow.passed:>6}/{flow.total:<3} {mark(flow):<4}{flow.seconds:>8.1f}  {flow.status:<10}"
        f"{claim_text(flow.claim):<28}{notes}"
    )


def ratio_text(workflow: int, raw: int) -> str:
    if raw == 0:
        return "inf" if workflow > 0 else "-"
    return f"{workflow / raw:.2f}"


def summarize(rows: Sequence[tuple[Task, Attempt, WorkflowAttempt]]) -> dict[str, Any]:
    raws = [r for _, r, _ in rows]
    flows = [w for _, _, w in rows]

    def seconds(attempts: Sequence[Attempt]) -> dict[str, float]:
        values = [a.seconds for a in attempts] or [0.0]
        return {"mean": round(statistics.mean(values), 1), "max": round(max(values), 1)}

    raw_tasks, flow_tasks = sum(a.ok for a in raws), sum(a.ok for a in flows)
    summary: dict[str, Any] = {
        "tasks": len(rows),
        "tasks_passed": {"raw": raw_tasks, "workflow": flow_tasks},
        "tests_passed": {"raw": sum(a.passed for a in raws), "workflow": sum(a.passed for a in flows)},
        "tests_total": sum(t.tests for t, _, _ in rows),
        "ratio_tasks": ratio_text(flow_tasks, raw_tasks),
        "seconds": {"raw": seconds(raws), "workflow": seconds(flows)},
    }
    summary["targets"] = {
        "tasks_at_least_twice_raw": flow_tasks > 0 and flow_tasks >= TARGET_RATIO * raw_tasks,
        "workflow_max_seconds_ok": summary["seconds"]["workflow"]["max"] <= TARGET_SECONDS,
    }
    return summary


def print_summary(summary: dict[str, Any]) -> None:
    n, total, secs = summary["tasks"], summary["tests_total"], summary["seconds"]
    tasks, tests, targets = summary["tasks_passed"], summary["tests_passed"], summary["targets"]
    lines = [
        f"tasks passed      raw {tasks['raw']}/{n}   workflow {tasks['workflow']}/{n}   "
        f"ratio workflow/raw {summary['ratio_tasks']}",
        f"hidden tests      raw {tests['raw']}/{total}   workflow {tests['workflow']}/{total}",
        f"seconds per task  raw mean {secs['raw']['mean']} max {secs['raw']['max']}   "
        f"workflow mean {secs['workflow']['mean']} max {secs['workflow']['max']}",
    ]
    for text, key in (
        (f"workflow tasks passed >= {TARGET_RATIO} x raw tasks passed (and > 0)", "tasks_at_least_twice_raw"),
        (f"max workflow seconds per task <= {TARGET_SECONDS}", "workflow_max_seconds_ok"),
    ):
        lines.append(f"target  {text:<58}{'yes' if targets[key] else 'NO'}")
    print("\n" + "\n".join(lines))


def write_results(out: Path, header: dict[str, Any], rows: Sequence[tuple[Task, Attempt, WorkflowAttempt]]) -> None:
    def record(attempt: Attempt) -> dict[str, Any]:
        return asdict(attempt) | {"seconds": round(attempt.seconds, 2)}

    tasks = [
        {"task": t.key, "module": t.module, "tests": t.tests, "raw": record(r), "workflow": record(w)}
        for t, r, w in rows
    ]
    document = {**header, "tasks": tasks, "summary": summarize(rows)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


# Entry points


def check_main(tasks: Sequence[Task]) -> int:
    failed = 0
    started = time.perf_counter()
    results = check_tasks(tasks, jobs=2)
    for task, result, problems in results:
        failed += bool(problems)
        state = "ok  " if not problems else "FAIL"
        print(f"{state} {task.key:<20} {task.module:<16} reference {result.passed}/{task.tests} hidden tests passed")
        for problem in problems:
            print(f"     {problem}")
    isolation = results[0][1].isolation if results else ""
    seconds = time.perf_counter() - started
    print(f"\n{len(tasks) - failed}/{len(tasks)} tasks sound ({seconds:.1f} s; sandbox: {isolation})")
    return 1 if failed else 0


def bench_main(
    tasks: Sequence[Task], api_url: str, timeout: float, out: Path | None, code: dict[str, int] | None = None
) -> int:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = out or ROOT / ".data" / "bench" / f"quality-{stamp}.json"
    api = Api(api_url)
    try:
        health = api.client.get("/api/health", timeout=5)
    except httpx.TransportError as exc:
        print(f"cannot reach the API at {api.url} ({exc}): start the stack with `make up`", file=sys.stderr)
        return 2
    if health.status_code != 200:
        print(f"the API at {api.url} is not healthy ({health.status_code} {health.text[:300]}): start the stack "
              "with `make up` (or see `make status`)", file=sys.stderr)  # fmt: skip
        return 2

    from agents.llm import get_llm
    from agents.roles import ROLE_TEMPLATES
    from config import get_settings
    from db.enums import AgentRole

    settings = get_settings()
    llm = get_llm(settings)
    model = ROLE_TEMPLATES[AgentRole.DEVELOPER].model
    load = getattr(llm, "load", None)
    if callable(load):
        load()  # before the first task, so its time is the completion's alone
    header = {"started_at": stamp, "api": api.url, "backend": llm.name, "model": model,
              "model_path": str(settings.llm_model_path or ""), "timeout": timeout, "code_options": code or {},
              "prompt": {"system": SYSTEM, "instruction": INSTRUCTION, "temperature": TEMPERATURE,
                         "max_tokens": MAX_TOKENS, "seed": SEED}}  # fmt: skip
    options = " ".join(f"{k} {v}" for k, v in (code or {}).items()) or "the defaults"
    print(f"backend {llm.name}   model {model}   api {api.url}   tasks {len(tasks)}   timeout {timeout:g} s")
    print(f"code loop options: {options}")
    print(f"results {out}\n")

    rows: list[tuple[Task, Attempt, WorkflowAttempt]] = []
    try:
        project_id = api.staffed_project(f"bench-quality {stamp}")
        print(COLUMNS)
        for task in tasks:
            raw = run_raw(llm, task, model)
            score(task, raw)
            flow = run_workflow(api, project_id, task, timeout, code)
            if not flow.note.startswith("timed out"):
                score(task, flow)
            rows.append((task, raw, flow))
            print(task_line(task, raw, flow), flush=True)
            write_results(out, header, rows)
    except httpx.TransportError as exc:
        print(f"lost the API at {api.url} ({exc}): start the stack with `make up`", file=sys.stderr)
        return 2
    except BenchError as exc:
        print(f"the API refused a request: {exc}", file=sys.stderr)
        return 1
    print_summary(summarize(rows))
    print(f"\nwritten to {out}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default="", help="comma-separated task numbers or names (default: all)")
    parser.add_argument("--api", default="http://127.0.0.1:8000", help="the stack's API")
    parser.add_argument("--check", action="store_true", help="only check the tasks: references against hidden tests")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a run may take before it is cancelled")
    parser.add_argument("--candidates", type=int, help="the runs' options.code.candidates (default: the workflow's, 1)")
    parser.add_argument("--rounds", type=int, help="the runs' options.code.rounds (default: the workflow's, 3)")
    parser.add_argument("--out", type=Path, help="JSON results (default .data/bench/quality-<timestamp>.json)")
    args = parser.parse_args()

    tasks = load_tasks([t.strip() for t in args.tasks.split(",") if t.strip()])
    if args.check:
        sys.exit(check_main(tasks))
    code = {k: v for k, v in (("candidates", args.candidates), ("rounds", args.rounds)) if v is not None}
    sys.exit(bench_main(tasks, args.api, args.timeout, args.out, code))


if __name__ == "__main__":
    main()
