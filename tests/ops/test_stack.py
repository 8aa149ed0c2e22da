"""`make up` / `make down` for real: supervisor, the local PostgreSQL cluster, migrations, storage, the Temporal dev
server, the worker and the API process."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from activities.storage import ArtifactStore
from config import CHAT_MODEL, CODE_MODEL, ROOT, Settings
from ops.stack import LOCAL_WORKER_NICE, Stack, StackError
from ops.temporal import SEARCH_ATTRIBUTES, temporal_path
from tests.support import free_port


def listens(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class LocalStack:
    def __init__(self, data_dir: Path) -> None:
        self.api_port, self.pg_port, self.s3_port = free_port(), free_port(), free_port()
        self.temporal_port, self.ui_port = free_port(), free_port()
        self.llm_port = next(p for p in iter(free_port, None) if not listens(p + 1))  # and the next: the coder's
        self.env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the default follows the port
        self.env |= {
            "CONCLAVE_DATA_DIR": str(data_dir),
            "CONCLAVE_PGPORT": str(self.pg_port),
            "API_PORT": str(self.api_port),
            "S3_ENDPOINT": f"127.0.0.1:{self.s3_port}",
            "TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
            "TEMPORAL_UI_URL": f"http://127.0.0.1:{self.ui_port}",
            "LLM_SERVER_PORT": str(self.llm_port),
        }
        self.data_dir = data_dir

    def run(self, command: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "ops.stack", command], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.api_port}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def ctl(self, *args: str) -> str:
        conf = str(self.data_dir / "supervisord.conf")
        ctl = [sys.executable, "-m", "supervisor.supervisorctl", "-c", conf, *args]
        return subprocess.run(ctl, capture_output=True, text=True, check=False).stdout.strip()

    def api_pid(self) -> int:
        return int(self.ctl("pid", "api"))

    def state(self, program: str) -> str:
        """RUNNING, STOPPED, FATAL, ... as `supervisorctl status` shows it."""
        return self.ctl("status", program).split()[1]

    def search_attributes(self) -> str:
        address = f"127.0.0.1:{self.temporal_port}"
        command = [temporal_path(), "operator", "search-attribute", "list", "--address", address]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def web_ui_status(self) -> int:
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.ui_port}/", timeout=5) as response:
                    return response.status
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


@pytest.fixture
def stack():
    data_dir = Path(tempfile.mkdtemp(prefix="conclave-stack-"))
    data_dir.chmod(0o755)  # the cluster's owner (postgres, when we are root) must be able to enter it
    stack = LocalStack(data_dir)
    try:
        yield stack
    finally:
        subprocess.run([sys.executable, "-m", "ops.stack", "down"], cwd=ROOT, env=stack.env, capture_output=True)
        shutil.rmtree(data_dir, ignore_errors=True)


def test_temporal_starts_with_its_search_attributes_again_on_its_file_and_stops(stack, monkeypatch):
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)  # supervisord and its programs inherit them
    monkeypatch.delenv("DATABASE_URL", raising=False)
    local = Stack(Settings())
    for start in ("first start", "restart on the existing temporal.db"):
        local.ensure_supervisor()
        local.start_temporal()
        assert stack.state("temporal") == "RUNNING", start
        listed = stack.search_attributes()
        assert all(name in listed for name in SEARCH_ATTRIBUTES), (start, listed)
        assert stack.web_ui_status() == 200, start
        assert (stack.data_dir / "temporal.db").exists()

        local.down()
        assert not listens(stack.temporal_port) and not listens(stack.ui_port), start


def test_up_runs_the_stack_that_survives_a_crash_and_down_stops_it(stack):
    out = stack.run("up")
    assert "Conclave is up" in out and f":{stack.api_port}/api/health  (ok)" in out
    assert f"Temporal        127.0.0.1:{stack.temporal_port} (namespace default)" in out
    assert f"Temporal Web UI http://127.0.0.1:{stack.ui_port}" in out
    assert (stack.data_dir / "pg" / "data" / "PG_VERSION").exists()
    assert stack.state("temporal") == "RUNNING" and stack.state("worker") == "RUNNING"
    assert stack.web_ui_status() == 200
    if os.geteuid() == 0:  # the model goes ahead of other busy processes: the worker and its session, raised
        worker = int(stack.ctl("pid", "worker"))
        assert os.getpriority(os.PRIO_PROCESS, worker) == LOCAL_WORKER_NICE
        autogroup = Path(f"/proc/{worker}/autogroup")
        assert not autogroup.exists() or autogroup.read_text().split()[-1] == str(LOCAL_WORKER_NICE)

    status, health = stack.call("GET", "/api/health")
    assert status == 200 and health["components"]["database"]["status"] == "up"
    assert health["components"]["storage"]["status"] == "up" and health["components"]["llm"]["status"] == "up"
    # llama.cpp's server for each model of the model map: the coder for the code roles, the small one for the rest
    assert f"{CHAT_MODEL} at http://127.0.0.1:{stack.llm_port}/v1 (product_owner, architect, reviewer" in out
    assert f"{CODE_MODEL} at http://127.0.0.1:{stack.llm_port + 1}/v1 (developer, tester)" in out
    assert stack.state("llm-chat") == "RUNNING" and stack.state("llm-code") == "RUNNING"
    served = {m["model"]: m for m in health["models"]}
    assert {m: (s["status"], s["backend"], s["slots"]) for m, s in served.items()} == {
        CHAT_MODEL: ("up", "server", 4),
        CODE_MODEL: ("up", "server", 4),
    }
    store = ArtifactStore(Settings(s3_endpoint=f"127.0.0.1:{stack.s3_port}"))
    stored = store.put("workflows/x/notes.md", b"# kept\n", "text/markdown")
    status, project = stack.call("POST", "/api/projects", {"name": "survivor", "type": "library"})
    assert status == 201

    # A crashed API is restarted by supervisor; nothing is lost.
    crashed = stack.api_pid()
    os.kill(crashed, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:
        try:
            if stack.call("GET", f"/api/projects/{project['id']}")[0] == 200 and stack.api_pid() != crashed:
                break
        except (OSError, ValueError, subprocess.CalledProcessError):
            pass
        assert time.monotonic() < deadline, "the API was not restarted within 30 s"
        time.sleep(0.3)

    # A second `up` while running is harmless: the same processes keep running.
    running = {program: stack.ctl("pid", program) for program in ("api", "temporal", "worker")}
    assert "Conclave is up" in stack.run("up")
    assert {program: stack.ctl("pid", program) for program in running} == running

    assert "stopped" in stack.run("down")
    with pytest.raises(OSError):
        stack.call("GET", "/api/health")
    assert not listens(stack.temporal_port) and not listens(stack.ui_port)
    assert "not running" in stack.run("status")

    # The data outlives the stack.
    stack.run("up")
    status, again = stack.call("GET", f"/api/projects/{project['id']}")
    assert status == 200 and again["name"] == "survivor"
    assert ArtifactStore(Settings(s3_endpoint=f"127.0.0.1:{stack.s3_port}")).get(stored.key) == b"# kept\n"
    assert stack.state("temporal") == "RUNNING" and stack.state("worker") == "RUNNING"


def test_up_serves_the_model_map_locally_unless_told_otherwise(tmp_path):
    def stack(**settings: object) -> Stack:
        return Stack(Settings(conclave_data_dir=tmp_path, **settings))

    assert stack().llm_backend == "server" and stack().served_models() == [CHAT_MODEL, CODE_MODEL]
    assert stack(llm_role_models={"developer": CHAT_MODEL, "tester": CHAT_MODEL}).served_models() == [CHAT_MODEL]
    assert stack(llm_base_url="http://models.internal/v1").llm_backend == "openai"  # a server of your own
    assert stack(llm_backend="llama_cpp").llm_backend == "llama_cpp"
    with pytest.raises(StackError, match="LLM_ROLE_MODELS names gpt-x, which `make up` cannot serve"):
        stack(llm_role_models={"developer": "gpt-x"}).served_models()
