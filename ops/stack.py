"""`make up` / `make down` / `make status`: the local stack under supervisor.

    python -m ops.stack up       start what is not running (database, migrations, storage, Temporal, model, worker,
                                 API), then print the URLs
    python -m ops.stack down     stop everything `up` started
    python -m ops.stack status   each process and its state

`up` is idempotent: a second call while the stack runs changes nothing and prints the URLs again.
Data and logs go to CONCLAVE_DATA_DIR (default .data/); the local cluster listens on CONCLAVE_PGPORT (55432), the
Temporal dev server on TEMPORAL_ADDRESS (127.0.0.1:7233) with its Web UI at TEMPORAL_UI_URL.
"""

import argparse
import functools
import hashlib
import json
import os
import shutil
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xmlrpc.client
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from supervisor.xmlrpc import Faults, SupervisorTransport

from agents.llm.model import ensure_default_model, ensure_model
from config import CHAT_MODEL, CODE_MODEL, LOCAL_MODELS, ROLES, ROOT, Settings, get_settings
from ops import llama_server, localdb, objectstore, temporal

TEMPLATE = ROOT / "ops" / "supervisord.conf"
# Where a cluster goes when the postgres user cannot enter the checkout (see Stack.cluster_dir).
OUTSIDE_CLUSTERS = Path("/var/lib/conclave")
# Seconds `down` waits for supervisord, which stops one program after another (API, worker, Temporal, storage,
# database), each within its stopwaitsecs in supervisord.conf: at worst their sum.
STOP_TIMEOUT = 200
# The local worker's priority (its session's, see activities/priority.py): beside a CPU-bound process of another
# session a generation runs at 0.66 of its speed alone with the worker at -10, at 0.43 at -5, and collapses at 0 (over
# 7 times slower: bench/README.md). Test runs in the sandbox go 10 below the worker (SANDBOX_NICE).
LOCAL_WORKER_NICE = -10
# The supervisor program of each local model (ops/supervisord.conf).
MODEL_PROGRAMS = {CHAT_MODEL: "llm-chat", CODE_MODEL: "llm-code"}


class StackError(RuntimeError):
    pass


class Stack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data = settings.conclave_data_dir.resolve()
        self.logs = self.data / "logs"
        self.conf = self.data / "supervisord.conf"
        self.socket = self.data / "supervisor.sock"

    # --- supervisor -------------------------------------------------------------------------------------------

    def _rpc(self) -> Any:  # an XML-RPC proxy: its answers are plain dicts and lists
        transport = SupervisorTransport(None, None, f"unix://{self.socket}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def supervisor_running(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            return self._rpc().supervisor.getState()["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Fault):
            return False

    def _write_conf(self) -> None:
        try:
            pg_bin, pg_user = str(localdb.bin_dir()), localdb.owner()
        except localdb.LocalDbError:
            if self.uses_local_database:
                raise
            pg_bin, pg_user = "/nonexistent", "nobody"  # the postgres program is never started then
        text = string.Template(TEMPLATE.read_text()).substitute(
            data=self.data,
            root=ROOT,
            python=sys.executable,
            pg_bin=pg_bin,
            pg_user=pg_user,
            pg_data=self.cluster_dir,
            pg_port=self.settings.conclave_pgport,
            worker_nice=self.worker_nice,
            chat_model=CHAT_MODEL,
            code_model=CODE_MODEL,
            llm_backend=self.llm_backend,
        )
        self.conf.write_text(text)

    @property
    def worker_nice(self) -> int:
        """WORKER_NICE if set; else, as root (who may raise a priority), LOCAL_WORKER_NICE."""
        if self.settings.worker_nice is not None:
            return self.settings.worker_nice
        return LOCAL_WORKER_NICE if os.geteuid() == 0 else 0

    @property
    def llm_backend(self) -> str:
        """The worker's and the API's LLM_BACKEND: `server` (llama.cpp's server per model, run here) unless the
        settings name another backend or a server of their own."""
        s = self.settings
        if s.llm_backend is None and s.llm_base_url is None and not s.llm_services:
            return "server"
        return s.effective_llm_backend

    def ensure_supervisor(self) -> None:
        """Starts supervisord unless it runs."""
        if self.supervisor_running():
            return
        self.logs.mkdir(parents=True, exist_ok=True)
        self._write_conf()
        subprocess.run([sys.executable, "-m", "supervisor.supervisord", "-c", str(self.conf)], check=True, cwd=ROOT)
        deadline = time.monotonic() + 15
        while not self.supervisor_running():
            if time.monotonic() > deadline:
                raise StackError(f"supervisord did not start; see {self.logs / 'supervisord.log'}")
            time.sleep(0.2)

    def ensure_running(self, name: str, wait: bool = True) -> None:
        """Starts the program unless it runs; `wait` for it to stay up for its startsecs."""
        rpc = self._rpc()
        try:
            state = rpc.supervisor.getProcessInfo(name)["statename"]
        except xmlrpc.client.Fault as fault:
            if fault.faultCode != Faults.BAD_NAME:
                raise
            raise StackError(
                f"the running supervisord was started from an older configuration without `{name}`: `make restart`"
            ) from fault
        if state == "RUNNING":
            return
        try:
            rpc.supervisor.startProcess(name, wait)
        except xmlrpc.client.Fault as fault:
            raise self._not_started(name, fault.faultString) from fault

    def _not_started(self, name: str, reason: str) -> StackError:
        log = self.logs / f"{name}.log"
        tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
        return StackError(f"{name} did not start ({reason}); last lines of {log}:\n" + "\n".join(tail))

    # --- database ---------------------------------------------------------------------------------------------

    @property
    def uses_local_database(self) -> bool:
        url = make_url(self.settings.database_url)
        return url.host in ("127.0.0.1", "localhost") and url.port == self.settings.conclave_pgport

    @functools.cached_property
    def cluster_dir(self) -> Path:
        """`<data>/pg/data`; or, when the cluster's owner cannot enter the checkout (one under a 0700 home or temporary
        directory, say), a directory under /var/lib/conclave that `<data>/pg` links to."""
        link = self.data / "pg"
        self.data.mkdir(parents=True, exist_ok=True)
        if not (link / "data" / "PG_VERSION").exists() and not localdb.reachable_by_owner(self.data):
            elsewhere = OUTSIDE_CLUSTERS / hashlib.sha256(str(self.data).encode()).hexdigest()[:12]
            elsewhere.mkdir(parents=True, exist_ok=True)
            elsewhere.chmod(0o755)
            if not link.is_symlink():
                shutil.rmtree(link, ignore_errors=True)  # holds no cluster (checked above): a failed attempt's leftover
                link.symlink_to(elsewhere, target_is_directory=True)
                print(
                    f"the postgres user cannot enter {self.data}: the cluster lives in {elsewhere} (linked from {link})"
                )
        return (link / "data").resolve()

    def migrate(self) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "head"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"migrations failed:\n{result.stderr.strip()}")

    # --- storage, Temporal and model ---------------------------------------------------------------------------

    @property
    def uses_local_storage(self) -> bool:
        host = self.settings.s3_endpoint.rsplit(":", 1)[0]
        return host in ("127.0.0.1", "localhost")

    def start_storage(self) -> None:
        self.ensure_running("storage")
        host, port = self.settings.s3_endpoint.rsplit(":", 1)
        objectstore.wait_ready(host, int(port))

    @property
    def uses_local_temporal(self) -> bool:
        host, _ = temporal.split_address(self.settings.temporal_address)
        return host in ("127.0.0.1", "localhost")

    def start_temporal(self) -> None:
        self.ensure_running("temporal")
        try:
            temporal.wait_ready(*temporal.split_address(self.settings.temporal_address))
        except RuntimeError as exc:
            raise StackError(f"{exc}; see {self.logs / 'temporal.log'}") from exc

    def wait_worker(self, timeout: float = 60) -> None:
        """Until the worker process polls its task queue. Its imports take seconds, so no startsecs tells a worker
        that is about to fail (Temporal unreachable, an import error) from one that works; its poller does. Pollers
        are told apart by the SDK's default identity, `<pid>@<host>`."""
        settings, rpc = self.settings, self._rpc()
        queue = settings.temporal_task_queue
        pid = rpc.supervisor.getProcessInfo("worker")["pid"]

        def polls() -> bool:
            identities = temporal.poller_identities(settings.temporal_address, settings.temporal_namespace, queue)
            return any(identity.startswith(f"{pid}@") for identity in identities)

        deadline = time.monotonic() + timeout
        while not polls():
            info = rpc.supervisor.getProcessInfo("worker")
            if info["statename"] not in ("STARTING", "RUNNING") or info["pid"] != pid:
                raise self._not_started("worker", "it exited")
            if time.monotonic() > deadline:
                raise self._not_started("worker", f"pid {pid} does not poll task queue {queue} after {timeout:.0f} s")
            time.sleep(0.5)

    def served_models(self) -> list[str]:
        """The local models the roles use (LLM_ROLE_MODELS), the default one always."""
        wanted = {CHAT_MODEL, *(self.settings.model_for(role) for role in ROLES)}
        if unknown := sorted(wanted - set(LOCAL_MODELS)):
            raise StackError(
                f"LLM_ROLE_MODELS names {', '.join(unknown)}, which `make up` cannot serve (it serves "
                f"{', '.join(LOCAL_MODELS)}); set LLM_SERVICES for models served elsewhere"
            )
        return [model for model in LOCAL_MODELS if model in wanted]

    def start_model_servers(self) -> list[str]:
        """llama.cpp's server for each model the roles use, each waited for until its model is loaded."""
        try:
            llama_server.binary(self.settings)
        except llama_server.BuildError as exc:
            raise StackError(str(exc)) from exc
        lines, models, ports = [], self.served_models(), self.settings.local_model_ports()
        for model in models:
            ensure_model(model, self.settings.llm_cache_dir)  # assembled here once, not in supervisor's start
            self.ensure_running(MODEL_PROGRAMS[model])
        for model in models:
            program = MODEL_PROGRAMS[model]
            try:
                llama_server.wait_ready(ports[model])
            except TimeoutError as exc:
                raise self._not_started(program, str(exc)) from exc
            roles = [role for role in ROLES if self.settings.model_for(role) == model]
            lines.append(f"{model} at http://127.0.0.1:{ports[model]}/v1 ({', '.join(roles) or 'default'})")
        return lines

    def prepare_model(self) -> list[str]:
        """Start the model servers, or assemble the in-process default model once; describe what the agents use."""
        backend = self.llm_backend
        if backend == "server":
            return self.start_model_servers()
        if backend == "openai":
            return [f"OpenAI-compatible server(s): {self.settings.llm_services or self.settings.llm_base_url}"]
        if backend == "scripted":
            return ["scripted replies (LLM_BACKEND=scripted)"]
        if self.settings.llm_model_path is not None:
            return [str(self.settings.llm_model_path)]
        return [str(ensure_default_model(self.settings.llm_cache_dir))]

    # --- API --------------------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.settings.api_host in ("0.0.0.0", "::") else self.settings.api_host
        return f"http://{host}:{self.settings.api_port}"

    def wait_healthy(self, timeout: float = 60) -> dict:
        url = f"{self.base_url}/api/health"
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}: {exc.read().decode(errors='replace')}"
            except OSError as exc:
                last = str(exc)
            time.sleep(0.5)
        raise StackError(f"the API did not become healthy at {url}: {last}; see {self.logs / 'api.log'}")

    def ui_line(self) -> str:
        if (self.settings.ui_dir / "index.html").is_file():
            return f"{self.base_url}/"
        return f"not built ({self.settings.ui_dir} has no index.html: `make ui` builds it, with Node.js 20.19+)"

    # --- commands ---------------------------------------------------------------------------------------------

    def up(self) -> None:
        if self.uses_local_database and localdb.init_cluster(self.cluster_dir):
            print(f"created a PostgreSQL cluster in {self.cluster_dir}")
        self.ensure_supervisor()
        if self.uses_local_database:
            self.ensure_running("postgres")
        localdb.wait_ready(self.settings.database_url)
        if localdb.ensure_database(self.settings.database_url):
            print(f"created database {make_url(self.settings.database_url).database}")
        self.migrate()
        if self.uses_local_storage:
            self.start_storage()
        if self.uses_local_temporal:
            self.start_temporal()
        models = self.prepare_model()
        self.ensure_running("worker", wait=False)  # its start (imports, connecting to Temporal) overlaps the API's
        self.ensure_running("api")
        self.wait_worker()  # before asking for health, which reports the worker too
        health = self.wait_healthy()
        print()
        print("Conclave is up:")
        print(f"  web UI          {self.ui_line()}")
        print(f"  API             {self.base_url}/api")
        print(f"  API docs        {self.base_url}/docs")
        print(f"  health          {self.base_url}/api/health  ({health['status']})")
        for name, component in health.get("components", {}).items():
            if component.get("status") in ("down", "degraded"):
                print(f"    {name:<14}{component['status']}: {component.get('detail')}")
        print(f"  database        {self.settings.database_url_safe}")
        print(f"  storage (S3)    http://{self.settings.s3_endpoint}  bucket {self.settings.s3_bucket}")
        print(f"  Temporal        {self.settings.temporal_address} (namespace {self.settings.temporal_namespace})")
        print(f"  Temporal Web UI {self.settings.temporal_ui_url}")
        for n, line in enumerate(models):
            print(f"  {'models' if n == 0 else '':<16}{line}")
        print(f"  processes       make status   (logs in {self.logs})")
        print("  stop with       make down")

    def down(self) -> None:
        if not self.supervisor_running():
            print("the stack is not running")
            return
        self._rpc().supervisor.shutdown()
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.socket.exists() or (self.data / "supervisord.pid").exists():
            if time.monotonic() > deadline:
                raise StackError(
                    f"supervisord did not stop within {STOP_TIMEOUT} s; see {self.logs / 'supervisord.log'}"
                )
            time.sleep(0.2)
        print("the stack is stopped")

    def status(self) -> None:
        if not self.supervisor_running():
            print("the stack is not running (start it with `make up`)")
            return
        for info in self._rpc().supervisor.getAllProcessInfo():
            print(f"{info['name']:<10} {info['statename']:<9} {info['description']}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.stack", description=__doc__)
    parser.add_argument("command", choices=("up", "down", "status"))
    command = parser.parse_args().command
    stack = Stack(get_settings())
    try:
        getattr(stack, command)()
    except (StackError, localdb.LocalDbError) as exc:
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()
