"""Neighbour moves and crossover on configs, shared by annealing and evolution.

A move changes a few parameters: a numeric or ordinal one takes a Gaussian step in its unit
coordinate (log scale for log domains), reflected at the bounds and at least one step for
discrete ones; a categorical one switches to another choice, uniformly, since unordered
choices have no nearer or further neighbours.
"""
from __future__ import annotations

import numpy as np

from autopreset.space import Categorical, Float, Ordinal, domains


def _reflect(u: float) -> float:
    u = abs(u) % 2.0
    return 2.0 - u if u > 1.0 else u


def _move_one(dom, value, rng: np.random.Generator, scale: float):
    if isinstance(dom, Categorical):
        if dom.width == 1:
            return value
        i = dom.index(value)
        j = int(rng.integers(dom.width - 1))
        return dom.choices[j + (j >= i)]
    u = float(dom.to_unit(value)[0])
    new = dom.from_unit(np.array([_reflect(u + rng.normal(0.0, scale))]))
    if isinstance(dom, Float) or new != value:
        return new
    # discrete domain and the step stayed in the same bin: go one value up or down
    if isinstance(dom, Ordinal):
        n, i = len(dom.values), dom.index(value)
        if n == 1:
            return value
        j = i + (1 if rng.random() < 0.5 else -1)
        return dom.values[j if 0 <= j < n else 2 * i - j]
    step = 1 if rng.random() < 0.5 else -1
    j = value + step
    return j if dom.low <= j <= dom.high else value - step if dom.low <= value - step <= dom.high else value


def neighbour(space: dict, config: dict, rng: np.random.Generator, *, scale: float = 0.1,
              n_changes: int | None = None) -> dict:
    """A config that differs from ``config`` in a few parameters (one, plus each other with
    probability 1/d when ``n_changes`` is None)."""
    names = [n for n, d in domains(space).items() if not _single(d)]
    if not names:
        return dict(config)
    if n_changes is None:
        n_changes = 1 + int(rng.binomial(len(names) - 1, 1.0 / len(names))) if len(names) > 1 else 1
    pick = rng.choice(len(names), size=min(n_changes, len(names)), replace=False)
    out = dict(config)
    for i in sorted(pick):
        name = names[int(i)]
        out[name] = _move_one(space[name], config[name], rng, scale)
    return out


def crossover(space: dict, a: dict, b: dict, rng: np.random.Generator) -> dict:
    """Uniform crossover: each parameter from either parent with probability 1/2."""
    take_b = rng.random(len(space)) < 0.5
    return {k: (b[k] if tb else a[k]) for (k, tb) in zip(space, take_b)}


def _single(dom) -> bool:
    return (isinstance(dom, Categorical) and dom.width == 1) or (isinstance(dom, Ordinal) and len(dom.values) == 1)
