"""Successive-halving brackets and the Hyperband bracket arithmetic.

Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar (2018), "Hyperband: A Novel Bandit-Based
Approach to Hyperparameter Optimization", JMLR 18, Algorithm 1: with R the maximum resource in
units of the minimum one, s_max = floor(log_eta R) and B = (s_max + 1) R, bracket s (s_max down
to 0) starts n = ceil(B / R * eta^s / (s + 1)) configs at r = R eta^-s, and its successive-halving
round i keeps n_i = floor(n eta^-i) configs at r_i = r eta^i. For R = 81, eta = 3 the brackets
are 81@1 27@3 9@9 3@27 1@81 | 34@3 11@9 3@27 1@81 | 15@9 5@27 1@81 | 8@27 2@81 | 5@81.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from autopreset.schedulers._base import check_eta, check_positive_int


@dataclass(frozen=True)
class Bracket:
    """One successive-halving run: ``rungs`` are (n_configs, resource) pairs, resources rising
    to max_resource, counts falling."""

    rungs: tuple[tuple[int, int], ...]

    @property
    def n_configs(self) -> int:
        return self.rungs[0][0]

    @property
    def min_resource(self) -> int:
        return self.rungs[0][1]

    def units(self) -> int:
        """Resource units trained when promoted trials continue from their checkpoints."""
        total, prev = 0, 0
        for n, r in self.rungs:
            total += n * (r - prev)
            prev = r
        return total

    def wall_units(self, n_workers: int) -> int:
        """Resource units on the critical path with n_workers synchronous workers."""
        total, prev = 0, 0
        for n, r in self.rungs:
            total += math.ceil(n / n_workers) * (r - prev)
            prev = r
        return total

    def describe(self) -> str:
        return "  ".join(f"{n}@{r}" for n, r in self.rungs)


def _log_floor(x: float, eta: int) -> int:
    s = 0
    while eta ** (s + 1) <= x * (1 + 1e-12):
        s += 1
    return s


def sh_bracket(n_configs: int, min_resource: int, max_resource: int, eta: int) -> Bracket:
    """Successive halving (Jamieson & Talwalkar, 2016; Li et al., 2018): n_configs at
    min_resource, keep the best 1/eta at each rung, rungs min_resource * eta^i capped at
    max_resource (the last rung is always max_resource)."""
    n_configs = check_positive_int("n_configs", n_configs)
    min_resource = check_positive_int("min_resource", min_resource)
    max_resource = check_positive_int("max_resource", max_resource)
    eta = check_eta(eta)
    if min_resource > max_resource:
        raise ValueError(f"min_resource {min_resource} exceeds max_resource {max_resource}")
    rungs, i = [], 0
    while True:
        r = min(max_resource, min_resource * eta ** i)
        n = max(1, n_configs // eta ** i)
        rungs.append((n, r))
        if r >= max_resource:
            break
        i += 1
    return Bracket(tuple(rungs))


def hyperband_brackets(max_resource: int, eta: int = 3, min_resource: int = 1) -> list[Bracket]:
    """The brackets of one Hyperband iteration (Li et al., 2018, Algorithm 1), most aggressive
    first. Resources are integers: r_i = round(min_resource * R eta^(i - s)) with R the ratio
    max_resource / min_resource (exact when R is a power of eta)."""
    max_resource = check_positive_int("max_resource", max_resource)
    min_resource = check_positive_int("min_resource", min_resource)
    eta = check_eta(eta)
    if min_resource > max_resource:
        raise ValueError(f"min_resource {min_resource} exceeds max_resource {max_resource}")
    ratio = max_resource / min_resource
    s_max = _log_floor(ratio, eta)
    brackets = []
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) / (s + 1) * eta ** s - 1e-9)
        rungs = []
        for i in range(s + 1):
            n_i = max(1, math.floor(n * eta ** (-i) + 1e-9))
            r_i = max_resource if i == s else max(min_resource, round(max_resource * eta ** (i - s)))
            rungs.append((n_i, int(r_i)))
        brackets.append(Bracket(tuple(rungs)))
    return brackets
