"""What every router uses: the database session, the settings and paging parameters, `get_or_404` and `paginate`."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Query, Request
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.orm import Session

from api.schemas.common import Page
from config import Settings
from db.queries import fetch_page

MAX_PAGE_SIZE = 500
ModelT = TypeVar("ModelT")
OutT = TypeVar("OutT", bound=BaseModel)


def get_db(request: Request) -> Iterator[Session]:
    """A session per request; handlers commit what they change, anything uncommitted is rolled back."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


def get_app_settings(request: Request) -> Settings:
    """The settings the app was made with (`create_app(settings)`)."""
    settings: Settings = request.app.state.settings
    return settings


@dataclass(frozen=True)
class Paging:
    skip: int
    limit: int


def get_paging(
    skip: Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Rows to return (at most 500).")] = 100,
) -> Paging:
    return Paging(skip=skip, limit=limit)


SessionDep = Annotated[Session, Depends(get_db)]
PagingDep = Annotated[Paging, Depends(get_paging)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_or_404(session: Session, model: type[ModelT], key: object, what: str) -> ModelT:
    row = session.get(model, key)
    if row is None:
        raise HTTPException(status_code=404, detail=f"{what} {key} not found")
    return row


def paginate(session: Session, stmt: Select[Any], paging: Paging, schema: type[OutT]) -> Page[OutT]:
    rows, total = fetch_page(session, stmt, skip=paging.skip, limit=paging.limit)
    return Page[schema](  # type: ignore[valid-type]
        items=[schema.model_validate(r) for r in rows], total=total, skip=paging.skip, limit=paging.limit
    )
