"""Whether fit's first rung trains at a lower fidelity, and at which: the cost model decides.

Epochs are fit's fidelity. When a full epoch is too expensive to rank configs (the search
affords fewer than :func:`~._resolution.min_epochs` epochs of the planned portfolio configs,
``3 * eta ** 2``), the epochs below the first rung (``r0``) of every bracket train on less:

- a large folder (at least :data:`LARGE_FOLDER` training images): a stratified fraction of the
  images (``1 / eta ** 2``, or ``1 / eta`` when that would leave under :data:`MIN_SUBSET`);
- else an input of at least 64 px: a smaller input (the size over ``sqrt(eta)``: about
  ``1 / eta`` of the pixels, at least 32 px);

and only where it pays: the cost model (speeds measured on this machine, at the smaller size
too) must put such an epoch at no more than :data:`PAYS` of a full one. One axis at a time,
so a rung compares configs on one kind of shortcut. Every epoch from ``r0`` on is at full
fidelity, so the portfolio's survivors, the best survivor's full schedule and every rung above
the first compare configs trained at the size the model serves at, on every image; the switch
re-plans the rest from the full-fidelity epochs' measured seconds. The trainer applies it
(:mod:`autopreset.training._fidelity`, config key ``fidelity``).

When even so the search at the serving size affords no Hyperband pass (the plan can only
continue a few portfolio configs: a handful of trials is no search), :func:`choose_tail`
moves the whole search to a smaller input and keeps only the *tail* of every schedule at the
serving size: every epoch but the last ``max(1, R // eta ** 2)`` trains at the largest
:data:`~._resolution.LADDER` step below the serving size at which the plan has Hyperband
brackets again (progressive resizing; FixRes, Touvron et al. 2019: a network trained small
and fine-tuned briefly at the test size, with a low learning rate, the cosine's tail here,
matches or beats one trained at the test size throughout). The rungs below the top rank
configs at the small size; each trial that reaches the top rung, the final model among them,
trains its last epochs at the serving size, and the plan sets their extra seconds aside.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._plan import SPEED_MARGIN
from ._resolution import min_epochs

__all__ = ["FidelityChoice", "choose_fidelity", "choose_tail", "LARGE_FOLDER", "PAYS"]

LARGE_FOLDER = 2000        # training images: below, a subset is too small to rank configs
MIN_SUBSET = 1000          # images in the first rung's subset at the least
MIN_SIZE_FOR_RESIZE = 64   # px: below, a smaller input loses what the classes need
PAYS = 0.7                 # a cheaper epoch must cost at most this share of a full one


@dataclass(frozen=True)
class FidelityChoice:
    """``px``/``fraction`` of the first rung's epochs (0 / 1: full), what such an epoch costs
    as a share of a full one (``ratio``), and why; :meth:`schedule` is the trainer's string."""

    px: int = 0
    fraction: float = 1.0
    ratio: float = 1.0
    reason: str = ""
    tail: int = 0           # > 0: every epoch but a schedule's last ``tail`` at ``px``

    @property
    def reduced(self) -> bool:
        return self.px > 0 or self.fraction < 1.0

    def schedule(self, r0: int) -> str:
        if self.tail:
            return f"-{int(self.tail)}:{self.px}:1"
        return f"{int(r0)}:{self.px}:{self.fraction:.4g}" if self.reduced else ""

    def describe(self, r0: int | None = None) -> str:
        if self.tail:
            last = "the last one" if self.tail == 1 else f"the last {self.tail}"
            return (f"fidelity: {self.reason}: every epoch but a schedule's last {self.tail} "
                    f"trains at {self.px}px (~{self.ratio:.0%} of a full epoch's cost), {last} "
                    "at the serving size")
        if not self.reduced or r0 is None:
            return f"fidelity: {self.reason}"
        what = (f"on a stratified {self.fraction:.0%} of the images" if self.fraction < 1
                else f"at {self.px}px")
        return (f"fidelity: {self.reason}: {_first(r0)} {what} (~{self.ratio:.0%} of a full "
                "epoch's cost), every later epoch at full fidelity")


def choose_fidelity(plan, cost, *, resolution: int, measure=None) -> FidelityChoice:
    """The first rung's fidelity for ``plan`` (a FitPlan made at full fidelity) from ``cost``
    (its CostModel) at the run's ``resolution``. ``measure(names, px) -> {name: (train_ips,
    eval_ips)}`` times the backbones at a smaller size (default: the per-machine cached speed
    measurement on the CPU). Fit then plans again with the first rung at ``ratio`` of the cost
    (``make_plan(first_rung_cost=...)``) and keeps it where that plan has a rung below the
    portfolio's top."""
    eta, configs = plan.eta, plan.portfolio
    epoch = [SPEED_MARGIN * cost.epoch_seconds(c) for c in configs]
    afford = plan.search_s * plan.n_workers / max(float(np.median(epoch)), 1e-9)
    need = min_epochs(eta)
    if afford >= need:
        return FidelityChoice(reason=f"full throughout (the search affords ~{afford:.0f} full "
                                     f"epochs of the portfolio's configs, {need} wanted)")
    short = f"the search affords only ~{afford:.0f} full epochs ({need} wanted)"
    if cost.n_train >= LARGE_FOLDER:
        frac = 1.0 / eta ** 2 if cost.n_train / eta ** 2 >= MIN_SUBSET else 1.0 / eta
        ratio = float(np.median([_epoch(cost, c, fraction=frac) / _epoch(cost, c)
                                 for c in configs]))
        if ratio <= PAYS:
            return FidelityChoice(fraction=round(frac, 4), ratio=ratio, reason=short)
    if resolution >= MIN_SIZE_FOR_RESIZE:
        px = max(32, int(round(resolution / math.sqrt(eta) / 8)) * 8)
        names = list(dict.fromkeys(c["backbone"] for c in configs))
        speeds = (measure or _measure(cost))(names, px)
        ratio = float(np.median([_epoch(cost, c, speeds=speeds) / _epoch(cost, c)
                                 for c in configs]))
        if ratio <= PAYS:
            return FidelityChoice(px=px, ratio=ratio, reason=short)
        return FidelityChoice(reason=f"full throughout ({short}, but a {px}px epoch costs "
                                     f"~{ratio:.0%} of a full one here: it does not pay)")
    return FidelityChoice(reason=f"full throughout ({short}, but the folder is too small to "
                                 "subsample and the images too small to shrink)")


def tail_epochs(max_resource: int, eta: int) -> int:
    """Epochs at the end of a schedule of ``max_resource`` that train at the serving size in
    tail mode: its last ``1 / eta ** 2`` (the length of the top bracket's second rung), at
    least one."""
    return max(1, int(max_resource) // int(eta) ** 2)


def tail_seconds(plan, full_epoch: float, low_epoch: float) -> float:
    """Seconds the tails of ``plan``'s schedules add over training them small: every trial
    that reaches the top rung (each bracket's last rung, and the best portfolio survivor's
    continuation) trains ``tail_epochs`` at ``full_epoch`` instead of ``low_epoch``."""
    R = plan.max_resource
    top = 1 + sum(n for rungs in (plan.hyperband or {}).get("brackets", [])
                  for n, r in rungs if r >= R)
    extra = tail_epochs(R, plan.eta) * max(0.0, full_epoch - low_epoch) * SPEED_MARGIN
    return top * extra / max(1, plan.n_workers)


def choose_tail(plan, cost, *, resolution: int, plan_at, ladder=None):
    """Tail mode for ``plan`` (at the serving ``resolution``, with ``cost`` its cost model):
    ``(FidelityChoice, cost model, plan)`` at the largest ladder step below ``resolution``
    whose plan, with the tails' extra seconds set aside, has Hyperband brackets; None when the
    plan at the serving size has them already or no smaller size brings them back.
    ``plan_at(px, extra_s) -> (cost, plan)`` plans the same configs with epochs at ``px`` in
    ``extra_s`` seconds less."""
    from ._resolution import LADDER

    if plan.hyperband is not None:
        return None
    for px in sorted((r for r in (ladder or LADDER) if r < resolution), reverse=True):
        low, first = plan_at(px, 0.0)
        if first.hyperband is None:
            continue
        full, small = _median_epochs(first.portfolio, cost, low, resolution, px)
        low, again = plan_at(px, tail_seconds(first, full, small))
        if again.hyperband is None:
            continue
        full, small = _median_epochs(again.portfolio, cost, low, resolution, px)
        k = tail_epochs(again.max_resource, again.eta)
        why = (f"at {resolution}px the search affords no Hyperband pass (the plan would only "
               f"continue {len(plan.portfolio)} portfolio config(s)); at {px}px it does")
        return FidelityChoice(px=px, ratio=small / full, reason=why, tail=k), low, again
    return None


def _median_epochs(configs, cost, low, resolution, px) -> tuple[float, float]:
    """Median seconds of a full epoch and of one at ``px`` over ``configs`` (a backbone the
    full-size cost model did not measure: its small epoch scaled by the area)."""
    full, small = [], []
    for c in configs:
        e = low.epoch_seconds(c)
        small.append(e)
        full.append(cost.epoch_seconds(c) if c["backbone"] in cost.train_ips
                    else e * (resolution / px) ** 2)
    return float(np.median(full)), float(np.median(small))


def _first(r0: int) -> str:
    return "epoch 1 trains" if r0 == 1 else f"epochs 1..{r0} train"


def _epoch(cost, config, *, fraction: float = 1.0, speeds=None) -> float:
    """Seconds of one epoch of ``config`` on ``fraction`` of the images (at the speeds of
    ``speeds`` when given: another input size)."""
    name = config["backbone"]
    train, ev = speeds[name] if speeds else (cost.train_ips[name], cost.eval_ips[name])
    bs = min(int(config.get("batch_size", cost.ref_batch)), cost.n_train)
    n = max(bs, int(fraction * cost.n_train) // bs * bs)
    return n / (train * cost.batch_factor(bs)) + cost.n_val / ev + cost.epoch_overhead_s


def _measure(cost):
    from ._resolution import _measure as measure

    return measure(device="cpu", threads=None, n_classes=10)
