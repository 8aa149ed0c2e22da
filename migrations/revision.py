"""The schema revision this code expects, read from the migration scripts."""

from functools import lru_cache
from pathlib import Path

from alembic.script import ScriptDirectory


@lru_cache
def head_revision() -> str | None:
    return ScriptDirectory(str(Path(__file__).parent)).get_current_head()
