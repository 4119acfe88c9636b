"""The reporter an objective talks to, as one protocol: what the tuner's executors hand to an
objective (``autopreset.executors.JobReporter``), what the trainer runs with outside the tuner
(``autopreset.training.RecordingReporter``) and what the simulator's benchmarks read all have
these members, so an objective typed against it runs under any of them.

    from autopreset.reporting import Reporter

    def objective(config: dict, reporter: Reporter) -> None:
        state = load(reporter.checkpoint_dir)               # None on a new trial
        for epoch in range(state.epoch + 1, reporter.target_resource + 1):
            loss = train_one_epoch(...)
            if not reporter.report(resource=epoch, metric=loss, seconds=...):
                break                                       # paused or stopped: checkpoint, return
        save(reporter.checkpoint_dir, state)

Reporters may offer more: the executors' also have ``deadline`` (absolute ``time.time()``) and
``time_left`` (seconds until it); read those with ``getattr`` and a default.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = ["Reporter"]


@runtime_checkable
class Reporter(Protocol):
    """What an objective may use: its trial, its checkpoint folder, how far to go, and ``report``."""

    trial_id: int
    checkpoint_dir: Path        # this trial's folder; survives pause and resume
    max_resource: int           # the most resource any trial may get (the LR schedule's length)
    target_resource: int        # run until this resource, then return
    seed: int

    def report(self, resource: int, metric: float, **extra: Any) -> bool:
        """Record the metric after ``resource`` units; False means: save the checkpoint, return."""
        ...
