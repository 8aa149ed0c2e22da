"""Benchmark: llama.cpp's server (the stack's model service) against the in-process model, on one code-writing turn.

    PYTHONPATH=. python -m bench.model_server [--model NAME] [--max-tokens N] [--only SECTION ...]

Sections, each against a baseline measured in the same run (temperature 0, a fixed seed, the same prompt):
- `inprocess`: one answer from llama-cpp-python in this process (2 threads, the baseline) and from llama-server
  (1 request, `make up`'s flags): seconds, generation tokens/s, server/in-process ratio.
- `concurrency`: 1, 2, 3 and 4 requests at once on a server with 4 slots: wall time, aggregate tokens/s, ratio to 1.
- `cache`: two turns of one run (the same system prompt and context, a different last line): prompt tokens sent vs
  evaluated by the server (its /metrics), i.e. what the prompt cache saved.
- `neighbour`: one answer while a CPU-bound process runs in a session of its own (a test run, a build), with the
  server at WORKER_NICE (-10, as root) and at 0, and OpenMP's waiting (default spin vs OMP_WAIT_POLICY=PASSIVE):
  seconds and ratio to alone.
- `pair`: the two servers of `make up` (the 0.5B and the 1.5B, in one session at one priority, as under supervisor)
  answering at the same time, as concurrent runs make them: seconds until both answers are done vs one after the
  other, by threads per server and OpenMP's waiting.
- `speculative`: the 1.5B coder alone vs with the 0.5B as its draft model (`--model-draft`): seconds, ratio.
Prints one line per measurement and writes all of them as JSON to .data/bench/. Run it alone on the machine.
"""

import argparse
import functools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from agents.llm import ChatMessage, CompletionRequest, Usage
from agents.llm.llama_cpp import LlamaCppBackend
from agents.llm.model import ensure_model
from agents.llm.openai_compat import OpenAICompatBackend
from agents.llm.service_state import read_state
from config import CHAT_MODEL, CODE_MODEL, ROOT, get_settings
from ops import llama_server

SYSTEM = (
    "You are the developer of a small software team. Write the complete Python module the requirement asks for, "
    "in one ```python code block with its file name on the line just before it. No explanations."
)
CONTEXT = "\n".join(
    f"- Architect, decision {i}: keep the module free of I/O; functions take plain values and return new ones; "
    f"raise ValueError with a clear message on bad input (case {i})."
    for i in range(1, 11)
)
TASK = (
    "Requirement: write `inventory.py` with a class `Inventory` that keeps item counts: add(name, count), "
    "remove(name, count) raising ValueError when there are not enough, count(name) returning 0 for unknown items, "
    "and total() returning the sum of all counts; names are non-empty strings, counts positive integers."
)
SEED = 7
SPIN = "from activities.priority import lower_priority\nlower_priority(0)\nwhile True:\n    pass\n"
SECTIONS = ("inprocess", "concurrency", "cache", "neighbour", "pair", "speculative")


def messages(last_line: str = "") -> list[ChatMessage]:
    context = f"The team's discussion so far:\n{CONTEXT}\n\n{TASK}" + (f"\n{last_line}" if last_line else "")
    return [ChatMessage("system", SYSTEM), ChatMessage("user", context)]


def request(max_tokens: int, last_line: str = "", seed: int = SEED) -> CompletionRequest:
    return CompletionRequest(messages(last_line), temperature=0.0, max_tokens=max_tokens, seed=seed)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(
    model: str,
    slots: int = 1,
    nice: int | None = None,
    env: dict[str, str] | None = None,
    extra: tuple[str, ...] = (),
    threads: int = 0,
) -> Iterator[str]:
    """llama-server for a local model with `make up`'s flags (ops/llama_server.py), at priority `nice`."""
    port = free_port()
    command = llama_server.serve_command(get_settings(), model, port=port, slots=slots, threads=threads or None)
    log = ROOT / ".data" / "bench" / f"llama-server-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    preexec = None if nice is None else (lambda: _own_session(nice))
    process = subprocess.Popen(
        [*command, *extra],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        preexec_fn=preexec,
    )
    try:
        llama_server.wait_ready(port, timeout=180)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.unlink(missing_ok=True)


def _own_session(nice: int) -> None:
    """In the server's process before exec: a session of its own at priority `nice` (as supervisor's programs)."""
    from activities.priority import set_priority

    os.setsid()
    set_priority(nice)


@contextmanager
def busy_neighbour() -> Iterator[None]:
    """One CPU-bound process in a session of its own (a test run, a compile)."""
    process = subprocess.Popen([sys.executable, "-c", SPIN], cwd=ROOT, start_new_session=True)
    time.sleep(1)
    try:
        yield
    finally:
        process.kill()
        process.wait()


def timed(call: Callable[[], Usage]) -> dict[str, float]:
    started = time.perf_counter()
    usage = call()
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "tokens": usage.completion_tokens, "tok_s": usage.completion_tokens / seconds}


def ask(url: str, max_tokens: int, last_line: str = "", seed: int = SEED) -> Usage:
    return OpenAICompatBackend(url).complete(request(max_tokens, last_line, seed)).usage


def at_once(url: str, n: int, max_tokens: int) -> dict[str, float]:
    """`n` requests at once (different seeds, so different answers); aggregate generation tokens/s."""
    usages: list[Usage] = []
    lock = threading.Lock()

    def one(seed: int) -> None:
        usage = (
            OpenAICompatBackend(url)
            .complete(CompletionRequest(messages(), temperature=0.7, max_tokens=max_tokens, seed=seed))
            .usage
        )
        with lock:
            usages.append(usage)

    started = time.perf_counter()
    threads = [threading.Thread(target=one, args=(SEED + k,)) for k in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    tokens = sum(u.completion_tokens for u in usages)
    return {"seconds": round(seconds, 2), "tokens": tokens, "tok_s": tokens / seconds}


class Report:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        section: str,
        label: str,
        figures: dict[str, Any],
        baseline: dict[str, Any] | None = None,
        key: str = "seconds",
    ) -> None:
        row = {"section": section, "label": label, **figures}
        if baseline is not None:
            row[f"ratio_{key}"] = round(figures[key] / baseline[key], 2)
        self.rows.append(row)
        shown = ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items())
        ratio = f"  ({key} x{row[f'ratio_{key}']:.2f} of the baseline)" if baseline is not None else "  (baseline)"
        print(f"{section:<12} {label:<44} {shown}{ratio}", flush=True)


def run_inprocess(report: Report, model: str, max_tokens: int) -> None:
    path = ensure_model(model, get_settings().llm_cache_dir)
    local = LlamaCppBackend(path, n_ctx=get_settings().llm_n_ctx, n_threads=os.cpu_count() or 1)
    local.load()
    local.complete(request(8, "warm-up"))
    base = timed(lambda: local.complete(request(max_tokens)).usage)
    report.add("inprocess", f"llama-cpp-python in-process, {model}", base)
    with server(model, slots=4) as url:
        ask(url, 8, "warm-up")
        report.add("inprocess", "llama-server, 4 slots, 1 request", one_answer(url, max_tokens), base)


def run_concurrency(report: Report, model: str, max_tokens: int) -> None:
    with server(model, slots=4) as url:
        ask(url, 8, "warm-up")
        base = at_once(url, 1, max_tokens)
        report.add("concurrency", "1 request", base, key="tok_s")
        for n in (2, 3, 4):
            report.add("concurrency", f"{n} requests at once", at_once(url, n, max_tokens), base, key="tok_s")


def run_cache(report: Report, model: str) -> None:
    with server(model, slots=1) as url:
        counters = []
        sent = []
        for turn in ("Turn 1: write it.", "Turn 2: write it again, with docstrings."):
            before = read_state(url).counters
            usage = ask(url, 16, turn)
            after = read_state(url).counters
            evaluated = after["prompt_tokens_total"] - before.get("prompt_tokens_total", 0)
            counters.append(evaluated)
            sent.append(usage.prompt_tokens)
        for n in (0, 1):
            figures = {"prompt_tokens_sent": sent[n], "prompt_tokens_evaluated": int(counters[n])}
            report.add("cache", f"turn {n + 1} of a run", figures)


def one_answer(url: str, max_tokens: int) -> dict[str, float]:
    return timed(functools.partial(ask, url, max_tokens))


def run_neighbour(report: Report, model: str, max_tokens: int) -> None:
    nice = -10 if os.geteuid() == 0 else 0
    for label, env in (("default OpenMP", {}), ("OMP_WAIT_POLICY=PASSIVE", {"OMP_WAIT_POLICY": "PASSIVE"})):
        with server(model, slots=4, nice=nice, env=env) as url:
            ask(url, 8, "warm-up")
            alone = one_answer(url, max_tokens)
            report.add("neighbour", f"{label}, nice {nice}, alone", alone)
            with busy_neighbour():
                report.add(
                    "neighbour", f"{label}, nice {nice}, beside a busy process", one_answer(url, max_tokens), alone
                )
        if nice != 0:
            with server(model, slots=4, nice=0, env=env) as url, busy_neighbour():
                ask(url, 8, "warm-up")
                report.add("neighbour", f"{label}, nice 0, beside a busy process", one_answer(url, max_tokens), alone)


def at_the_same_time(urls: list[str], max_tokens: int) -> dict[str, float]:
    """One answer from each server, asked at once: seconds until the last is done."""
    answers: list[dict[str, float]] = []
    started = time.perf_counter()
    workers = [threading.Thread(target=lambda u=url: answers.append(one_answer(u, max_tokens))) for url in urls]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"seconds": round(time.perf_counter() - started, 2), "tokens": sum(a["tokens"] for a in answers)}


def run_pair(report: Report, max_tokens: int) -> None:
    cores = os.cpu_count() or 1
    configs = [
        ("default OpenMP", {}, cores),
        ("OMP_WAIT_POLICY=PASSIVE", {"OMP_WAIT_POLICY": "PASSIVE"}, cores),
        ("GOMP_SPINCOUNT=10000", {"GOMP_SPINCOUNT": "10000"}, cores),
        ("GOMP_SPINCOUNT=100000", {"GOMP_SPINCOUNT": "100000"}, cores),
    ]
    if selected := os.environ.get("PAIR_CONFIGS"):  # e.g. "0,2": only those
        configs = [configs[int(i)] for i in selected.split(",")]
    if cores > 1:
        configs.append(("default OpenMP, 1 thread each", {}, 1))
    base = None
    for label, env, threads in configs:
        with (
            server(CHAT_MODEL, slots=4, env=env, threads=threads) as chat,
            server(CODE_MODEL, slots=4, env=env, threads=threads) as code,
        ):
            ask(chat, 8, "warm-up")
            ask(code, 8, "warm-up")
            one = one_answer(chat, max_tokens)
            two = one_answer(code, max_tokens)
            apart = {"seconds": round(one["seconds"] + two["seconds"], 2), "tokens": one["tokens"] + two["tokens"]}
            base = base or apart
            report.add("pair", f"{label} ({threads} threads): one after the other", apart, base)
            together = at_the_same_time([chat, code], max_tokens)
            report.add("pair", f"{label} ({threads} threads): at the same time", together, base)


def run_speculative(report: Report, max_tokens: int) -> None:
    draft = ensure_model(CHAT_MODEL, get_settings().llm_cache_dir)
    with server(CODE_MODEL, slots=4) as url:
        ask(url, 8, "warm-up")
        base = one_answer(url, max_tokens)
        report.add("speculative", f"{CODE_MODEL} alone", base)
    for n_max in (8, 16):
        extra = ("--model-draft", str(draft), "--spec-draft-n-max", str(n_max), "--threads-draft", str(os.cpu_count()))
        with server(CODE_MODEL, slots=4, extra=extra) as url:
            ask(url, 8, "warm-up")
            report.add(
                "speculative", f"with the 0.5B as draft, up to {n_max} tokens", one_answer(url, max_tokens), base
            )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.model_server", description=__doc__)
    parser.add_argument("--model", default=CODE_MODEL, help="a local model (config.LOCAL_MODELS)")
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--only", nargs="*", choices=SECTIONS, default=list(SECTIONS))
    args = parser.parse_args()
    report = Report()
    if "inprocess" in args.only:
        run_inprocess(report, args.model, args.max_tokens)
    if "concurrency" in args.only:
        run_concurrency(report, args.model, args.max_tokens)
    if "cache" in args.only:
        run_cache(report, args.model)
    if "neighbour" in args.only:
        run_neighbour(report, args.model, args.max_tokens)
    if "pair" in args.only:
        run_pair(report, args.max_tokens)
    if "speculative" in args.only:
        run_speculative(report, args.max_tokens)
    out = ROOT / ".data" / "bench" / f"model-server-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps({"model": args.model, "max_tokens": args.max_tokens, "rows": report.rows}, indent=2))
    print(f"figures in {out}")


if __name__ == "__main__":
    main()
