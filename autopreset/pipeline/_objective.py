"""The objective fit hands to the tuner: the trainer, stopped before an epoch would overrun.

The trainer reports once per epoch and can only checkpoint at a report. A trial that is killed
at the deadline loses everything since its last checkpoint, so :class:`BudgetedObjective`
answers False to a report when the next epoch (estimated by the slowest epoch of this job,
as the trainer timed it) would end after the run's deadline: the trial saves its checkpoint and returns in time, and
its best epoch is kept.
"""
from __future__ import annotations

import logging
import time

__all__ = ["BudgetedObjective"]


class _Once(logging.Filter):
    """Lets each distinct message through once per process: a worker trains many trials, and
    the same notice (e.g. "starts from random init") for every one would bury the progress."""

    def __init__(self):
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if text in self.seen:
            return False
        self.seen.add(text)
        return True


def _quiet_repeats() -> None:
    """In a worker: each notice once, each on a line of its own (never inside the main
    process's status line on a shared terminal)."""
    from ._progress import LineHandler

    log = logging.getLogger("autopreset")
    if not any(isinstance(f, _Once) for f in log.filters):
        log.addFilter(_Once())
    if not log.handlers:
        log.addHandler(LineHandler())
        log.propagate = False


class _StopEarly:
    def __init__(self, reporter, margin: float):
        self._r = reporter
        self._margin = margin
        self._last = time.time()
        self._slowest = 0.0
        self.trial_id = reporter.trial_id
        self.checkpoint_dir = reporter.checkpoint_dir
        self.max_resource = reporter.max_resource
        self.target_resource = reporter.target_resource
        self.seed = reporter.seed

    def report(self, resource: int, metric: float, **extra) -> bool:
        if extra.get("restored"):       # the restored epoch said again: not this job's timing
            return self._r.report(resource=resource, metric=metric, **extra)
        now = time.time()
        took = extra.get("seconds")     # the trainer's own epoch time (no model building)
        self._slowest = max(self._slowest, float(took) if took else now - self._last)
        self._last = now
        go_on = self._r.report(resource=resource, metric=metric, **extra)
        deadline = getattr(self._r, "deadline", float("inf"))
        return go_on and now + self._margin * self._slowest < deadline


class BudgetedObjective:
    """Picklable wrapper: ``BudgetedObjective(task)(config, reporter)``."""

    def __init__(self, task, *, margin: float = 1.15):
        self.task = task
        self.margin = float(margin)

    def __call__(self, config: dict, reporter) -> None:
        _quiet_repeats()
        self.task(config, _StopEarly(reporter, self.margin))

    def warm_up(self) -> None:
        """Called by a local worker before its first trial (see LocalExecutor)."""
        warm_up = getattr(self.task, "warm_up", None)
        if callable(warm_up):
            warm_up()
