"""The scheduler contract: propose what runs next, and answer each reported result.

A scheduler only decides (Syne Tune's split of jobs): the searcher proposes configs, the
executor runs trials, the tuner owns the loop and calls these hooks in a fixed order, which the
journal records so that a resumed run replays them exactly:

    s = scheduler.suggest(trial_id)          # Suggestion (new config or resume) or None
    d = scheduler.on_trial_result(trial, r)  # CONTINUE / PAUSE / STOP for each report
    scheduler.on_trial_complete(trial)       # the trial reached max_resource (or ended itself)
    scheduler.on_trial_error(trial)          # exception, NaN, killed worker
    scheduler.on_trial_add(trial)            # a trial carried from an earlier run (paused)
    scheduler.may_resume(trial)              # False: this paused trial will never run again

``trial`` is the tuner's own record (results so far, status); schedulers read it, never write it.
A trial's job runs until ``target_resource``; at that resource it ends whatever the decision,
as "completed" at ``max_resource`` and as "paused" below it (the scheduler may resume it later
to a higher target from its checkpoint).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CONTINUE = "continue"
PAUSE = "pause"
STOP = "stop"
DECISIONS = (CONTINUE, PAUSE, STOP)

STATUSES = ("running", "paused", "completed", "stopped", "failed", "interrupted")


@dataclass
class Trial:
    """One trial: its config, every result it reported (oldest first) and where it stands.

    ``results`` are dicts with at least ``resource`` (int) and ``metric`` (float), plus ``time``
    (seconds on the run's budget ledger when it was reported) and any extra keys.
    """

    trial_id: int
    config: dict
    checkpoint_dir: str | None = None
    results: list[dict] = field(default_factory=list)
    status: str = "running"
    reason: str | None = None
    target_resource: int = 0
    carried: bool = False

    @property
    def resource(self) -> int:
        """The last resource reported (0 before the first report)."""
        return int(self.results[-1]["resource"]) if self.results else 0

    @property
    def metric(self) -> float | None:
        """The last metric reported, None before the first report."""
        return float(self.results[-1]["metric"]) if self.results else None

    def metric_at(self, resource: int) -> float | None:
        """The metric reported at the largest resource <= ``resource`` (None if none)."""
        value = None
        for r in self.results:
            if r["resource"] <= resource:
                value = float(r["metric"])
        return value

    def to_json(self) -> dict:
        return {"trial_id": self.trial_id, "config": self.config, "checkpoint_dir": self.checkpoint_dir,
                "results": self.results, "status": self.status, "reason": self.reason,
                "target_resource": self.target_resource, "carried": self.carried}


@dataclass(frozen=True)
class Suggestion:
    """What to run next: a new trial (``resume=False``) or a paused one continued to a higher
    ``target_resource`` from its own checkpoint (``resume=True``)."""

    trial_id: int
    config: dict
    target_resource: int
    resume: bool = False


def check_mode(mode: Any) -> str:
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max'; got {mode!r}")
    return mode


def check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def check_eta(eta: Any) -> int:
    if isinstance(eta, bool) or not isinstance(eta, (int, np.integer)) or eta < 2:
        raise ValueError(f"eta must be an integer >= 2; got {eta!r}")
    return int(eta)


def sub_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


class TrialScheduler:
    """Base class: owns the searcher, the mode and the maximum resource.

    Subclasses implement ``suggest`` and usually ``on_trial_result``. The default hooks feed the
    searcher (``observe(config, value, resource=...)``) and resume carried trials to
    ``max_resource`` first.
    """

    def __init__(self, *, space: dict | None = None, searcher: Any = None, mode: str = "min",
                 max_resource: int, random_state: int | np.random.Generator | None = None):
        self.mode = check_mode(mode)
        self.max_resource = check_positive_int("max_resource", max_resource)
        if isinstance(random_state, np.random.Generator):
            self._rng = random_state
        elif random_state is None or (isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool)):
            self._rng = np.random.default_rng(random_state)
        else:
            raise ValueError(f"random_state must be an int, a numpy Generator or None; got {random_state!r}")
        if searcher is None:
            if space is None:
                raise ValueError("give a search space or a searcher")
            from autopreset.searchers import RandomSearcher
            searcher = RandomSearcher(space, mode=mode, random_state=sub_seed(self._rng))
        elif getattr(searcher, "mode", mode) != mode:
            raise ValueError(f"searcher mode {searcher.mode!r} differs from scheduler mode {mode!r}")
        self.searcher = searcher
        self._carried: list[Trial] = []
        self._exhausted = False

    # -------------------------------------------------------------- helpers
    def _sign(self, value: float) -> float:
        """The value to minimise (max mode negates)."""
        return value if self.mode == "min" else -value

    def _new_config(self) -> dict | None:
        if self._exhausted:
            return None
        config = self.searcher.suggest()
        if config is None:
            self._exhausted = True
        return config

    def _observe(self, trial: Trial, value: float | None, resource: int | None) -> None:
        self.searcher.observe(trial.config, value, resource=resource)

    def _pop_carried(self, trial_id: int) -> Suggestion | None:
        """Resume the next carried trial that is paused to max_resource (FIFO-like default)."""
        while self._carried:
            trial = self._carried.pop(0)
            if trial.status == "paused" and trial.resource < self.max_resource:
                return Suggestion(trial.trial_id, trial.config, self.max_resource, resume=True)
        return None

    # ---------------------------------------------------------------- hooks
    def suggest(self, trial_id: int) -> Suggestion | None:
        """The next job; ``trial_id`` is the id a new trial would get. None: nothing to start now."""
        raise NotImplementedError

    def on_trial_result(self, trial: Trial, result: dict) -> str:
        return CONTINUE

    def on_trial_complete(self, trial: Trial) -> None:
        if trial.results:
            self._observe(trial, trial.metric, trial.resource)

    def on_trial_error(self, trial: Trial) -> None:
        self._observe(trial, None, trial.resource or None)

    def on_trial_add(self, trial: Trial) -> None:
        """A paused trial carried from an earlier run: its results feed the searcher, and it is
        resumed (to max_resource by default) before any new config is started."""
        for r in trial.results:
            self._observe(trial, r["metric"], r["resource"])
        self._carried.append(trial)

    def may_resume(self, trial: Trial) -> bool:
        """Whether this scheduler may still resume the paused ``trial`` (its checkpoint must be
        kept). True unless the scheduler knows better: successive halving answers False for a
        trial its decided rung did not promote. A scheduler that answered False never resumes
        the trial (the tuner holds it to that)."""
        return True

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mode={self.mode!r}, max_resource={self.max_resource})"


def is_better(a: float, b: float | None, mode: str) -> bool:
    """True when a is strictly better than b (b None or NaN: anything finite is better)."""
    if b is None or math.isnan(b):
        return not math.isnan(a)
    return a < b if mode == "min" else a > b
