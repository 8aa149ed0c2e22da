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
# The models `make up` serves (agents/llm/model.py assembles each from its PyPI parts): a small one for the roles
# that talk and a bigger coder for the roles that write code (LLM_ROLE_MODELS).
CHAT_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"
CODE_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"
LOCAL_MODELS = (CHAT_MODEL, CODE_MODEL)
ROLES = ("product_owner", "architect", "developer", "reviewer", "tester", "devops", "tech_writer")
# The default model map: the roles that write code on the coder, every other role on CHAT_MODEL.
DEFAULT_ROLE_MODELS = {"developer": CODE_MODEL, "tester": CODE_MODEL}


def user_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "conclave"


def local_database_url(port: int = LOCAL_PG_PORT) -> str:
    """The project-local cluster that `make up` starts (trust auth, loopback only)."""
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/conclave"


class Settings(BaseSettings):
    """Every setting of Conclave, read from the environment (or a `.env` file in the project root).

    docs/configuration.md is generated from this class (`python -m scripts.config_doc`): each field's description
    is what a reader sees there, so keep it true.
    """

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "production"] = Field(
        default="development",
        description="`production` refuses the local default database, a `*` CORS origin, the local S3 key pair and "
        "the scripted model.",
    )
    database_url: str = Field(
        default=local_database_url(),
        description="PostgreSQL; `postgresql://` URLs are accepted too. The default is the local cluster `make up` "
        "runs (on CONCLAVE_PGPORT); any other URL makes `make up` use that server instead (it creates the database "
        "if missing and migrates it).",
    )
    database_connect_timeout: int = Field(
        default=3, description="Seconds to wait for a database connection before reporting the database down."
    )

    api_host: str = Field(default="127.0.0.1", description="The address the API listens on.")
    api_port: int = Field(default=8000, description="The port the API listens on.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default=["http://localhost:4200"],
        description="Comma-separated origins allowed to call the API from a browser "
        "(`http://localhost:4200,https://conclave.example`).",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, description="Largest request body the API accepts; larger ones get 413."
    )
    ui_dir: Path = Field(
        default=ROOT / "frontend-ui" / "dist" / "frontend-ui" / "browser",
        description="The built web UI the API serves at `/` (`make up` builds frontend-ui/ there).",
    )
    log_level: str = Field(default="info", description="uvicorn's log level.")
    sse_keepalive_seconds: Annotated[float, Field(gt=0)] = Field(
        default=15, description="Seconds between keep-alive comments on an idle event stream (Server-Sent Events)."
    )
    sse_subscriber_buffer: Annotated[int, Field(ge=1)] = Field(
        default=1000,
        description="Events one stream may queue; a slower client reads from the table instead, so a slow client "
        "costs at most this much memory.",
    )

    conclave_data_dir: Path = Field(
        default=ROOT / ".data", description="Where `make up` keeps the local cluster, supervisor's files and the logs."
    )
    conclave_pgport: int = Field(
        default=LOCAL_PG_PORT, description="Port of the local PostgreSQL cluster (the default DATABASE_URL follows it)."
    )

    llm_backend: Literal["llama_cpp", "server", "openai", "scripted"] | None = Field(
        default=None,
        description="The agents' models: `server` (llama.cpp's server for each model of LLM_ROLE_MODELS, on "
        "127.0.0.1 from LLM_SERVER_PORT on: what `make up` runs when this and LLM_BASE_URL are unset), `llama_cpp` "
        "(in-process, one model for every role: the command line's and the tests' default), `openai` (your own "
        "OpenAI-compatible servers: LLM_SERVICES, else LLM_BASE_URL; chosen when LLM_BASE_URL is set) or "
        "`scripted` (deterministic replies, for tests; refused in production).",
    )
    llm_role_models: dict[str, str] = Field(
        default={},
        description=f'The model map, role -> model, as JSON (`{{"reviewer": "..."}}`), over the default one: '
        f"developer and tester on `{CODE_MODEL}`, every other role on `{CHAT_MODEL}`. A new agent takes its role's "
        "model; an agent's own `model` goes to the service of that name (unknown names: to the default model's).",
    )
    llm_services: dict[str, str] = Field(
        default={},
        description="With `openai`: model -> OpenAI-compatible base URL, as JSON; models not listed go to "
        "LLM_BASE_URL.",
    )
    llm_server_port: int = Field(
        default=8081,
        description=f"With `server`: the port of `{CHAT_MODEL}`'s llama-server; `{CODE_MODEL}`'s is the next one.",
    )
    llm_server_slots: Annotated[int, Field(ge=1, le=64)] = Field(
        default=4,
        description="With `server`: parallel slots of each llama-server (answers it generates at once, batched "
        "together), each with a context of LLM_N_CTX.",
    )
    llm_server_threads: Annotated[int, Field(ge=0)] = Field(
        default=0, description="With `server`: CPU threads of each llama-server; 0 is one per core."
    )
    llm_server_bin: Path | None = Field(
        default=None,
        description="A llama-server binary to run instead of the one `make up` builds from llama-cpp-python's "
        "llama.cpp (cached under ~/.cache/conclave/llama-server).",
    )
    llm_model_path: Path | None = Field(
        default=None, description="A GGUF file for the in-process backend; unset means the default model."
    )
    llm_cache_dir: Path = Field(
        default=user_cache_dir() / "models", description="Where the default model is assembled (once, about 470 MB)."
    )
    llm_base_url: str | None = Field(
        default=None,
        description="An OpenAI-compatible server, e.g. `http://127.0.0.1:8080/v1` (llama-server, vLLM, ...).",
    )
    llm_api_key: SecretStr | None = Field(
        default=None, description="The key of LLM_BASE_URL's server, sent as a bearer token and never logged."
    )
    llm_n_ctx: int = Field(default=8192, description="Context window (tokens) of the in-process model.")
    llm_n_threads: int = Field(
        default=0,
        description="CPU threads of the in-process model, for the prompt and the generation; 0 is one per core. "
        "OpenMP's own OMP_WAIT_POLICY / GOMP_SPINCOUNT pass through (measured: leave them unset, see "
        "bench/README.md).",
    )
    llm_timeout: float = Field(default=600, description="Seconds an OpenAI-compatible server may take for one answer.")
    llm_wait_for_server: Annotated[float, Field(ge=0)] = Field(
        default=60,
        description="Seconds a model call waits for its server to take it (refused, or 503 while its model loads: "
        "a restart) before the call fails and Temporal retries the activity.",
    )
    llm_scripted_delay: float = Field(
        default=0.0,
        description="Seconds the scripted backend waits per piece of text (lets tests catch a turn mid-generation).",
    )

    s3_endpoint: str = Field(
        default=f"127.0.0.1:{LOCAL_S3_PORT}",
        description="The S3 API for artifacts (host:port): MinIO, AWS, or the local `rclone serve s3`. A local "
        "address makes `make up` run `rclone serve s3` there.",
    )
    s3_access_key: str = Field(
        default=LOCAL_S3_ACCESS_KEY,
        description="S3 access key; the default is the local pair's, production must set its own.",
    )
    s3_secret_key: SecretStr = Field(
        default=SecretStr(LOCAL_S3_SECRET_KEY),
        description="S3 secret key; the default is the local pair's, production must set its own.",
    )
    s3_bucket: str = Field(default="conclave-artifacts", description="The artifacts' bucket (created when missing).")
    s3_secure: bool = Field(default=False, description="Talk to S3 over HTTPS.")
    s3_region: str = Field(default="us-east-1", description="The bucket's region.")

    temporal_address: str = Field(
        default="127.0.0.1:7233",
        description="The Temporal frontend, where runs execute; a local address makes `make up` run the dev "
        "server there.",
    )
    temporal_namespace: str = Field(default="default", description="The Temporal namespace of every run.")
    temporal_ui_url: str = Field(
        default="http://127.0.0.1:8233", description="The Temporal Web UI (its port is the dev server's `--ui-port`)."
    )
    temporal_task_queue: str = Field(
        default="conclave",
        description="The workflows' and database activities' task queue. Model activities poll `<queue>-llm` (so "
        "a long generation never holds up bookkeeping), Jira and Confluence syncs `<queue>-integrations`, test "
        "runs `<queue>-sandbox`.",
    )
    llm_concurrency: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description="Model activities one worker runs at once. Unset: one per slot of the model servers with "
        "`server` (LLM_SERVER_SLOTS for each model), 4 with `openai`, else 1 (a llama.cpp model in the process "
        "generates one answer at a time).",
    )
    worker_nice: Annotated[int, Field(ge=-20, le=19)] | None = Field(
        default=None,
        description="The scheduling priority (nice) of the worker, set on its process and its session. Below 0 the "
        "model's generation goes ahead of other busy processes of the machine (beside one it keeps 0.66 of its "
        "speed at -10, and runs over 7 times slower at 0: bench/README.md); it needs root. Unset: as started "
        "(`make up` starts the worker at -10 when it runs as root).",
    )
    activity_heartbeat_timeout: float = Field(
        default=30,
        description="Seconds without a heartbeat before Temporal retries a model activity elsewhere (its worker "
        "is presumed dead).",
    )

    sandbox_concurrency: Annotated[int, Field(ge=1)] = Field(
        default=2, description="Test runs of the agents' code one worker does at once (on the `<queue>-sandbox` queue)."
    )
    sandbox_wall_seconds: Annotated[float, Field(gt=0)] = Field(
        default=60, description="Wall-time limit of one test run in the sandbox, in seconds."
    )
    sandbox_cpu_seconds: Annotated[int, Field(ge=1)] = Field(
        default=30, description="CPU-time limit of one test run in the sandbox, in seconds."
    )
    sandbox_memory_mb: Annotated[int, Field(ge=64)] = Field(
        default=1024, description="Memory limit of one test run in the sandbox, in MB."
    )
    sandbox_nice: Annotated[int, Field(ge=0, le=19)] = Field(
        default=10,
        description="Scheduling priority (nice) of test runs, on their process and session, so that they yield "
        "the cores to the model's generation (bench/README.md).",
    )

    jira_url: str | None = Field(
        default=None,
        description="Jira (Cloud or Server/Data Center) for the projects that turn it on (`jira_enabled`); Jira "
        "is off unless this is set.",
    )
    jira_username: str | None = Field(default=None, description="The Jira account (basic auth with an API token).")
    jira_api_token: SecretStr | None = Field(
        default=None, description="The Jira account's API token (or password); never logged or returned."
    )
    confluence_url: str | None = Field(
        default=None,
        description="Confluence (Cloud: `https://<site>.atlassian.net/wiki`) for the projects that turn it on "
        "(`confluence_enabled`); Confluence is off unless this is set.",
    )
    confluence_username: str | None = Field(
        default=None, description="The Confluence account (basic auth with an API token)."
    )
    confluence_api_token: SecretStr | None = Field(
        default=None, description="The Confluence account's API token (or password); never logged or returned."
    )
    integration_timeout: Annotated[float, Field(gt=0)] = Field(
        default=15, description="Seconds one Jira or Confluence request may take."
    )
    integration_max_attempts: Annotated[int, Field(ge=1, le=20)] = Field(
        default=5,
        description="Attempts of a sync (with backoff) before the run records it as failed and goes on.",
    )
    public_url: str = Field(
        default="http://localhost:8000",
        description="Where people reach Conclave: the links from Jira issues and Confluence pages back to a run "
        "and its files.",
    )

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

    @field_validator("llm_role_models")
    @classmethod
    def _roles_exist(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(ROLES))
        if unknown:
            raise ValueError(f"LLM_ROLE_MODELS names no such role: {', '.join(unknown)} (roles: {', '.join(ROLES)})")
        return value

    @property
    def effective_llm_backend(self) -> Literal["llama_cpp", "server", "openai", "scripted"]:
        if self.llm_backend:
            return self.llm_backend
        return "openai" if self.llm_base_url or self.llm_services else "llama_cpp"

    def model_for(self, role: str) -> str:
        """The model of a role's new agents (LLM_ROLE_MODELS)."""
        return self.llm_role_models.get(role) or DEFAULT_ROLE_MODELS.get(role, CHAT_MODEL)

    def local_model_ports(self) -> dict[str, int]:
        """With `server`: each local model's port."""
        return {model: self.llm_server_port + n for n, model in enumerate(LOCAL_MODELS)}

    def model_services(self) -> dict[str, str]:
        """Model -> base URL of the OpenAI-compatible server that runs it (`server` and `openai`)."""
        if self.effective_llm_backend == "server":
            return {model: f"http://127.0.0.1:{port}/v1" for model, port in self.local_model_ports().items()}
        if self.effective_llm_backend == "openai":
            return dict(self.llm_services)
        return {}

    @property
    def default_model_service(self) -> str | None:
        """Where a model that no service names goes: the default model's server, or LLM_BASE_URL."""
        if self.effective_llm_backend == "server":
            return self.model_services()[CHAT_MODEL]
        return self.llm_base_url

    @property
    def effective_llm_concurrency(self) -> int:
        if self.llm_concurrency is not None:
            return self.llm_concurrency
        backend = self.effective_llm_backend
        if backend == "server":
            return self.llm_server_slots * len(LOCAL_MODELS)
        return 4 if backend == "openai" else 1

    @property
    def database_url_safe(self) -> str:
        """The database URL with its password masked, for logs and messages."""
        return make_url(self.database_url).render_as_string(hide_password=True)


@lru_cache
def get_settings() -> Settings:
    return Settings()
