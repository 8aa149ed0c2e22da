"""The one way to reach the database: an engine built from the settings, and sessions on it."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from config import Settings, get_settings


def make_engine(settings: Settings) -> Engine:
    return create_engine(
        settings.database_url,
        pool_pre_ping=True,
        # A down database must be reported quickly, never hang a request.
        connect_args={"connect_timeout": settings.database_connect_timeout, "application_name": "conclave"},
    )


@lru_cache
def get_engine() -> Engine:
    """The process's engine for the configured database (one pool per process)."""
    return make_engine(get_settings())


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back otherwise."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
