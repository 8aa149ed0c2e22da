"""One model server computes at a time, when several share the same cores.

llama.cpp's threads wait for each other at every step of a generation (OpenMP barriers, spinning). Two servers on
the same cores that generate at once keep descheduling each other's threads: measured on 2 cores, two answers at
the same time took 1.8 to 2.4 times as long as one after the other (bench/README.md, `bench/model_server.py`, the
`pair` section). OpenMP's passive waiting avoids that but makes every answer alone a third slower. So the local
servers take turns: requests to one server run together (it batches them: four at once give 1.7 times the tokens/s
of one), and requests to another wait until they are done. Turns are fair: a request that waits for its server
goes before requests that come later for the busy one.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class ServerTurns:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._serving: str | None = None  # the server whose requests run now
        self._running = 0
        self._queue: list[tuple[str, object]] = []  # (server, ticket) of the requests waiting, oldest first

    def _may_run(self, server: str, ticket: object) -> bool:
        if self._serving not in (None, server):
            return False
        for waiting, other in self._queue:  # no request for another server came before this one
            if other is ticket:
                return True
            if waiting != server:
                return False
        return True

    @contextmanager
    def turn(self, server: str, still_wanted: Callable[[], None] = lambda: None) -> Iterator[None]:
        """Run the block when `server` may compute; `still_wanted` is called about once a second while waiting (it
        raises to give up, e.g. when the activity was cancelled)."""
        ticket = object()
        with self._changed:
            self._queue.append((server, ticket))
            try:
                while not self._may_run(server, ticket):
                    self._changed.wait(timeout=1.0)
                    still_wanted()
            finally:
                self._queue.remove((server, ticket))
                self._changed.notify_all()
            self._serving = server
            self._running += 1
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                if self._running == 0:
                    self._serving = None
                self._changed.notify_all()
