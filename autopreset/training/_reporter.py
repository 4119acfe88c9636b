"""A minimal reporter for running the trainer outside the tuner (scripts, benchmarks, tests).

It is an ``autopreset.reporting.Reporter`` (the contract in docs/contracts.md): ``report``
records each result and returns False once ``stop_at`` (a resource level) is reached, which
makes the objective checkpoint and return, like a paused trial.
"""
from __future__ import annotations

import math
from pathlib import Path

__all__ = ["RecordingReporter", "TrialFailedError"]


class TrialFailedError(RuntimeError):
    """A trial that cannot go on (NaN loss, out of memory); the message is the reason."""


class RecordingReporter:
    """Records results; ``stop_at=k`` answers False to the report of resource k."""

    def __init__(self, *, checkpoint_dir: str | Path, max_resource: int,
                 target_resource: int | None = None, seed: int = 0, trial_id: int = 0,
                 stop_at: int | None = None):
        self.checkpoint_dir = Path(checkpoint_dir)
        self.max_resource = int(max_resource)
        self.target_resource = int(target_resource if target_resource is not None
                                   else max_resource)
        self.seed, self.trial_id, self.stop_at = int(seed), int(trial_id), stop_at
        self.results: list[dict] = []

    def report(self, resource: int, metric: float, **extra) -> bool:
        if not math.isfinite(metric):
            raise TrialFailedError(f"metric is not finite at resource {resource}: {metric}")
        if self.results and int(resource) <= self.results[-1]["resource"]:
            return self.stop_at is None or resource < self.stop_at     # said again on a restore
        self.results.append(dict(resource=int(resource), metric=float(metric), **extra))
        return self.stop_at is None or resource < self.stop_at
