"""Learning-curve stopping: stop trials whose extrapolated final value is unlikely to win.

Domhan, Springenberg & Hutter (2015): fit parametric curve families to a trial's partial curve,
predict its value at max_resource with uncertainty, and terminate the trial when the probability
that it beats the best final value seen so far falls below a threshold (their 5%). Trials that
survive run to max_resource; nothing runs before the first trial finishes (no incumbent yet).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from autopreset.schedulers._base import (
    CONTINUE, STOP, Suggestion, Trial, TrialScheduler, check_positive_int)
from autopreset.schedulers._curves import FAMILIES, predict_final


class CurveStopping(TrialScheduler):
    """Predictive termination by learning-curve extrapolation (Domhan et al., 2015).

        cs = CurveStopping(space=space, max_resource=81, grace=4, p_min=0.05)

    A trial is checked at resources grace, 2 grace, 4 grace, ... (fits are costly, so checks are
    geometric); it is stopped when P(final better than the incumbent) < ``p_min``.
    """

    def __init__(self, *, space: dict | None = None, searcher: Any = None, mode: str = "min",
                 max_resource: int, grace: int | None = None, p_min: float = 0.05,
                 families: tuple[str, ...] = ("pow3", "exp3", "logpower"),
                 random_state: int | np.random.Generator | None = None):
        super().__init__(space=space, searcher=searcher, mode=mode, max_resource=max_resource,
                         random_state=random_state)
        self.grace = check_positive_int("grace", grace if grace is not None else max(4, math.ceil(0.05 * max_resource)))
        if not 0.0 < p_min < 1.0:
            raise ValueError(f"p_min must be in (0, 1); got {p_min!r}")
        unknown = [f for f in families if f not in FAMILIES]
        if unknown or not families:
            raise ValueError(f"unknown curve families {unknown}; known: {sorted(FAMILIES)}")
        self.p_min = float(p_min)
        self.families = tuple(families)
        self._best: float | None = None   # signed best final value
        checks, r = [], self.grace
        while r < self.max_resource:
            checks.append(r)
            r *= 2
        self.checkpoints = checks

    def suggest(self, trial_id: int) -> Suggestion | None:
        job = self._pop_carried(trial_id)
        if job is not None:
            return job
        config = self._new_config()
        return None if config is None else Suggestion(trial_id, config, self.max_resource)

    def on_trial_result(self, trial: Trial, result: dict) -> str:
        r = int(result["resource"])
        if r >= self.max_resource:
            self._update_best(result["metric"])
            return CONTINUE
        if self._best is None or r not in self.checkpoints:
            return CONTINUE
        p = self.probability_of_improvement(trial)
        if p is not None and p < self.p_min:
            self._observe(trial, result["metric"], r)
            return STOP
        return CONTINUE

    def on_trial_add(self, trial: Trial) -> None:
        super().on_trial_add(trial)
        if trial.resource >= self.max_resource and trial.results:
            self._update_best(trial.metric)

    def _update_best(self, value: float) -> None:
        z = self._sign(float(value))
        if self._best is None or z < self._best:
            self._best = z

    def probability_of_improvement(self, trial: Trial) -> float | None:
        """P(the trial's final value beats the incumbent), from the fitted curve ensemble."""
        x = np.array([r["resource"] for r in trial.results], dtype=float) / self.max_resource
        z = np.array([self._sign(r["metric"]) for r in trial.results], dtype=float)
        samples = predict_final(x, z, families=self.families, random_state=self._rng)
        if samples is None or self._best is None:
            return None
        return float(np.mean(samples < self._best))
