"""The one way to reach the database: an engine built from the settings."""

from sqlalchemy import Engine, create_engine

from config import Settings


def make_engine(settings: Settings) -> Engine:
    return create_engine(
        settings.database_url,
        pool_pre_ping=True,
        # A down database must be reported quickly, never hang a request.
        connect_args={"connect_timeout": settings.database_connect_timeout, "application_name": "conclave"},
    )
