"""Asynchronous successive halving, promotion type.

Li, Jamieson, Rostamizadeh, Gonina, Ben-Tzur, Hardt, Recht & Talwalkar (2020), "A System for
Massively Parallel Hyperparameter Tuning" (MLSys), Algorithm 2: rungs r_k = r_min eta^k; whenever
a worker is free, promote the best paused trial of the highest rung k whose top
floor(|rung k| / eta) contains a trial not yet promoted (it resumes from its checkpoint to
r_{k+1}); if no rung has one, start a new config at r_min. No worker ever waits for a rung to
fill, so several workers stay busy; promotions can be a little wrong early on, which the paper
shows costs little.

``n_brackets`` > 1 adds Hyperband's brackets asynchronously (the paper's "minimum early-stopping
rate" s): each new trial draws bracket s with rungs starting at r_min eta^s, with the bracket
weights of Hyperband, so less aggressive brackets hedge against misleading low-fidelity ranks.
"""
from __future__ import annotations

import bisect
import math
from typing import Any

import numpy as np

from autopreset.schedulers._base import (
    CONTINUE, PAUSE, Suggestion, Trial, TrialScheduler, check_eta, check_positive_int)
from autopreset.schedulers._brackets import hyperband_brackets


class _Rungs:
    """One asynchronous bracket: per rung, the signed metric of each trial that reached it."""

    def __init__(self, levels: list[int]):
        self.levels = levels                                   # rung resources, last = max_resource
        self.scores: list[dict[int, float]] = [{} for _ in levels]
        self.ranked: list[list[tuple[float, int]]] = [[] for _ in levels]   # (score, trial_id), sorted
        self.promoted: list[set[int]] = [set() for _ in levels]
        self.trials: dict[int, Trial] = {}

    def add(self, k: int, trial_id: int, score: float) -> None:
        if trial_id in self.scores[k]:
            self.ranked[k].remove((self.scores[k][trial_id], trial_id))
        self.scores[k][trial_id] = score
        bisect.insort(self.ranked[k], (score, trial_id))


class ASHA(TrialScheduler):
    """Asynchronous successive halving (promotion type), optionally with several brackets.

        asha = ASHA(space=space, max_resource=81, min_resource=1, eta=3)
        asha = ASHA(searcher=BayesOptSearcher(space), max_resource=81)   # BOHB-like, asynchronous
        asha = ASHA(space=space, plan=plan_hyperband(3600, 20.0, 81, n_workers=4))
    """

    def __init__(self, *, space: dict | None = None, searcher: Any = None, mode: str = "min",
                 max_resource: int | None = None, min_resource: int = 1, eta: int = 3,
                 n_brackets: int = 1, plan: Any = None,
                 random_state: int | np.random.Generator | None = None):
        if plan is not None:
            if max_resource is not None and max_resource != plan.max_resource:
                raise ValueError(f"max_resource {max_resource} differs from the plan's {plan.max_resource}")
            max_resource, min_resource, eta = plan.max_resource, plan.min_resource, plan.eta
        if max_resource is None:
            raise ValueError("give max_resource or a plan")
        super().__init__(space=space, searcher=searcher, mode=mode, max_resource=max_resource,
                         random_state=random_state)
        self.eta = check_eta(eta)
        self.min_resource = check_positive_int("min_resource", min_resource)
        if self.min_resource > self.max_resource:
            raise ValueError(f"min_resource {min_resource} exceeds max_resource {max_resource}")
        brackets = hyperband_brackets(self.max_resource, self.eta, self.min_resource)
        n_brackets = check_positive_int("n_brackets", n_brackets)
        brackets = brackets[:n_brackets]
        self._brackets = [_Rungs([r for _, r in b.rungs]) for b in brackets]
        weights = np.array([b.n_configs for b in brackets], dtype=float)
        self._weights = weights / weights.sum()
        self._home: dict[int, tuple[_Rungs, int]] = {}   # trial_id -> (bracket, target level)

    @property
    def rung_levels(self) -> list[int]:
        """The rung resources of the most aggressive bracket."""
        return list(self._brackets[0].levels)

    def suggest(self, trial_id: int) -> Suggestion | None:
        job = self._promotable()
        if job is not None:
            return job
        if self._carried:
            job = self._pop_carried_into_rungs()
            if job is not None:
                return job
        config = self._new_config()
        if config is None:
            return None
        b = 0 if len(self._brackets) == 1 else int(self._rng.choice(len(self._brackets), p=self._weights))
        bracket = self._brackets[b]
        self._home[trial_id] = (bracket, 0)
        return Suggestion(trial_id, config, bracket.levels[0])

    def _promotable(self) -> Suggestion | None:
        for bracket in self._brackets:
            for k in range(len(bracket.levels) - 2, -1, -1):
                ranked = bracket.ranked[k]
                for score, tid in ranked[:len(ranked) // self.eta]:
                    trial = bracket.trials[tid]
                    if tid in bracket.promoted[k] or not math.isfinite(score) or trial.status != "paused":
                        continue
                    bracket.promoted[k].add(tid)
                    self._home[tid] = (bracket, k + 1)
                    return Suggestion(tid, trial.config, bracket.levels[k + 1], resume=True)
        return None

    def _pop_carried_into_rungs(self) -> Suggestion | None:
        """Carried trials enter the first bracket's rungs they reached; one below rung 0 resumes."""
        bracket = self._brackets[0]
        while self._carried:
            trial = self._carried.pop(0)
            if trial.status != "paused" or trial.resource >= self.max_resource:
                continue
            reached = [k for k, r in enumerate(bracket.levels[:-1]) if r <= trial.resource]
            bracket.trials[trial.trial_id] = trial
            if not reached:
                self._home[trial.trial_id] = (bracket, 0)
                return Suggestion(trial.trial_id, trial.config, bracket.levels[0], resume=True)
            for k in reached:
                bracket.add(k, trial.trial_id, self._sign(trial.metric_at(bracket.levels[k])))
            for k in reached[:-1]:
                bracket.promoted[k].add(trial.trial_id)
            self._home[trial.trial_id] = (bracket, reached[-1])
            job = self._promotable()
            if job is not None:
                return job
        return None

    def on_trial_result(self, trial: Trial, result: dict) -> str:
        bracket, level = self._home[trial.trial_id]
        bracket.trials[trial.trial_id] = trial
        target = bracket.levels[level]
        if result["resource"] < target:
            return CONTINUE
        bracket.add(level, trial.trial_id, self._sign(result["metric"]))
        self._observe(trial, result["metric"], target)
        return CONTINUE if target >= self.max_resource else PAUSE

    def on_trial_complete(self, trial: Trial) -> None:
        bracket, level = self._home[trial.trial_id]
        if trial.trial_id not in bracket.scores[level] and trial.results:
            self._observe(trial, trial.metric, trial.resource)   # ended before its rung: never promoted

    def on_trial_error(self, trial: Trial) -> None:
        super().on_trial_error(trial)
        bracket, level = self._home.get(trial.trial_id, (None, 0))
        if bracket is not None:
            bracket.trials[trial.trial_id] = trial
            bracket.add(level, trial.trial_id, math.inf)   # counts in the rung, never promoted
