"""The quality benchmark's report: a line per task, the summary with its targets, and the JSON results."""

import json
import statistics
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.task_suite import Attempt, Task, WorkflowAttempt

TARGET_RATIO = 2
TARGET_SECONDS = 600
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
