"""The one settings object of Conclave: every process reads its configuration from the environment here."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent
LOCAL_PG_PORT = 55432


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
    log_level: str = "info"

    # The local stack of `make up`: where its data and logs live, and the port of its PostgreSQL cluster.
    conclave_data_dir: Path = ROOT / ".data"
    conclave_pgport: int = LOCAL_PG_PORT

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
        return self

    @property
    def database_url_safe(self) -> str:
        """The database URL with its password masked, for logs and messages."""
        return make_url(self.database_url).render_as_string(hide_password=True)


@lru_cache
def get_settings() -> Settings:
    return Settings()
