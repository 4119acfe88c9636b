"""The run's wall-clock budget: one deadline that every phase plans against.

The budget covers the whole command, start-up included: when ``fit`` is entered in a process
that started only moments ago (the ``autopreset fit`` command), the time since the process
started (interpreter and imports) is charged to the budget too.
"""
from __future__ import annotations

import os
import time

__all__ = ["Clock", "process_age"]


def process_age(limit: float = 30.0) -> float:
    """Seconds since this process started, when under ``limit`` (else 0: a long-lived session)."""
    try:
        with open(f"/proc/{os.getpid()}/stat", encoding="ascii") as fh:
            ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        age = uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0
    return age if 0.0 <= age < limit else 0.0


class Clock:
    """Budget bookkeeping on ``time.time()``: ``deadline`` is absolute, ``left()`` in seconds."""

    def __init__(self, budget_s: float, *, already_spent: float = 0.0):
        self.budget_s = float(budget_s)
        self.start = time.time() - float(already_spent)
        self.deadline = self.start + self.budget_s

    def now(self) -> float:
        return time.time()

    def elapsed(self) -> float:
        return time.time() - self.start

    def left(self) -> float:
        return self.deadline - time.time()
