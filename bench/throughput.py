"""Benchmark: 1, 2 and 4 concurrent feature_development runs on the live stack (`make up`: llama.cpp's server per
model, the code roles on the 1.5B coder).

    PYTHONPATH=. python -m bench.throughput [--api URL] [--levels 1 2 4] [--task KEY] [--timeout S]

For each level, N runs of the same task (the benchmark's quality tasks; seeds 1..N, so the answers differ) start at
once in a new project staffed from the role templates (the model map's models); the level ends when all of them
have. Per level it prints: wall time, each run's time, completion tokens and their aggregate rate (tokens/s over the
wall time), the p50/p95 latency of the model calls behind the runs' messages, what each model server evaluated of
the prompt tokens sent (the prompt cache: its /metrics before and after), its busiest moment, and the memory (RSS) of
the stack's processes at the end; with the ratio of the aggregate rate to the first level's, measured in the same
run. Writes everything as JSON to .data/bench/. Run it alone on the machine, on a stack with nothing else running.
"""

import argparse
import json
import statistics
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from agents.llm.service_state import read_state
from bench.stack_api import FINISHED, POLL_SECONDS, Api
from bench.task_suite import load_tasks
from config import ROOT, get_settings
from ops.stack import Stack


class ServerWatch:
    """Each model server's counters at the start, its busiest moment while the level runs, and the counters after."""

    def __init__(self, services: dict[str, str]) -> None:
        self.services = services
        self.before = {model: read_state(url).counters for model, url in services.items()}
        self.busiest = dict.fromkeys(services, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            for model, url in self.services.items():
                self.busiest[model] = max(self.busiest[model], read_state(url).busy or 0)

    def finish(self) -> dict[str, dict[str, float]]:
        self._stop.set()
        self._thread.join()
        report = {}
        for model, url in self.services.items():
            after, before = read_state(url).counters, self.before[model]
            delta = {k: after.get(k, 0) - before.get(k, 0) for k in after if k.endswith("_total")}
            report[model] = {**delta, "busiest": self.busiest[model]}
        return report


def stack_memory() -> dict[str, float]:
    """RSS (MB) of each process the local stack runs, from supervisor."""
    stack = Stack(get_settings())
    if not stack.supervisor_running():
        return {}
    memory = {}
    for info in stack._rpc().supervisor.getAllProcessInfo():
        if info["statename"] != "RUNNING":
            continue
        status = Path(f"/proc/{info['pid']}/status")
        if status.exists():
            rss = next(line for line in status.read_text().splitlines() if line.startswith("VmRSS"))
            memory[info["name"]] = round(int(rss.split()[1]) / 1024, 1)
    return memory


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_level(api: Api, n: int, requirement: str, timeout: float) -> dict[str, Any]:
    project_id = api.staffed_project(f"bench throughput x{n} {datetime.now():%H%M%S}")
    services = get_settings().model_copy(update={"llm_backend": "server"}).model_services()
    watch = ServerWatch(services)
    started = time.monotonic()
    runs: dict[str, dict[str, Any]] = {}
    for seed in range(1, n + 1):
        body = {
            "project_id": project_id,
            "name": f"throughput {n}x #{seed}",
            "workflow_type": "feature_development",
            "requirement": requirement,
            "options": {"seed": seed},
        }
        runs[str(api.json("POST", "/api/workflows", 201, json=body)["workflow_id"])] = {"seed": seed}
    ended: dict[str, float] = {}
    while len(ended) < n:
        if time.monotonic() - started > timeout:
            for workflow_id in set(runs) - set(ended):
                api.cancel(workflow_id)
            break
        for workflow_id in set(runs) - set(ended):
            try:
                status = api.json("GET", f"/api/workflows/{workflow_id}")["status"]
            except httpx.TransportError:  # a dropped keep-alive connection: ask again at the next poll
                continue
            if status in FINISHED:
                ended[workflow_id] = time.monotonic() - started
        time.sleep(POLL_SECONDS)
    wall = time.monotonic() - started
    servers = watch.finish()
    latencies, tokens, prompt_sent = [], 0, 0
    for workflow_id, run in runs.items():
        detail = api.json("GET", f"/api/workflows/{workflow_id}")
        said = api.json("GET", f"/api/communication/{workflow_id}/messages", params={"limit": 500})["items"]
        run |= {"status": detail["status"], "seconds": round(ended.get(workflow_id, wall), 1)}
        run["completion_tokens"] = int((detail.get("metrics") or {}).get("completion_tokens") or 0)
        tokens += run["completion_tokens"]
        prompt_sent += sum(m["prompt_tokens"] or 0 for m in said)
        latencies += [m["latency_ms"] / 1000 for m in said if m["latency_ms"]]
    return {
        "runs": n,
        "wall_seconds": round(wall, 1),
        "each": list(runs.values()),
        "completion_tokens": tokens,
        "aggregate_tok_s": round(tokens / wall, 2),
        "call_p50_s": round(percentile(latencies, 0.5), 1),
        "call_p95_s": round(percentile(latencies, 0.95), 1),
        "calls": len(latencies),
        "prompt_tokens_sent": prompt_sent,
        "servers": servers,
        "memory_mb": stack_memory(),
    }


def show(level: dict[str, Any], base: dict[str, Any] | None) -> None:
    ratio = "" if base is None else f"  (x{level['aggregate_tok_s'] / base['aggregate_tok_s']:.2f} of 1 run)"
    statuses = ", ".join(f"{r['status']} in {r['seconds']:.0f} s" for r in level["each"])
    print(f"{level['runs']} run(s): wall {level['wall_seconds']:.0f} s ({statuses})")
    print(f"  completion tokens {level['completion_tokens']}, aggregate {level['aggregate_tok_s']:.2f} tok/s{ratio}")
    print(f"  model calls {level['calls']}: p50 {level['call_p50_s']:.1f} s, p95 {level['call_p95_s']:.1f} s")
    for model, counters in level["servers"].items():
        evaluated = counters.get("prompt_tokens_total", 0)
        cached = counters.get("prompt_tokens_cached_total", 0)
        print(
            f"  {model}: prompt tokens evaluated {evaluated:.0f}, from the cache {cached:.0f}, "
            f"generated {counters.get('tokens_predicted_total', 0):.0f}, busiest {counters['busiest']} slots"
        )
    print(f"  prompt tokens sent (the runs' messages) {level['prompt_tokens_sent']}")
    memory = level["memory_mb"]
    print(
        f"  memory (RSS, MB): {', '.join(f'{k} {v:.0f}' for k, v in memory.items())}; total {sum(memory.values()):.0f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--task", default="01", help="the quality task whose requirement every run gets")
    parser.add_argument("--timeout", type=float, default=3600, help="per level, seconds")
    args = parser.parse_args()
    api = Api(args.api)
    if problem := api.not_ready():
        print(problem, file=sys.stderr)
        return 2
    task = load_tasks([args.task])[0]
    print(f"task {task.key}; levels {args.levels}", flush=True)
    levels: list[dict[str, Any]] = []
    for n in args.levels:
        levels.append(run_level(api, n, task.requirement, args.timeout))
        show(levels[-1], levels[0] if len(levels) > 1 else None)
    out = ROOT / ".data" / "bench" / f"throughput-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"task": task.key, "levels": levels}, indent=2))
    summary = [f"{lv['runs']}: {lv['aggregate_tok_s']:.2f} tok/s" for lv in levels]
    print(f"aggregate: {'; '.join(summary)}; median call {statistics.median(lv['call_p50_s'] for lv in levels)} s")
    print(f"figures in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
