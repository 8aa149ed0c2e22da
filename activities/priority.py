"""Scheduling priority: the worker's (the model generates ahead of other busy processes) and its test runs' (they
yield the cores to the model).

Where Linux groups processes by session for scheduling (`sched_autogroup_enabled`, on most desktops and on this
machine), it first shares the CPU between the sessions' autogroups, and only then between the processes of one group
by their nice value. A nice value alone therefore does nothing against a busy process of another session (a test
run, which starts a session of its own; a user's compile): each session gets its share of the cores, and the model's
threads, which wait for each other at every step, fall to a tenth of their speed (measured: bench/threads.py). So
each priority is set twice: on the process, whose threads inherit it, and on its session's autogroup.
"""

import contextlib
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)
AUTOGROUP = Path("/proc/self/autogroup")


def set_priority(nice: int) -> bool:
    """Set this process's nice value and its session's (a negative one needs root); False when not allowed."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    except PermissionError:
        return False
    _set_autogroup(nice)
    return True


def lower_priority(by: int) -> None:
    """In a process that just started a session of its own (a test run): `by` below the process that started it."""
    nice = os.nice(by)
    _set_autogroup(nice)


def _set_autogroup(nice: int) -> None:
    # No autogroups on this kernel (or not allowed): the process's own value still holds.
    with contextlib.suppress(OSError):
        AUTOGROUP.write_text(str(nice))
