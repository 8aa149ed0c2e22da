"""Reading Server-Sent Events as a client does, from an API served by a real uvicorn on a real socket."""

import json
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from tests.support import free_port


@dataclass(frozen=True)
class Frame:
    id: int
    event: str
    data: dict[str, Any]


class FrameParser:
    """Turns the lines of a `text/event-stream` into frames (comments, such as keep-alives, are counted apart)."""

    def __init__(self) -> None:
        self._fields: dict[str, str] = {}
        self.comments = 0

    def feed(self, line: str) -> Frame | None:
        if line == "":
            fields, self._fields = self._fields, {}
            if "data" not in fields:
                return None
            return Frame(int(fields["id"]), fields["event"], json.loads(fields["data"]))
        if line.startswith(":"):
            self.comments += 1
        else:
            key, _, value = line.partition(":")
            self._fields[key] = value[1:] if value.startswith(" ") else value
        return None


def frames(lines: Iterable[str]) -> Iterator[Frame]:
    parser = FrameParser()
    for line in lines:
        if (frame := parser.feed(line)) is not None:
            yield frame


def read_stream(
    url: str, count: int | None = None, last_event_id: int | None = None, timeout: float = 30
) -> list[Frame]:
    """The frames of a stream until it ends (or the first `count`, then disconnect)."""
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    got: list[Frame] = []
    with httpx.stream("GET", url, headers=headers, timeout=timeout) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for frame in frames(response.iter_lines()):
            got.append(frame)
            if count is not None and len(got) >= count:
                break
    return got


async def aread_stream(
    client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None
) -> AsyncIterator[Frame]:
    async with client.stream("GET", url, headers={"Accept": "text/event-stream", **(headers or {})}) as response:
        assert response.status_code == 200, await response.aread()
        parser = FrameParser()
        async for line in response.aiter_lines():
            if (frame := parser.feed(line)) is not None:
                yield frame


class Listener(threading.Thread):
    """A client reading a stream in the background: `frames` grows as they arrive; `ended` once the server ends it."""

    def __init__(self, url: str, last_event_id: int | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.last_event_id = url, last_event_id
        self.frames: list[Frame] = []
        self.connected = threading.Event()
        self.ended = False
        self.error: BaseException | None = None
        self._leave = threading.Event()
        self._response: httpx.Response | None = None

    def run(self) -> None:
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        try:
            with httpx.stream("GET", self.url, headers=headers, timeout=httpx.Timeout(10, read=60)) as response:
                assert response.status_code == 200, response.read()
                self._response = response
                self.connected.set()
                for frame in frames(response.iter_lines()):
                    self.frames.append(frame)
                    if self._leave.is_set():
                        return
            self.ended = True
        except BaseException as exc:
            if not self._leave.is_set():  # closing the connection on exit breaks the read off: not an error
                self.error = exc
        finally:
            self.connected.set()

    def open(self) -> "Listener":
        self.start()
        assert self.connected.wait(20), "the stream did not open"
        assert self.error is None, self.error
        return self

    def __enter__(self) -> "Listener":
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self._leave.set()
        if self._response is not None and self.is_alive():
            self._response.close()  # disconnect, as a closed browser tab does

    def wait_for(self, count: int, timeout: float = 20) -> list[Frame]:
        deadline = time.monotonic() + timeout
        while len(self.frames) < count:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, f"{len(self.frames)} of {count} events after {timeout} s"
            time.sleep(0.02)
        return self.frames

    def wait_end(self, timeout: float = 20) -> list[Frame]:
        self.join(timeout)
        assert self.error is None, self.error
        assert self.ended, f"the stream did not end within {timeout} s ({len(self.frames)} events)"
        return self.frames


class LiveServer:
    """An app served by uvicorn in a thread of the test process, on a free port."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on", timeout_graceful_shutdown=3
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "LiveServer":
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=20)
