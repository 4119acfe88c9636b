"""The run's wall-clock budget: the one owner of "how much time is left for X".

The budget covers the whole command, start-up included: when ``fit`` is entered in a process
that started only moments ago (the ``autopreset fit`` command), the time since the process
started (interpreter and imports) is charged to it too. Every phase asks the budget, never
``time.time()``: the plan (:meth:`Budget.for_search`), the tuner's deadline, the refit
(:meth:`Budget.for_refit`), the finish (:meth:`Budget.left`) and the progress display.

``Budget(seconds, counts_setup=False)`` starts the clock when set-up ends instead (scan, cache,
latency and speed measurements, worker start-up): the search then gets the same seconds however
long set-up took on this machine (tests, and benchmarks that compare search strategies).

Time already spent is charged: set-up (``charge(s)``: the process's start-up, a resumed run's
first set-up), which a budget that does not count set-up leaves out, and the run's own
(``charge(s, setup=False)``: a killed run's search), which every budget counts, so a resumed run
has what its budget leaves after it.
"""
from __future__ import annotations

import os
import time

from autopreset._duration import format_duration, parse_duration

__all__ = ["Budget", "process_age", "finish_reserve", "SPAWN_S"]

SPAWN_S = 2.0          # workers still starting when the plan is made (they spawn meanwhile)


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


def finish_reserve(total_s: float) -> float:
    """Seconds kept for the finish: the tuner's kill grace, saving, report, exiting."""
    return 6.0 + 0.035 * total_s


class Budget:
    """A wall-clock budget in seconds, with the time already spent on it.

        budget = Budget("10m")                 # or Budget(600), Budget.of("1h30m")
        budget.left()                          # seconds to the deadline
        budget.for_search(refit_s=0.0)         # what the search may spend now
    """

    def __init__(self, seconds: "str | float", *, counts_setup: bool = True,
                 clock=time.time):
        self.total_s = parse_duration(seconds)
        self.counts_setup = bool(counts_setup)
        self.reserve_s = finish_reserve(self.total_s)
        self._clock = clock
        self._start = clock()
        self._setup_done = counts_setup
        self._carried = 0.0      # run seconds charged before a set-up-free clock starts

    @classmethod
    def of(cls, value) -> "Budget":
        """``value`` as a Budget: a Budget is returned as it is, a duration is parsed."""
        return value if isinstance(value, Budget) else cls(value)

    # ----------------------------------------------------------------- bookkeeping
    def charge(self, seconds: float, *, setup: bool = True) -> None:
        """Count ``seconds`` already spent: on set-up (process start-up, a resumed run's first
        set-up; ignored when set-up is not counted) or, ``setup=False``, on the run itself (a
        killed run's search; always counted)."""
        if setup and not self.counts_setup:
            return
        if self._setup_done:
            self._start -= float(seconds)
        else:
            self._carried += float(seconds)

    def setup_done(self) -> None:
        """Set-up has ended: a budget that does not count set-up starts its clock now."""
        if not self._setup_done:
            self._start = self._clock() - self._carried
            self._setup_done = True

    def now(self) -> float:
        return self._clock()

    def elapsed(self) -> float:
        return self._carried if not self._setup_done else self._clock() - self._start

    def left(self) -> float:
        return self.total_s - self.elapsed()

    @property
    def deadline(self) -> float:
        """Absolute time (on the clock) the whole run must end by."""
        start = self._start if self._setup_done else self._clock() - self._carried
        return start + self.total_s

    # ----------------------------------------------------------------- what each step gets
    def for_plan(self) -> float:
        """Seconds the plan may lay out: what is left once the workers have started."""
        return self.left() - SPAWN_S

    def for_search(self, refit_s: float = 0.0) -> float:
        """Seconds the search may still spend: all but the finish reserve and a planned refit
        (at least 0.1 s, so an exhausted budget goes straight to the finish)."""
        return max(0.1, self.left() - self.reserve_s - refit_s)

    def for_refit(self) -> float:
        """Seconds a refit may spend: all but the finish reserve."""
        return self.left() - self.reserve_s

    def describe(self) -> str:
        return (f"{format_duration(self.total_s)} budget"
                + ("" if self.counts_setup else " (set-up not counted)"))

    def __repr__(self) -> str:
        return f"Budget({self.total_s:g}, counts_setup={self.counts_setup})"
