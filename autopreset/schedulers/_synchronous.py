"""Synchronous successive halving and Hyperband.

Successive halving (Jamieson & Talwalkar, 2016, "Non-stochastic Best Arm Identification and
Hyperparameter Optimization"): train n configs to a small resource, keep the best 1/eta, train
those eta times longer, and so on up to max_resource. A rung is decided only when all of its
trials have reported (synchronous). Hyperband (Li et al., 2018) runs successive-halving brackets
of different aggressiveness in turn (see ``_brackets``).

Promoted trials continue from their own checkpoint: a trial paused at r_i is resumed with
target r_{i+1}, so it trains r_{i+1} - r_i more units, never from scratch. When a bracket waits
for stragglers and a worker is free, the next bracket starts (as Syne Tune's synchronous
Hyperband does), so several workers stay busy. Each rung's results feed the searcher with their
resource, so a model-based searcher (BayesOptSearcher) makes this BOHB-like (Falkner et al., 2018).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from autopreset.schedulers._base import (
    CONTINUE, PAUSE, STOP, Suggestion, Trial, TrialScheduler, check_eta, check_positive_int)
from autopreset.schedulers._brackets import Bracket, hyperband_brackets, sh_bracket


class _BracketRun:
    """The state of one running bracket: members and results per rung, the promotion queue.

    ``expected[i]`` counts the results rung i waits for: n_0 new configs at rung 0, the
    promoted trials above it, plus trials carried from an earlier run into that rung.
    """

    def __init__(self, bracket: Bracket, sign, eta: int):
        self.bracket = bracket
        self.sign = sign
        self.eta = eta
        self.level = 0
        self.n_started = 0
        self.members: list[list[Trial]] = [[] for _ in bracket.rungs]
        self.scores: list[dict[int, float]] = [{} for _ in bracket.rungs]   # trial_id -> signed metric
        self.expected = [bracket.rungs[0][0]] + [0] * (len(bracket.rungs) - 1)
        self.queue: list[Trial] = []   # trials to resume to the current rung

    @property
    def done(self) -> bool:
        return self.level >= len(self.bracket.rungs)

    def resource(self, level: int) -> int:
        return self.bracket.rungs[level][1]

    def next_job(self, trial_id: int, new_config) -> Suggestion | None:
        if self.done:
            return None
        for i, trial in enumerate(self.queue):
            if trial.status == "paused":   # its last job has ended: safe to resume its checkpoint
                del self.queue[i]
                self.members[self.level].append(trial)
                return Suggestion(trial.trial_id, trial.config, self.resource(self.level), resume=True)
        if self.level == 0 and self.n_started < self.bracket.rungs[0][0]:
            config = new_config()
            if config is None:   # searcher exhausted: rung 0 is as large as it gets
                self.expected[0] -= self.bracket.rungs[0][0] - self.n_started
                self.n_started = self.bracket.rungs[0][0]
                self.check_level()
                return None
            self.n_started += 1
            return Suggestion(trial_id, config, self.resource(0))
        return None

    def carry(self, trial: Trial, max_resource: int) -> int | None:
        """Add a paused trial from an earlier run at the highest rung it has reached (or to
        rung 0's resume queue when it is below rung 0); returns its level."""
        levels = [i for i, (_, r) in enumerate(self.bracket.rungs) if r <= trial.resource and r < max_resource]
        if trial.status != "paused" or trial.resource >= max_resource:
            return None
        self.expected[levels[-1] if levels else 0] += 1
        if not levels:
            self.queue.append(trial)
            return 0
        level = levels[-1]
        self.members[level].append(trial)
        self.scores[level][trial.trial_id] = self.sign(trial.metric_at(self.resource(level)))
        return level

    def record(self, trial: Trial, level: int, value: float | None) -> None:
        """A member's result at ``level`` (None: failed or ended before the rung)."""
        self.scores[level][trial.trial_id] = math.inf if value is None else self.sign(value)
        if level == self.level:
            self.check_level()

    def check_level(self) -> None:
        """Promote the best 1/eta of a finished rung (synchronous: all results are in)."""
        while not self.done and not self.queue and len(self.scores[self.level]) >= self.expected[self.level] \
                and len(self.scores[self.level]) >= len(self.members[self.level]):
            level = self.level
            self.level += 1
            if self.done:
                return
            ranked = sorted((s, m.trial_id, m) for m in self.members[level]
                            if math.isfinite(s := self.scores[level].get(m.trial_id, math.inf)))
            keep = max(self.bracket.rungs[self.level][0], len(self.members[level]) // self.eta)
            self.queue = [m for _, _, m in ranked[:keep]]
            self.expected[self.level] += len(self.queue)
            if not self.queue and not self.members[self.level]:   # nothing left: the bracket ends
                self.level = len(self.bracket.rungs)


class _SynchronousBrackets(TrialScheduler):
    """Runs a list of brackets in order (cycling when ``n_brackets`` is None or larger)."""

    def __init__(self, brackets: list[Bracket], *, eta: int, n_brackets: int | None, **kwargs: Any):
        super().__init__(**kwargs)
        self.brackets = list(brackets)
        self.eta = eta
        self.n_brackets = None if n_brackets is None else check_positive_int("n_brackets", n_brackets)
        self._runs: list[_BracketRun] = []
        self._opened = 0
        self._where: dict[int, tuple[_BracketRun, int]] = {}   # trial_id -> (bracket run, level)
        for b in self.brackets:
            if b.rungs[-1][1] != self.max_resource:
                raise ValueError(f"bracket {b.describe()} does not end at max_resource {self.max_resource}")

    def _open(self) -> _BracketRun | None:
        if self.n_brackets is not None and self._opened >= self.n_brackets:
            return None
        run = _BracketRun(self.brackets[self._opened % len(self.brackets)], self._sign, self.eta)
        self._opened += 1
        self._runs.append(run)
        return run

    def suggest(self, trial_id: int) -> Suggestion | None:
        self._runs = [r for r in self._runs if not r.done]
        for run in self._runs:
            job = run.next_job(trial_id, self._new_config)
            if job is not None:
                self._assign(job, run)
                return job
        if self._exhausted:
            return None
        run = self._open()
        if run is None:
            return None
        if self._carried:   # carried trials join the first bracket's rungs
            for trial in self._carried:
                level = run.carry(trial, self.max_resource)
                if level is not None:
                    self._where[trial.trial_id] = (run, level)
            self._carried = []
            run.check_level()
        job = run.next_job(trial_id, self._new_config)
        if job is not None:
            self._assign(job, run)
        return job

    def _assign(self, job: Suggestion, run: _BracketRun) -> None:
        level = run.level
        if not job.resume:
            run.members[0].append(Trial(job.trial_id, job.config))   # placeholder until the tuner's trial arrives
        self._where[job.trial_id] = (run, level)

    def _member(self, run: _BracketRun, level: int, trial: Trial) -> None:
        """Replace the placeholder for a new trial with the tuner's record."""
        members = run.members[level]
        for i, m in enumerate(members):
            if m.trial_id == trial.trial_id:
                members[i] = trial
                return
        members.append(trial)

    def on_trial_result(self, trial: Trial, result: dict) -> str:
        where = self._where.get(trial.trial_id)
        if where is None:
            return STOP
        run, level = where
        self._member(run, level, trial)
        target = run.resource(level)
        if result["resource"] < target:
            return CONTINUE
        self._observe(trial, result["metric"], target)
        run.record(trial, level, result["metric"])
        return CONTINUE if target >= self.max_resource else PAUSE

    def _ended(self, trial: Trial, value: float | None) -> None:
        where = self._where.get(trial.trial_id)
        if where is None:
            return
        run, level = where
        self._member(run, level, trial)
        if trial.trial_id not in run.scores[level]:
            run.record(trial, level, value)

    def on_trial_complete(self, trial: Trial) -> None:
        """Ended on its own before its rung: it counts with its last metric and goes no further."""
        run_level = self._where.get(trial.trial_id)
        if run_level is not None and trial.trial_id not in run_level[0].scores[run_level[1]]:
            if trial.results:
                self._observe(trial, trial.metric, trial.resource)
            self._ended(trial, None)

    def on_trial_error(self, trial: Trial) -> None:
        super().on_trial_error(trial)
        self._ended(trial, None)

    def may_resume(self, trial: Trial) -> bool:
        """False once the rung the trial paused at is decided and did not promote it."""
        where = self._where.get(trial.trial_id)
        if where is None:
            return any(t.trial_id == trial.trial_id for t in self._carried)
        run, level = where
        return run.level <= level or any(t.trial_id == trial.trial_id for t in run.queue)


class SuccessiveHalving(_SynchronousBrackets):
    """Synchronous successive halving: ``n_configs`` at ``min_resource``, the best 1/eta promoted.

        sh = SuccessiveHalving(space=space, n_configs=27, min_resource=1, max_resource=27, eta=3)

    ``n_brackets`` successive-halving runs are made one after another (None: until the tuner's
    budget or the searcher runs out); with several workers, the next run starts while the
    current one waits for its stragglers.
    """

    def __init__(self, *, space: dict | None = None, searcher: Any = None, mode: str = "min",
                 max_resource: int, n_configs: int, min_resource: int = 1, eta: int = 3,
                 n_brackets: int | None = None, random_state: int | np.random.Generator | None = None):
        bracket = sh_bracket(n_configs, min_resource, max_resource, eta)
        super().__init__([bracket], eta=check_eta(eta), n_brackets=n_brackets, space=space,
                         searcher=searcher, mode=mode, max_resource=max_resource, random_state=random_state)


class Hyperband(_SynchronousBrackets):
    """Hyperband (Li et al., 2018): successive-halving brackets from most to least aggressive.

        hb = Hyperband(space=space, max_resource=81, eta=3)               # random: Hyperband
        hb = Hyperband(searcher=BayesOptSearcher(space), max_resource=81)  # BOHB-like
        hb = Hyperband(space=space, plan=plan_hyperband(3600, 20.0, 81))  # budget-aware

    ``plan`` (from ``plan_hyperband``) fixes the brackets, min resource and eta so the run fits
    a wall-clock budget; without it the brackets are those of Algorithm 1 for
    max_resource / min_resource. Brackets repeat in order until ``n_brackets`` have run (None:
    until the tuner's budget runs out).
    """

    def __init__(self, *, space: dict | None = None, searcher: Any = None, mode: str = "min",
                 max_resource: int | None = None, min_resource: int = 1, eta: int = 3, plan: Any = None,
                 n_brackets: int | None = None, random_state: int | np.random.Generator | None = None):
        if plan is not None:
            if max_resource is not None and max_resource != plan.max_resource:
                raise ValueError(f"max_resource {max_resource} differs from the plan's {plan.max_resource}")
            max_resource, eta, brackets = plan.max_resource, plan.eta, list(plan.brackets)
            if n_brackets is None and not plan.repeat:
                n_brackets = len(brackets)
        else:
            if max_resource is None:
                raise ValueError("give max_resource or a plan")
            brackets = hyperband_brackets(max_resource, eta, min_resource)
        super().__init__(brackets, eta=check_eta(eta), n_brackets=n_brackets, space=space,
                         searcher=searcher, mode=mode, max_resource=max_resource, random_state=random_state)
