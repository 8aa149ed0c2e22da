"""The one settings object of Conclave: every process reads its configuration from the environment here."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent
LOCAL_PG_PORT = 55432
LOCAL_S3_PORT = 9000
# The local object store of `make up` (rclone serve s3) accepts this key pair; production must set its own.
LOCAL_S3_ACCESS_KEY = "conclave"
LOCAL_S3_SECRET_KEY = "conclave-local-secret"


def _user_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "conclave"


def local_database_url(port: int = LOCAL_PG_PORT) -> str:
    """The project-local cluster that `make up` starts (trust auth, loopback only)."""
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/conclave"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "production"] = "development"
    # Defaults to the local cluster of `make up` (on CONCLAVE_PGPORT).
    database_url: str = local_database_url()
    # Seconds to wait for a database connection before calling it down.
    database_connect_timeout: int = 3

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Comma-separated list in the environment: CORS_ORIGINS=http://localhost:4200,https://conclave.example
    cors_origins: Annotated[list[str], NoDecode] = ["http://localhost:4200"]
    # Largest request body the API accepts; larger ones get 413.
    max_body_bytes: int = 1024 * 1024
    # The built web UI (`ng build` of frontend-ui/, which `make up` runs) that the API serves at `/`.
    ui_dir: Path = ROOT / "frontend-ui" / "dist" / "frontend-ui" / "browser"
    log_level: str = "info"
    # Server-Sent Events: seconds between keep-alive comments, and the events a stream may queue before it falls
    # back to reading the table (a slow client costs at most this much memory).
    sse_keepalive_seconds: Annotated[float, Field(gt=0)] = 15
    sse_subscriber_buffer: Annotated[int, Field(ge=1)] = 1000

    # The local stack of `make up`: where its data and logs live, and the port of its PostgreSQL cluster.
    conclave_data_dir: Path = ROOT / ".data"
    conclave_pgport: int = LOCAL_PG_PORT

    # The agents' model. Backend: `llama_cpp` (in-process, the default), `openai` (any OpenAI-compatible server at
    # LLM_BASE_URL, chosen automatically when that is set) or `scripted` (deterministic replies, for tests).
    llm_backend: Literal["llama_cpp", "openai", "scripted"] | None = None
    # Any GGUF file; unset means the default model, assembled once into LLM_CACHE_DIR.
    llm_model_path: Path | None = None
    llm_cache_dir: Path = _user_cache_dir() / "models"
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    # Context window (tokens) and CPU threads of the in-process model; 0 threads = one per core.
    llm_n_ctx: int = 8192
    llm_n_threads: int = 0
    # Seconds an OpenAI-compatible server may take for one completion.
    llm_timeout: float = 600
    # Seconds the scripted backend waits per piece of text (lets tests catch a turn mid-generation).
    llm_scripted_delay: float = 0.0

    # Artifacts go to S3 (MinIO, AWS, or the local `rclone serve s3` of `make up`).
    s3_endpoint: str = f"127.0.0.1:{LOCAL_S3_PORT}"
    s3_access_key: str = LOCAL_S3_ACCESS_KEY
    s3_secret_key: SecretStr = SecretStr(LOCAL_S3_SECRET_KEY)
    s3_bucket: str = "conclave-artifacts"
    s3_secure: bool = False
    s3_region: str = "us-east-1"

    # Temporal: where runs execute. `make up` starts a dev server here (Web UI at TEMPORAL_UI_URL).
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_url: str = "http://127.0.0.1:8233"
    # Workflows and database activities poll this queue; model activities poll "<queue>-llm", so a long
    # generation never holds up bookkeeping.
    temporal_task_queue: str = "conclave"
    # Model activities one worker runs at once: one per loaded model (a llama.cpp model generates one at a time).
    llm_concurrency: int = 1
    # The worker's scheduling priority (nice, -20 to 19), set on its process and its session (activities/priority.py).
    # Negative puts the model's generation ahead of the other processes of the machine (beside a busy one it runs at
    # 0.66 of its speed at -10, and over 7 times slower at 0: bench/README.md); it needs root. Unset: as started
    # (`make up` starts the worker at -10 when it runs as root).
    worker_nice: Annotated[int, Field(ge=-20, le=19)] | None = None
    # Seconds without a heartbeat after which Temporal retries a model activity elsewhere (e.g. its worker died).
    activity_heartbeat_timeout: float = 30

    # The sandbox that runs the agents' code and its tests (on the "<queue>-sandbox" task queue): test runs one
    # worker does at once, and the limits of one run (wall time, CPU time, memory); see activities/sandbox.py.
    sandbox_concurrency: Annotated[int, Field(ge=1)] = 2
    sandbox_wall_seconds: Annotated[float, Field(gt=0)] = 60
    sandbox_cpu_seconds: Annotated[int, Field(ge=1)] = 30
    sandbox_memory_mb: Annotated[int, Field(ge=64)] = 1024
    # The scheduling priority of test runs (nice, 0-19): they yield the cores to the model (bench/README.md).
    sandbox_nice: Annotated[int, Field(ge=0, le=19)] = 10

    # Jira and Confluence mirror each run of a project that turns them on (`jira_enabled`, `confluence_enabled`);
    # both are off unless their URL is set. Basic auth with an API token works for Cloud and Server/Data Center.
    jira_url: str | None = None
    jira_username: str | None = None
    jira_api_token: SecretStr | None = None
    confluence_url: str | None = None
    confluence_username: str | None = None
    confluence_api_token: SecretStr | None = None
    # Seconds one Jira or Confluence request may take, and attempts of a sync before a run records it as failed.
    integration_timeout: Annotated[float, Field(gt=0)] = 15
    integration_max_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    # Where people reach Conclave: the links in Jira issues and Confluence pages back to a run and its artifacts.
    public_url: str = "http://localhost:8000"

    @model_validator(mode="before")
    @classmethod
    def _default_database_follows_local_port(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("database_url") and data.get("conclave_pgport"):
            data = {**data, "database_url": local_database_url(int(data["conclave_pgport"]))}
        return data

    @field_validator("database_url")
    @classmethod
    def _use_psycopg3(cls, value: str) -> str:
        """Accept the usual `postgresql://` URLs and pin SQLAlchemy to the psycopg 3 driver."""
        for prefix in ("postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production_defaults(self) -> "Settings":
        if self.environment == "production":
            if self.database_url == local_database_url(self.conclave_pgport):
                raise ValueError("DATABASE_URL must be set explicitly when ENVIRONMENT=production")
            if "*" in self.cors_origins:
                raise ValueError("CORS_ORIGINS may not be '*' when ENVIRONMENT=production")
            if self.s3_secret_key.get_secret_value() == LOCAL_S3_SECRET_KEY:
                raise ValueError("S3_ACCESS_KEY and S3_SECRET_KEY must be set when ENVIRONMENT=production")
            if self.effective_llm_backend == "scripted":
                raise ValueError("LLM_BACKEND=scripted is for tests only, not ENVIRONMENT=production")
        return self

    @property
    def effective_llm_backend(self) -> Literal["llama_cpp", "openai", "scripted"]:
        if self.llm_backend:
            return self.llm_backend
        return "openai" if self.llm_base_url else "llama_cpp"

    @property
    def database_url_safe(self) -> str:
        """The database URL with its password masked, for logs and messages."""
        return make_url(self.database_url).render_as_string(hide_password=True)


@lru_cache
def get_settings() -> Settings:
    return Settings()
