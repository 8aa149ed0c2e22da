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

The tasks and their scoring are in bench/task_suite.py, the calls to the stack in bench/stack_api.py, the report in
bench/quality_report.py; this module runs the raw side and puts the three together.
"""

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.quality_report import COLUMNS, print_summary, summarize, task_line, write_results
from bench.stack_api import Api, BenchError, run_workflow
from bench.task_suite import Attempt, Task, WorkflowAttempt, check_tasks, load_tasks, score
from config import ROOT

SYSTEM = "You are an expert Python developer."
INSTRUCTION = "Write the complete module in one ```python code block."
TEMPERATURE, MAX_TOKENS, SEED = 0.2, 2048, 42
PROMPT = {
    "system": SYSTEM,
    "instruction": INSTRUCTION,
    "temperature": TEMPERATURE,
    "max_tokens": MAX_TOKENS,
    "seed": SEED,
}


def run_raw(llm: Any, task: Task, model: str | None) -> Attempt:
    """One chat completion of the requirement; its code block is the module."""
    from agents.llm.base import ChatMessage, CompletionRequest, LLMError
    from agents.module_files import pick_block

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


def compare(
    task: Task, llm: Any, model: str, api: Api, project_id: str, timeout: float, code: dict[str, int] | None
) -> tuple[Task, Attempt, WorkflowAttempt]:
    """The task answered raw, then by a workflow run, each scored on the hidden tests (a run that timed out: not)."""
    raw = run_raw(llm, task, model)
    score(task, raw)
    flow = run_workflow(api, project_id, task, timeout, code)
    if not flow.note.startswith("timed out"):
        score(task, flow)
    return task, raw, flow


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
    if problem := api.not_ready():
        print(problem, file=sys.stderr)
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
    header = {
        "started_at": stamp,
        "api": api.url,
        "backend": llm.name,
        "model": model,
        "model_path": str(settings.llm_model_path or ""),
        "timeout": timeout,
        "code_options": code or {},
        "prompt": PROMPT,
    }
    options = " ".join(f"{k} {v}" for k, v in (code or {}).items()) or "the defaults"
    print(f"backend {llm.name}   model {model}   api {api.url}   tasks {len(tasks)}   timeout {timeout:g} s")
    print(f"code loop options: {options}")
    print(f"results {out}\n")

    rows: list[tuple[Task, Attempt, WorkflowAttempt]] = []
    try:
        project_id = api.staffed_project(f"bench-quality {stamp}")
        print(COLUMNS)
        for task in tasks:
            rows.append(compare(task, llm, model, api, project_id, timeout, code))
            print(task_line(*rows[-1]), flush=True)
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
