"""A project-local PostgreSQL cluster from the system's binaries: used by `make up` and by the test suite.

PostgreSQL refuses to run as root, so when we are root the cluster belongs to the `postgres` user and its
commands run through `runuser`. The cluster trusts connections from loopback only: it is a developer's database.
"""

import glob
import os
import pwd
import re
import shutil
import subprocess
import time
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url


class LocalDbError(RuntimeError):
    """Something the user must fix (missing binaries, unusable directory); the message says what."""


def bin_dir() -> Path:
    """The directory holding `postgres`, `initdb` and `pg_ctl`: $PG_BIN, else the newest Debian install."""
    if explicit := os.environ.get("PG_BIN"):
        return Path(explicit)
    candidates = glob.glob("/usr/lib/postgresql/*/bin/postgres")
    if candidates:
        newest = max(candidates, key=lambda p: int(re.search(r"/postgresql/(\d+)/", p).group(1)))  # type: ignore[union-attr]
        return Path(newest).parent
    if found := shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    raise LocalDbError(
        "PostgreSQL server binaries not found: install them (`apt-get install postgresql`, as `make up` does) "
        "or set PG_BIN to the directory holding initdb and postgres"
    )


def owner() -> str:
    """The user the cluster runs as: `postgres` when we are root (PostgreSQL refuses root), else ourselves."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise LocalDbError(
            "running as root needs a 'postgres' user to own the cluster (the postgresql package adds it)"
        ) from exc
    return "postgres"


def as_owner(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _give_to_owner(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(owner())
        os.chown(path, entry.pw_uid, entry.pw_gid)


def reachable_by_owner(path: Path) -> bool:
    """Whether the cluster's owner can enter `path` (a parent closed to other users, like a 0700 home, blocks it)."""
    if os.geteuid() != 0:
        return os.access(path, os.X_OK)
    return subprocess.run(as_owner(["test", "-x", str(path)]), check=False, cwd="/").returncode == 0


def init_cluster(data_dir: Path) -> bool:
    """Creates the cluster in `data_dir` unless one is there. Returns True when it created one."""
    if (data_dir / "PG_VERSION").exists():
        return False
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    _give_to_owner(data_dir)
    if not reachable_by_owner(data_dir):
        raise LocalDbError(f"the {owner()} user cannot reach {data_dir}: a parent directory is closed to other users")
    result = subprocess.run(
        as_owner(
            [
                str(bin_dir() / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ]
        ),
        capture_output=True,
        text=True,
        check=False,
        cwd=data_dir,  # the owner may not be allowed into our working directory
    )
    if result.returncode != 0:
        raise LocalDbError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")
    return True


def server_args(data_dir: Path, port: int, socket_dir: Path | None = None, *, durable: bool = True) -> list[str]:
    """The `postgres` command line for a loopback-only server on `port`."""
    args = [str(bin_dir() / "postgres"), "-D", str(data_dir), "-p", str(port), "-c", "listen_addresses=127.0.0.1"]
    args += ["-c", f"unix_socket_directories={socket_dir or ''}"]
    if not durable:  # test clusters are thrown away: trade crash safety for speed
        args += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    return args


def _admin_conninfo(url: str, dbname: str = "postgres") -> str:
    u = make_url(url)
    return psycopg.conninfo.make_conninfo(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password or None,
        dbname=dbname,
        connect_timeout=3,
    )


def wait_ready(url: str, timeout: float = 60.0) -> None:
    """Waits until the server behind `url` accepts connections (to its maintenance database)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(_admin_conninfo(url)):
                return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise LocalDbError(
                    f"PostgreSQL at {make_url(url).render_as_string(hide_password=True)} not ready: {exc}"
                ) from exc
            time.sleep(0.3)


def ensure_database(url: str) -> bool:
    """Creates the database named in `url` unless it exists. Returns True when it created it."""
    name = make_url(url).database
    if not name:
        raise LocalDbError("the database URL names no database")
    with psycopg.connect(_admin_conninfo(url), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def drop_database(url: str) -> None:
    name = make_url(url).database
    if not name:
        raise LocalDbError("the database URL names no database")
    with psycopg.connect(_admin_conninfo(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
