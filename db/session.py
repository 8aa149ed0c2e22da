"""The one way to reach the database: an engine built from the settings, and a transaction helper."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from config import Settings, get_settings


def make_engine(settings: Settings) -> Engine:
    return create_engine(
        settings.database_url,
        pool_pre_ping=True,
        # A down database must be reported quickly, never hang a request.
        connect_args={"connect_timeout": settings.database_connect_timeout, "application_name": "conclave"},
    )


def libpq_url(settings: Settings) -> str:
    """The database URL for psycopg itself (outside SQLAlchemy), e.g. for a LISTEN connection."""
    return make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(settings: Settings | None = None) -> Engine:
    """The process's engine for this database (activities and command-line tools share it)."""
    url = (settings or get_settings()).database_url
    with _engines_lock:
        if url not in _engines:
            _engines[url] = make_engine(settings or get_settings())
        return _engines[url]


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work commits at the end of the block, or rolls back if the block raises."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
