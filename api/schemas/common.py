"""Field types and envelopes shared by the API's schemas."""

import math
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema

MAX_JSON_DEPTH = 32


def storable_text(value: str) -> str:
    """PostgreSQL text holds valid UTF-8 without NUL: refuse anything else here rather than fail in the database."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode (no unpaired surrogates)") from exc
    return value


def _storable_json(value: Any, depth: int = 0) -> Any:
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        storable_text(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")
    elif isinstance(value, dict):
        for key, item in value.items():
            storable_text(key)
            _storable_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _storable_json(item, depth + 1)
    return value


Text = Annotated[str, AfterValidator(storable_text)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), AfterValidator(storable_text)
]
ShortText = Annotated[str, StringConstraints(max_length=255), AfterValidator(storable_text)]
Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(storable_text)
]
JsonObject = Annotated[dict[str, Any], AfterValidator(_storable_json)]
# For partial updates: a field that may be left out but not set to null (the schema shows it as non-nullable;
# the model's own validator refuses an explicit null).
Omittable = SkipJsonSchema[None]


class InputModel(BaseModel):
    """Request bodies: unknown fields are an error, so a misspelt field is not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class PartialUpdate(InputModel):
    """A partial update: only the fields sent change; `null` clears an optional field, but not one in NOT_NULL
    (declare those `X | Omittable`, so the schema shows them non-nullable)."""

    NOT_NULL: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _not_null_fields_not_cleared(self) -> Self:
        for field in self.NOT_NULL:
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class ErrorMessage(BaseModel):
    detail: str


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of a list: `total` counts every row that matches the filters, for paging."""

    items: list[ItemT]
    total: int = Field(description="Rows matching the filters, across all pages.")
    skip: int
    limit: int
