"""llama.cpp's server for the tests: the binary `make test` builds (ops/llama_server.py), on the small test model."""

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from config import Settings
from ops import llama_server
from tests.support import free_port

TEST_MODEL = "smollm2-135m"


@dataclass
class LlamaServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    command: list[str]
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def binary() -> Path:
    try:
        return llama_server.binary(Settings())
    except llama_server.BuildError as exc:
        pytest.fail(f"{exc} (`make test` builds it before the tests)")


def server_command(model_path: Path, port: int, slots: int = 2, n_ctx: int = 2048) -> list[str]:
    # 2 threads at most: as the stack runs it on this kind of machine (threads = cores, here 2)
    threads = min(os.cpu_count() or 1, 2)
    return llama_server.server_command(
        binary(), model_path, alias=TEST_MODEL, port=port, slots=slots, n_ctx=n_ctx, threads=threads
    )


def start_llama_server(
    model_path: Path, slots: int = 2, api_key: str | None = None, port: int | None = None
) -> LlamaServer:
    """A llama-server on `model_path`, ready (its model loaded); the API key from its environment, as the stack does."""
    port = port or free_port()
    log = Path(tempfile.mkdtemp(prefix="conclave-test-llama-")) / "server.log"
    command = server_command(model_path, port, slots)
    env = {**os.environ, **({"LLAMA_API_KEY": api_key} if api_key else {})}
    process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)
    server = LlamaServer(process, port, log, command, env)
    try:
        llama_server.wait_ready(port, timeout=60)
    except TimeoutError:
        server.stop()
        pytest.fail(f"llama-server did not start: {log.read_text()[-2000:]}")
    return server
