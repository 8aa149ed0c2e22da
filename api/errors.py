"""Error handling: every failure becomes `{"detail": ...}` with the right status, never a stack trace."""

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.schemas.common import ErrorMessage, storable_text

log = logging.getLogger("conclave.api")

# Documented error answers (OpenAPI), so clients generated from the schema know them.
NOT_FOUND: dict[int | str, dict] = {404: {"model": ErrorMessage, "description": "No such id"}}
CONFLICT: dict[int | str, dict] = {
    409: {"model": ErrorMessage, "description": "The run is not in a state that allows this."}
}
UNAVAILABLE: dict[int | str, dict] = {503: {"model": ErrorMessage, "description": "Temporal is down."}}
COMMON_ERRORS: dict[int | str, dict] = {
    400: {"model": ErrorMessage, "description": "The body could not be read (e.g. not UTF-8)"},
    409: {"model": ErrorMessage, "description": "Conflicts with a concurrent change"},
    413: {"model": ErrorMessage, "description": "Request body too large"},
    503: {"model": ErrorMessage, "description": "The database is unavailable"},
}


def invalid(field: str, message: str) -> RequestValidationError:
    """A 422 in FastAPI's own shape for a body field, for checks that need the database (a referenced id must
    exist) or several fields at once."""
    return RequestValidationError([{"type": "value_error", "loc": ("body", field), "msg": message, "input": None}])


def _echoable(value: object) -> bool:
    """Only small, JSON-safe inputs are echoed back in a 422 (never a 1 MiB string, never NaN or infinity)."""
    if value is None or isinstance(value, bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if not isinstance(value, str) or len(value) > 200:
        return False
    try:
        storable_text(value)
    except ValueError:
        return False
    return True


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        shown = {"type": error["type"], "loc": list(error["loc"]), "msg": error["msg"]}
        if _echoable(error.get("input")):
            shown["input"] = error.get("input")
        if ctx := error.get("ctx"):
            shown["ctx"] = {key: str(value) for key, value in ctx.items()}
        errors.append(shown)
    return JSONResponse({"detail": errors}, status_code=422)


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # Reached only by a race the handlers' own checks could not see (e.g. a row deleted meanwhile).
    log.warning("integrity error on %s %s: %s", request.method, request.url.path, getattr(exc, "orig", exc))
    return JSONResponse({"detail": "The request conflicts with the current data; reload and try again."}, 409)


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    log.warning("data error on %s %s: %s", request.method, request.url.path, getattr(exc, "orig", exc))
    return JSONResponse({"detail": "A value does not fit its column (too long, out of range or malformed)."}, 422)


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.error("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return JSONResponse({"detail": "The database is unavailable; see /api/health."}, 503)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(OperationalError, _database_unavailable)


class BodySizeLimit:
    """Refuses request bodies over `max_bytes` with 413, whether announced by Content-Length or streamed."""

    # An oversized body is read and dropped up to this many times the limit before the 413 goes out, so the client
    # gets the answer instead of a connection reset; past that the connection is simply closed after the answer.
    DRAIN_FACTOR = 32

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            if int(declared) <= self.max_bytes * self.DRAIN_FACTOR:
                await self._drain(receive)
            await self._too_large(scope, receive, send)
            return
        # Read the body (bounded) before the app sees it, then hand it over in one message.
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                if message.get("more_body", False):
                    await self._drain(receive, already=size)
                await self._too_large(scope, receive, send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        first = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([first], receive), send)

    async def _drain(self, receive: Receive, already: int = 0) -> None:
        size = already
        while size <= self.max_bytes * self.DRAIN_FACTOR:
            message = await receive()
            if message["type"] != "http.request":
                return
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {"detail": f"Request body too large: the limit is {self.max_bytes} bytes."}, status_code=413
        )
        await response(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replaying_receive() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return replaying_receive
