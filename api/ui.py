"""The web UI at `/`: the Angular build's files, and its index.html for any other page, so the UI's own routes
(`/workflows/<id>`) load the app. It answers only what no API route does (the router's 404 for a GET outside `/api`),
so the API's answers are unchanged: an unknown `/api` path is still a JSON 404, a wrong method still a 405."""

import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.exceptions import HTTPException

# `main-ODKTZMM3.js`: a file name with a content hash never changes, so browsers may keep it for good.
HASHED = re.compile(r"-[A-Z0-9]{8}\.(js|css|woff2?|ttf|svg|png)$")
NOT_BUILT = """<!doctype html><title>Conclave</title>
<h1>The web UI is not built</h1>
<p>`make up` builds it; by hand: <code>cd frontend-ui &amp;&amp; npm ci &amp;&amp; npx ng build</code>.
The API is at <a href="/api/health">/api</a>, its documentation at <a href="/docs">/docs</a>.</p>"""


def _file(directory: Path, path: str) -> Path | None:
    """The file `path` names inside the UI's directory, if there is one (never outside it)."""
    relative = path.lstrip("/")
    if not relative:
        return None
    candidate = (directory / relative).resolve()
    if not candidate.is_relative_to(directory.resolve()) or not candidate.is_file():
        return None
    return candidate


def _is_page(request: Request, exc: HTTPException) -> bool:
    path = request.url.path
    return (
        exc.status_code == 404
        and request.method in ("GET", "HEAD")
        and "endpoint" not in request.scope  # no route matched (a handler's own 404 is the API's answer)
        and not (path == "/api" or path.startswith("/api/"))
    )


def install_ui(app: FastAPI, directory: Path) -> None:
    """Serve the UI built into `directory` (looked up per request: a build made after the API started is served)."""

    async def ui_or_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if not _is_page(request, exc):
            return await http_exception_handler(request, exc)
        index = directory / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=404)
        if (file := _file(directory, request.url.path)) is not None:
            cache = "public, max-age=31536000, immutable" if HASHED.search(file.name) else "no-cache"
            return FileResponse(file, headers={"Cache-Control": cache})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.add_exception_handler(HTTPException, ui_or_error)
