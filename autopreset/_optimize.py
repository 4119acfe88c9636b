"""``autopreset.optimize``: minimise or maximise a Python function over a search space.

    from autopreset.space import Float, Categorical
    space = {"x": Float(-5, 5), "kind": Categorical(["a", "b"])}
    result = autopreset.optimize(lambda c: (c["x"] - 1) ** 2, space, searcher="bayesopt", n_trials=30)
    result.best_config, result.best_value
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from autopreset.errors import InputError
from autopreset.searchers import Observation, Searcher, make_searcher


@dataclass
class OptimizeResult:
    """The best config and value found, every trial in order, and the searcher (to continue)."""

    best_config: dict | None
    best_value: float | None
    history: list[Observation] = field(default_factory=list)
    searcher: Searcher | None = None

    @property
    def n_trials(self) -> int:
        return len(self.history)


def optimize(fn, space: dict, *, searcher: str | Searcher = "random", n_trials: int = 50, mode: str = "min",
             random_state: int | np.random.Generator | None = None, catch: tuple[type[BaseException], ...] = (),
             **searcher_kwargs) -> OptimizeResult:
    """Evaluate ``fn(config) -> float`` for up to ``n_trials`` configs proposed by ``searcher``.

    searcher: a name ("random", "grid", "bayesopt", "bayesopt_forest", "annealing", "evolution")
        or a Searcher instance (its own mode must match ``mode``).
    catch: exception types that mark a trial failed instead of stopping the run; a NaN or
        infinite return value also fails the trial.
    Stops early when the searcher is exhausted (a grid).
    """
    if mode not in ("min", "max"):
        raise InputError(f"mode must be 'min' or 'max'; got {mode!r}")
    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise InputError(f"n_trials must be a positive int; got {n_trials!r}")
    if not callable(fn):
        raise InputError(f"fn must be callable; got {fn!r}")
    if isinstance(searcher, Searcher):
        if searcher_kwargs or random_state is not None:
            raise InputError("searcher options and random_state go to the searcher's constructor, not optimize()")
        if searcher.mode != mode:
            raise InputError(f"the searcher's mode {searcher.mode!r} differs from mode={mode!r}")
        if searcher.space is not space and searcher.space != space:
            raise InputError("the searcher was built for a different space")
        s = searcher
    else:
        s = make_searcher(searcher, space, mode=mode, random_state=random_state, **searcher_kwargs)
    start = len(s.history)
    for _ in range(int(n_trials)):
        config = s.suggest()
        if config is None:
            break
        try:
            value = fn(dict(config))
        except catch:
            value = None
        if value is not None:
            value = float(value)
            if not math.isfinite(value):
                value = None
        s.observe(config, value)
    history = list(s.history[start:])
    done = [h for h in history if h.value is not None]
    if not done:
        return OptimizeResult(None, None, history, s)
    pick = min if mode == "min" else max
    best = pick(done, key=lambda h: h.value)
    return OptimizeResult(dict(best.config), best.value, history, s)
