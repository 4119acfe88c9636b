"""Run one trial in this process under the run's deadline (the single-config path of fit)."""
from __future__ import annotations

import math
import time
from pathlib import Path

__all__ = ["DeadlineReporter"]


class DeadlineReporter:
    """The objective's reporter (docs/contracts.md) that stops before the next epoch would pass
    ``stop_at`` (absolute ``time.time()``), using the slowest epoch seen so far as the estimate."""

    def __init__(self, *, checkpoint_dir: Path, max_resource: int, stop_at: float, seed: int = 0,
                 trial_id: int = 0, target_resource: int | None = None, on_report=None):
        self.checkpoint_dir = Path(checkpoint_dir)
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        self.max_resource = int(max_resource)
        self.target_resource = int(target_resource or max_resource)
        self.seed, self.trial_id, self.stop_at = int(seed), int(trial_id), float(stop_at)
        self.results: list[dict] = []
        self._on_report = on_report
        self._last = time.time()
        self._slowest = 0.0

    def report(self, resource: int, metric: float, **extra) -> bool:
        now = time.time()
        self._slowest = max(self._slowest, now - self._last)
        self._last = now
        if not math.isfinite(float(metric)):
            from autopreset.training import TrialFailedError
            raise TrialFailedError(f"metric is not finite at resource {resource}: {metric}")
        self.results.append(dict(resource=int(resource), metric=float(metric), **extra))
        if self._on_report is not None:
            self._on_report(self.results[-1])
        return resource < self.target_resource and now + self._slowest <= self.stop_at
