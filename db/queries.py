"""Query helpers shared by the API and the activities."""

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def fetch_page(session: Session, stmt: Select[Any], *, skip: int, limit: int) -> tuple[list[Any], int]:
    """One page of `stmt`'s rows and the number of rows it matches in all."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(session.scalars(stmt.offset(skip).limit(limit)))
    return rows, total


def where_given(stmt: Select[Any], **filters: object) -> Select[Any]:
    """`stmt` narrowed to the rows whose column equals each filter's value; a filter that is None narrows nothing."""
    return stmt.filter_by(**{column: value for column, value in filters.items() if value is not None})


def contains_pattern(text: str) -> str:
    """An ILIKE pattern matching `text` anywhere, with LIKE's wildcards in it taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
