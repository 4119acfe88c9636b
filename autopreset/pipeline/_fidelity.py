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
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._plan import SPEED_MARGIN
from ._resolution import min_epochs

__all__ = ["FidelityChoice", "choose_fidelity", "LARGE_FOLDER", "PAYS"]

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

    @property
    def reduced(self) -> bool:
        return self.px > 0 or self.fraction < 1.0

    def schedule(self, r0: int) -> str:
        return f"{int(r0)}:{self.px}:{self.fraction:.4g}" if self.reduced else ""

    def describe(self, r0: int | None = None) -> str:
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
