"""Local model servers take turns on the shared cores: one server's requests together, fairly."""

import threading
import time

import pytest

from agents.llm.turns import ServerTurns


class Requests:
    """Requests in threads that hold their turn until released; records who ran when."""

    def __init__(self, turns: ServerTurns) -> None:
        self.turns = turns
        self.inside: set[str] = set()
        self.order: list[str] = []
        self.release: dict[str, threading.Event] = {}
        self.threads: dict[str, threading.Thread] = {}

    def start(self, name: str, server: str) -> None:
        self.release[name] = threading.Event()

        def run() -> None:
            with self.turns.turn(server):
                self.inside.add(name)
                self.order.append(name)
                self.release[name].wait(10)
                self.inside.discard(name)

        self.threads[name] = threading.Thread(target=run, daemon=True)
        self.threads[name].start()
        time.sleep(0.1)  # it has arrived (and entered, or queued)

    def finish(self, name: str) -> None:
        self.release[name].set()
        self.threads[name].join(5)
        time.sleep(0.1)


def test_requests_to_one_server_run_together_and_another_server_waits_its_turn():
    requests = Requests(ServerTurns())
    requests.start("a1", "A")
    requests.start("a2", "A")
    assert requests.inside == {"a1", "a2"}  # one server's requests together: it batches them
    requests.start("b1", "B")
    requests.start("a3", "A")  # came after b1: waits behind it, so B is not starved
    assert requests.inside == {"a1", "a2"}
    requests.finish("a1")
    assert requests.inside == {"a2"}
    requests.finish("a2")
    assert requests.inside == {"b1"}
    requests.finish("b1")
    assert requests.inside == {"a3"}
    requests.finish("a3")
    assert requests.order == ["a1", "a2", "b1", "a3"]


def test_a_request_that_is_no_longer_wanted_stops_waiting():
    turns = ServerTurns()
    holder = Requests(turns)
    holder.start("a", "A")

    def cancelled() -> None:
        raise RuntimeError("the activity was cancelled")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="cancelled"), turns.turn("B", cancelled):
        pass
    assert time.monotonic() - started < 3
    holder.finish("a")
    with turns.turn("B"):  # the queue holds nothing of the cancelled request
        pass
