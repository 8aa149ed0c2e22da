"""llama.cpp's own server, `llama-server`: built once from the llama.cpp source that llama-cpp-python vendors, and
run for each local model (supervisor's command).

    python -m ops.llama_server build          build it unless the cache has it; print its path
    python -m ops.llama_server serve MODEL    become llama-server for MODEL (a name of config.LOCAL_MODELS)

The build takes llama-cpp-python's sdist at the version the virtualenv holds (downloaded with pip, its SHA-256
checked against requirements.lock), so the server runs the same llama.cpp release as the in-process backend, with
the same portable CPU flags as the wheel (Makefile: any x86-64 with AVX2). It is cached per version and flags in the
user's cache directory, next to the models, and survives a fresh clone like uv's wheel cache does.
"""

import argparse
import fcntl
import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from activities.priority import set_priority
from agents.llm.model import ensure_model
from config import LOCAL_MODELS, ROOT, Settings, get_settings, user_cache_dir

PACKAGE = "llama-cpp-python"
# The wheel's flags (Makefile's CMAKE_ARGS) for the CPU, the server on, everything else off; a static binary.
CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DGGML_NATIVE=OFF",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_TOOLS=ON",
    "-DLLAMA_BUILD_SERVER=ON",
)
PIP = ROOT / ".data" / "tools" / "bin" / "pip"  # the Makefile's tools virtualenv (it installs uv with it)


class BuildError(RuntimeError):
    pass


def version() -> str:
    return importlib.metadata.version(PACKAGE)


def cached_binary() -> Path:
    """Where the build of this version with these flags lives (it may not exist yet)."""
    flags = hashlib.sha256(" ".join(CMAKE_FLAGS).encode()).hexdigest()[:10]
    return user_cache_dir() / "llama-server" / f"{version()}-{flags}" / "llama-server"


def binary(settings: Settings) -> Path:
    """LLM_SERVER_BIN if set, else the cached build (BuildError when there is none: `make up` builds it)."""
    if settings.llm_server_bin is not None:
        if not os.access(settings.llm_server_bin, os.X_OK):
            raise BuildError(f"LLM_SERVER_BIN={settings.llm_server_bin} is not an executable file")
        return settings.llm_server_bin
    path = cached_binary()
    if not path.is_file():
        raise BuildError(f"llama-server is not built yet ({path}): `make up` or `python -m ops.llama_server build`")
    return path


def locked_sdist_hashes(lock: Path = ROOT / "requirements.lock") -> set[str]:
    """The SHA-256 values requirements.lock pins for this version of llama-cpp-python."""
    text = lock.read_text()
    match = re.search(rf"^{re.escape(PACKAGE)}=={re.escape(version())}((?:\s*\\\n\s*--hash=sha256:\w+)+)", text, re.M)
    if match is None:
        raise BuildError(f"requirements.lock pins no {PACKAGE}=={version()}")
    return set(re.findall(r"sha256:(\w+)", match.group(1)))


def download_sdist(into: Path) -> Path:
    """llama-cpp-python's source archive, from the package index pip is configured for, its hash checked."""
    if not PIP.is_file():
        raise BuildError(f"{PIP} is missing: the Makefile creates it (`make up`)")
    requirement = f"{PACKAGE}=={version()}"
    command = [str(PIP), "download", "-q", "--no-deps", "--no-binary=:all:", requirement, "-d", str(into)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    archives = list(into.glob("*.tar.gz"))
    if result.returncode != 0 or len(archives) != 1:
        raise BuildError(f"cannot download the {requirement} sources: {result.stderr.strip()[-600:]}")
    digest = hashlib.sha256(archives[0].read_bytes()).hexdigest()
    if digest not in locked_sdist_hashes():
        raise BuildError(f"{archives[0].name} has SHA-256 {digest}, which requirements.lock does not pin")
    return archives[0]


def build(jobs: int | None = None) -> Path:
    """The cached llama-server, built first if missing (one build at a time per cache; ~6 minutes on 2 cores)."""
    target = cached_binary()
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second `make` waits for the first build instead of doing its own
        if target.is_file():
            return target
        with tempfile.TemporaryDirectory(prefix="build-", dir=target.parent) as tmp:
            work = Path(tmp)
            started = time.monotonic()
            print(f"building llama-server from the llama.cpp of {PACKAGE} {version()} (once)", file=sys.stderr)
            with tarfile.open(download_sdist(work)) as archive:
                archive.extractall(work, filter="data")
            source = next(work.glob("llama_cpp_python-*/vendor/llama.cpp"))
            log = work / "build.log"
            steps = [
                ["cmake", "-S", str(source), "-B", str(work / "build"), *CMAKE_FLAGS],
                [
                    "cmake",
                    "--build",
                    str(work / "build"),
                    "--target",
                    "llama-server",
                    "-j",
                    str(jobs or os.cpu_count() or 1),
                ],
            ]
            with log.open("w") as out:
                for step in steps:
                    if subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, check=False).returncode != 0:
                        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
                        raise BuildError(f"building llama-server failed ({' '.join(step[:2])}):\n{tail}")
            built = work / "build" / "bin" / "llama-server"
            staged = target.with_name(".llama-server.tmp")
            shutil.copy2(built, staged)
            os.replace(staged, target)  # atomic: a reader sees no binary or the whole one
            print(f"built {target} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return target


def wait_ready(port: int, host: str = "127.0.0.1", timeout: float = 180) -> None:
    """Until the server at `port` answers /health with 200 (it answers 503 while its model loads)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.3)
    raise TimeoutError(f"llama-server on {host}:{port} is not ready after {timeout:.0f} s ({last})")


def server_command(
    binary_path: Path,
    model_path: Path,
    *,
    alias: str,
    port: int,
    slots: int,
    n_ctx: int,
    threads: int,
    host: str = "127.0.0.1",
) -> list[str]:
    """llama-server for a model: `slots` answers at once, batched together (continuous batching), each with a
    context of `n_ctx`, and the prompt cache on (a slot keeps its last prompt and reuses the common prefix of the
    next; `--cache-reuse` also shifts reusable chunks of it). /metrics and /props say how busy it is."""
    return [
        str(binary_path),
        "--model",
        str(model_path),
        "--alias",
        alias,
        "--host",
        host,
        "--port",
        str(port),
        "--parallel",
        str(slots),
        "--ctx-size",
        str(n_ctx * slots),
        "--threads",
        str(threads),
        "--threads-batch",
        str(threads),
        "--cache-reuse",
        "256",
        "--metrics",
        "--no-webui",
    ]


def serve_command(
    settings: Settings, model: str, *, port: int | None = None, slots: int | None = None, threads: int | None = None
) -> list[str]:
    """The local server of `model` (a name of config.LOCAL_MODELS) as the settings configure it; the benchmark
    gives its own port, slots and threads."""
    return server_command(
        binary(settings),
        ensure_model(model, settings.llm_cache_dir),
        alias=model,
        port=port or settings.local_model_ports()[model],
        slots=slots or settings.llm_server_slots,
        n_ctx=settings.llm_n_ctx,
        threads=threads or settings.llm_server_threads or os.cpu_count() or 1,
    )


def serve(model: str) -> None:
    """Become llama-server for `model` at its local address (supervisor runs this), at the worker's priority."""
    settings = get_settings()
    if model not in LOCAL_MODELS:
        sys.exit(f"{model} is not a local model; known: {', '.join(LOCAL_MODELS)}")
    if settings.worker_nice is not None:
        set_priority(settings.worker_nice)
    command = serve_command(settings, model)
    env = dict(os.environ)
    if settings.llm_api_key is not None:  # from the environment, never on the command line (`ps` shows that)
        env["LLAMA_API_KEY"] = settings.llm_api_key.get_secret_value()
    os.execve(command[0], command, env)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.llama_server", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build llama-server unless the cache has it; print its path")
    serve_parser = sub.add_parser("serve", help="become llama-server for a local model")
    serve_parser.add_argument("model")
    args = parser.parse_args()
    try:
        if args.command == "build":
            print(build())
        else:
            serve(args.model)
    except BuildError as exc:
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()
