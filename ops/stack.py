"""`make up` / `make down` / `make status`: the local stack under supervisor.

    python -m ops.stack up       start what is not running (database, migrations, API), then print the URLs
    python -m ops.stack down     stop everything `up` started
    python -m ops.stack status   each process and its state

`up` is idempotent: a second call while the stack runs changes nothing and prints the URLs again.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xmlrpc.client
from pathlib import Path

from sqlalchemy.engine import make_url
from supervisor.xmlrpc import SupervisorTransport

from config import Settings, get_settings
from ops import localdb

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
CONF = ROOT / "ops" / "supervisord.conf"
SOCKET = DATA / "supervisor.sock"
LOCAL_PG_PORT = 55432
RUNNING = {"RUNNING"}


class StackError(RuntimeError):
    pass


def _supervisor() -> xmlrpc.client.ServerProxy:
    transport = SupervisorTransport(None, None, f"unix://{SOCKET}")
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def _supervisor_running() -> bool:
    if not SOCKET.exists():
        return False
    try:
        return _supervisor().supervisor.getState()["statename"] == "RUNNING"
    except (OSError, xmlrpc.client.Fault):
        return False


def _uses_local_database(settings: Settings) -> bool:
    url = make_url(settings.database_url)
    return url.host in ("127.0.0.1", "localhost") and url.port == LOCAL_PG_PORT


def _start_supervisor(settings: Settings) -> None:
    (DATA / "logs").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    try:
        env["PG_BIN"] = str(localdb.bin_dir())
        env["PG_USER"] = localdb.owner()
    except localdb.LocalDbError:
        if _uses_local_database(settings):
            raise
        env.setdefault("PG_BIN", "/nonexistent")  # the postgres program is never started then
        env.setdefault("PG_USER", "nobody")
    env["CONCLAVE_PGPORT"] = str(LOCAL_PG_PORT)
    subprocess.run([sys.executable, "-m", "supervisor.supervisord", "-c", str(CONF)], env=env, check=True, cwd=ROOT)
    deadline = time.monotonic() + 15
    while not _supervisor_running():
        if time.monotonic() > deadline:
            raise StackError(f"supervisord did not start; see {DATA / 'logs' / 'supervisord.log'}")
        time.sleep(0.2)


def _ensure_running(name: str) -> bool:
    """Starts the program unless it runs. Returns True when it was started now."""
    server = _supervisor()
    if server.supervisor.getProcessInfo(name)["statename"] in RUNNING:
        return False
    try:
        server.supervisor.startProcess(name, True)
    except xmlrpc.client.Fault as fault:
        log = DATA / "logs" / f"{name}.log"
        tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
        raise StackError(
            f"{name} did not start ({fault.faultString}); last lines of {log}:\n" + "\n".join(tail)
        ) from fault
    return True


def _migrate() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "head"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(f"migrations failed:\n{result.stderr.strip()}")


def _wait_healthy(settings: Settings, timeout: float = 60) -> dict:
    url = f"http://{_client_host(settings)}:{settings.api_port}/api/health"
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
    raise StackError(f"the API did not become healthy at {url}: {last}; see {DATA / 'logs' / 'api.log'}")


def _client_host(settings: Settings) -> str:
    return "127.0.0.1" if settings.api_host in ("0.0.0.0", "::") else settings.api_host


def up() -> None:
    settings = get_settings()
    local = _uses_local_database(settings)
    if local and localdb.init_cluster(DATA / "pg" / "data"):
        print(f"created a PostgreSQL cluster in {DATA / 'pg' / 'data'}")
    if not _supervisor_running():
        _start_supervisor(settings)
    if local:
        _ensure_running("postgres")
    localdb.wait_ready(settings.database_url)
    if localdb.ensure_database(settings.database_url):
        print(f"created database {make_url(settings.database_url).database}")
    _migrate()
    _ensure_running("api")
    health = _wait_healthy(settings)
    base = f"http://{_client_host(settings)}:{settings.api_port}"
    print()
    print("Conclave is up:")
    print(f"  API            {base}/api")
    print(f"  API docs       {base}/docs")
    print(f"  health         {base}/api/health  ({health['status']})")
    print(f"  database       {settings.database_url_safe}")
    print(f"  processes      .venv/bin/supervisorctl -c ops/supervisord.conf status   (logs in {DATA / 'logs'})")
    print("  stop with      make down")


def down() -> None:
    if not _supervisor_running():
        print("the stack is not running")
        return
    pid_file = DATA / "supervisord.pid"
    _supervisor().supervisor.shutdown()
    deadline = time.monotonic() + 90
    while pid_file.exists() or SOCKET.exists():
        if time.monotonic() > deadline:
            raise StackError("supervisord did not stop within 90 s; see .data/logs/supervisord.log")
        time.sleep(0.2)
    print("the stack is stopped")


def status() -> None:
    if not _supervisor_running():
        print("the stack is not running (start it with `make up`)")
        return
    for info in _supervisor().supervisor.getAllProcessInfo():
        print(f"{info['name']:<10} {info['statename']:<9} {info['description']}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.stack", description=__doc__)
    parser.add_argument("command", choices=("up", "down", "status"))
    command = parser.parse_args().command
    try:
        {"up": up, "down": down, "status": status}[command]()
    except (StackError, localdb.LocalDbError) as exc:
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()
