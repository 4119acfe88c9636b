"""Budget-aware Hyperband planning: brackets sized from a cost model so the run fits a budget.

Hyperband's own budget unit is resource (Li et al., 2018); users have seconds. From seconds per
unit of resource (one figure, per-config figures, or a function of the config averaged over a
sample of the space) and the number of workers, ``plan_hyperband`` lays out Hyperband's brackets
in their order (most aggressive first, cycling) as long as their estimated wall-clock fits
``safety * budget_s``, then shrinks the next bracket's number of configs to fill what is left.
Wall-clock is estimated for synchronous rungs: a rung of n trials takes ceil(n / n_workers)
rounds of its resource increment (promoted trials continue from checkpoints).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from autopreset.schedulers._base import check_eta, check_positive_int
from autopreset.schedulers._brackets import Bracket, hyperband_brackets


@dataclass(frozen=True)
class HyperbandPlan:
    """Brackets that fit a budget; ``describe()`` is what ``fit --plan`` prints."""

    budget_s: float
    max_resource: int
    min_resource: int
    eta: int
    n_workers: int
    seconds_per_unit: float
    overhead_s: float
    brackets: tuple[Bracket, ...]
    estimated_s: float
    repeat: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_configs(self) -> int:
        return sum(b.n_configs for b in self.brackets)

    def bracket_seconds(self, bracket: Bracket) -> float:
        return _bracket_seconds(bracket, self.n_workers, self.seconds_per_unit, self.overhead_s)

    def describe(self) -> str:
        lines = [f"Hyperband plan: budget {self.budget_s:.0f}s, {self.n_workers} worker(s), "
                 f"{self.seconds_per_unit:.3g}s per resource unit, eta={self.eta}, "
                 f"resource {self.min_resource}..{self.max_resource}",
                 f"  {len(self.brackets)} bracket(s), {self.n_configs} configs, "
                 f"estimated {self.estimated_s:.0f}s ({100 * self.estimated_s / self.budget_s:.0f}% of budget)"]
        for i, b in enumerate(self.brackets):
            lines.append(f"  bracket {i + 1}: {b.describe()}  (configs@resource, ~{self.bracket_seconds(b):.0f}s)")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"budget_s": self.budget_s, "max_resource": self.max_resource, "min_resource": self.min_resource,
                "eta": self.eta, "n_workers": self.n_workers, "seconds_per_unit": self.seconds_per_unit,
                "overhead_s": self.overhead_s, "estimated_s": self.estimated_s, "repeat": self.repeat,
                "brackets": [[list(r) for r in b.rungs] for b in self.brackets], "notes": list(self.notes)}

    @classmethod
    def from_json(cls, obj: dict) -> "HyperbandPlan":
        """The plan ``to_json`` wrote (``repeat`` and ``notes`` may be missing: their defaults)."""
        return cls(budget_s=obj["budget_s"], max_resource=obj["max_resource"],
                   min_resource=obj["min_resource"], eta=obj["eta"], n_workers=obj["n_workers"],
                   seconds_per_unit=obj["seconds_per_unit"], overhead_s=obj["overhead_s"],
                   brackets=tuple(Bracket(tuple(tuple(r) for r in b)) for b in obj["brackets"]),
                   estimated_s=obj["estimated_s"], repeat=obj.get("repeat", True),
                   notes=tuple(obj.get("notes", ())))


def _bracket_seconds(bracket: Bracket, n_workers: int, cost: float, overhead_s: float) -> float:
    """Wall-clock of a synchronous bracket: each rung takes ceil(n / workers) rounds of its
    resource increment, and every job (new or resumed) pays the start-up overhead."""
    jobs = sum(math.ceil(n / n_workers) for n, _ in bracket.rungs)
    return bracket.wall_units(n_workers) * cost + jobs * overhead_s


def _mean_cost(cost_model, space, random_state) -> float:
    if isinstance(cost_model, (int, float, np.integer, np.floating)) and not isinstance(cost_model, bool):
        costs = [float(cost_model)]
    elif callable(cost_model):
        if space is None:
            raise ValueError("a callable cost_model needs the search space to average over (space=...)")
        from autopreset.space import sample
        rng = np.random.default_rng(random_state)
        costs = [float(cost_model(sample(space, rng))) for _ in range(64)]
    elif isinstance(cost_model, Sequence) and not isinstance(cost_model, str) and len(cost_model) > 0:
        costs = [float(c) for c in cost_model]
    else:
        raise ValueError(f"cost_model must be seconds per unit (a number, a list, or config -> seconds); got {cost_model!r}")
    if not all(math.isfinite(c) and c > 0 for c in costs):
        raise ValueError(f"cost_model gives non-positive or non-finite seconds per unit: {costs[:5]}")
    return float(np.mean(costs))


def _shrink(bracket: Bracket, eta: int, fits: Callable[[Bracket], bool]) -> Bracket | None:
    """The bracket with the most configs (fewer than its own) that fits, keeping 1/eta per rung
    (at least one config per rung)."""
    for n in range(bracket.n_configs - 1, 0, -1):
        b = Bracket(tuple((max(1, n // eta ** i), r) for i, (_, r) in enumerate(bracket.rungs)))
        if fits(b):
            return b
    return None


def plan_hyperband(budget_s: float, cost_model, max_resource: int, *, eta: int = 3, n_workers: int = 1,
                   min_resource: int = 1, space: dict | None = None, overhead_s: float = 0.0,
                   safety: float = 0.9, random_state: int | None = 0) -> HyperbandPlan:
    """Plan Hyperband brackets that fit ``safety * budget_s`` seconds of wall-clock.

        plan = plan_hyperband(3600, cost_model=12.0, max_resource=27, n_workers=2)
        print(plan.describe()); Hyperband(space=space, plan=plan)

    ``cost_model``: seconds per resource unit, as one number, per-config numbers, or a callable
    config -> seconds (averaged over 64 configs sampled from ``space``). ``overhead_s``: fixed
    seconds per job start, new or resumed (model build, checkpoint and data loading). When even one config trained to
    max_resource does not fit, max_resource is lowered (noted in the plan).
    """
    if not (isinstance(budget_s, (int, float)) and math.isfinite(budget_s) and budget_s > 0):
        raise ValueError(f"budget_s must be a positive number of seconds; got {budget_s!r}")
    if not 0 < safety <= 1:
        raise ValueError(f"safety must be in (0, 1]; got {safety!r}")
    max_resource = check_positive_int("max_resource", max_resource)
    n_workers = check_positive_int("n_workers", n_workers)
    eta = check_eta(eta)
    cost = _mean_cost(cost_model, space, random_state)
    avail = safety * float(budget_s)
    notes = []
    one_config = max_resource * cost + overhead_s
    if one_config > avail:
        reduced = max(1, int((avail - overhead_s) // cost))
        notes.append(f"one config at max_resource {max_resource} needs ~{one_config:.0f}s > {avail:.0f}s: "
                     f"max_resource lowered to {reduced}")
        max_resource = reduced
        min_resource = min(min_resource, max_resource)

    def seconds(b: Bracket) -> float:
        return _bracket_seconds(b, n_workers, cost, overhead_s)

    kinds = hyperband_brackets(max_resource, eta, min(min_resource, max_resource))
    chosen: list[Bracket] = []
    used = 0.0
    i = 0
    while True:
        b = kinds[i % len(kinds)]
        if used + seconds(b) <= avail:
            chosen.append(b)
            used += seconds(b)
            i += 1
            continue
        # the next full bracket does not fit: the shrunk bracket (any kind) with the most configs
        cands = [_shrink(k, eta, lambda x: used + seconds(x) <= avail) for k in kinds]
        cands = [c for c in cands if c is not None]
        if cands:
            best = max(cands, key=lambda c: (c.n_configs, -len(c.rungs)))
            chosen.append(best)
            used += seconds(best)
        break
    if not chosen:   # only the bare last bracket fits: a single config to max_resource
        chosen = [Bracket(((1, max_resource),))]
        used = seconds(chosen[0])
        notes.append("budget fits a single config at max_resource; no early stopping possible")
    return HyperbandPlan(budget_s=float(budget_s), max_resource=max_resource,
                         min_resource=min(b.min_resource for b in chosen), eta=eta, n_workers=n_workers,
                         seconds_per_unit=cost, overhead_s=float(overhead_s), brackets=tuple(chosen),
                         estimated_s=used, notes=tuple(notes))
