"""The input size a fit trains at, chosen from the images and the budget.

A photograph of a few hundred pixels holds detail that 32 px throws away, but every pixel costs
training time (a convolution's cost grows with the area, ``r ** 2``), and a search that can
afford only a handful of epochs ranks and trains nothing well. So the size is the largest step
of :data:`LADDER` that is

- no larger than the images themselves (the median shorter side of a seeded sample: upscaling
  adds cost and no detail), and
- small enough that the decoded cache of every image stays under :data:`CACHE_BYTES`, and
- small enough that the search can still afford :func:`min_epochs` epochs (``3 * eta ** 2``:
  the plan gives the final model a third of the epochs it can afford, so ``eta ** 2`` epochs,
  a Hyperband bracket of three rungs) of the configs the portfolio starts with.

The epoch cost is measured, not guessed: the portfolio's first backbones are timed at one size
(:data:`PROBE`; speeds are cached per machine) and scaled by the area to every step; the chosen
step is then measured itself (the cost model reads that measurement back) and the choice steps
down while the measurement says it does not fit. Small images keep the old floor: at least 32
px, what stride-32 backbones need.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._plan import SPEED_MARGIN

__all__ = ["LADDER", "PROBE", "ResolutionChoice", "choose_resolution", "min_epochs",
           "median_side"]

LADDER = (32, 48, 64, 96, 128, 160, 192, 224, 256)
PROBE = 64                 # the size the backbones are first timed at
REFERENCE_CONFIGS = 4      # the portfolio's first configs: what the search runs first
CACHE_BYTES = 4 * 2 ** 30  # the decoded cache (uint8 RGB) of every image at the chosen size


def min_epochs(eta: int) -> int:
    """Epochs the search must afford at the chosen size: three times a Hyperband bracket's
    longest rung of ``eta ** 2`` epochs (the plan gives the final model a third)."""
    return 3 * int(eta) ** 2


def median_side(paths, *, random_state=0, sample: int = 256) -> int | None:
    """The median shorter side (image headers only) of a seeded sample of ``paths``; None when
    no file in the sample is a readable image."""
    from ._data import _shorter_side

    rng = np.random.default_rng(random_state)
    chosen = rng.choice(len(paths), size=min(sample, len(paths)), replace=False)
    sides = [side for side in (_shorter_side(paths[int(i)]) for i in chosen) if side]
    return int(np.median(sides)) if sides else None


@dataclass(frozen=True)
class ResolutionChoice:
    """The size chosen, the images' median side, and why (a line for the plan and report)."""

    resolution: int
    side: int | None                  # the images' median shorter side
    epochs: float | None = None       # epochs the search affords at ``resolution``
    needed: int | None = None         # ... and at least this many were asked for
    larger: tuple | None = None       # (the next step up, the epochs it would afford)
    reason: str = ""

    def describe(self) -> str:
        return f"resolution: {self.resolution}px, {self.reason}"

    def to_json(self) -> dict:
        return {"resolution": self.resolution, "side": self.side, "epochs": self.epochs,
                "needed": self.needed, "larger": list(self.larger) if self.larger else None,
                "reason": self.reason}


def choose_resolution(paths, *, search_s: float, n_train: int, n_val: int, backbones,
                      eta: int = 3, n_workers: int = 1, device: str = "cpu",
                      threads: int | None = None, n_classes: int = 10, random_state=0,
                      ladder=LADDER, measure=None) -> ResolutionChoice:
    """The largest :data:`LADDER` step within the images' size at which ``search_s`` seconds on
    ``n_workers`` workers afford :func:`min_epochs` epochs of the median of ``backbones`` (the
    portfolio's first ones, in order). ``measure(names, size) -> {name: (train_ips, eval_ips)}``
    times the backbones (default: :func:`autopreset.backbones.measure_train_speed`, cached per
    machine)."""
    side = median_side(paths, random_state=random_state)
    floor = ladder[0]
    if side is None or side <= floor:
        why = (f"the images' median shorter side is {side}px; stride-32 backbones need {floor}"
               if side else "no image header in the sample could be read")
        return ResolutionChoice(floor, side, reason=why)
    n_images = n_train + n_val
    steps = [r for r in ladder if r <= side and (r == floor or n_images * r * r * 3 <= CACHE_BYTES)]
    capped = steps[-1] < max(r for r in ladder if r <= side)    # by the cache's size
    names = list(dict.fromkeys(backbones))[:REFERENCE_CONFIGS]
    if measure is None:
        measure = _measure(device=device, threads=threads, n_classes=n_classes)
    need = min_epochs(eta)

    def epochs(speeds) -> float:
        costs = [(n_train / tr + n_val / ev) * SPEED_MARGIN for tr, ev in speeds.values()]
        return float(search_s) * max(1, n_workers) / max(float(np.median(costs)), 1e-9)

    probe = epochs(measure(names, PROBE))

    def estimate(r: int) -> float:          # area scaling from the probe
        return probe * (PROBE / r) ** 2

    i = max((k for k, r in enumerate(steps) if estimate(r) >= need), default=0)
    measured = epochs(measure(names, steps[i])) if steps[i] != PROBE else probe
    while i > 0 and measured < need:        # the estimate was too kind: one step down
        i -= 1
        measured = epochs(measure(names, steps[i])) if steps[i] != PROBE else probe
    r = steps[i]
    larger = None
    if i + 1 < len(steps):
        larger = (steps[i + 1], round(measured * (r / steps[i + 1]) ** 2, 1))
    base = f"the images' median shorter side is {side}px"
    afford = (f"the search's {search_s:.0f}s afford ~{measured:.0f} epochs of the portfolio's "
              f"first configs at {r}px (at least {need} wanted: 3 x eta^2)")
    if capped and i + 1 == len(steps):
        why = (f"{base}; the decoded cache of {n_images} images is kept under "
               f"{CACHE_BYTES / 2**30:.0f} GiB; {afford}")
    elif larger is None:
        why = f"{base} (no upscaling); {afford}"
    elif measured < need:
        why = f"{base}; the smallest size, and even there {afford}"
    else:
        why = f"{base}; {afford}, {larger[0]}px only ~{larger[1]:.0f}"
    return ResolutionChoice(r, side, round(measured, 1), need, larger, why)


def _measure(*, device, threads, n_classes):
    from autopreset.backbones import measure_train_speed

    def measure(names, size):
        speeds = measure_train_speed(names, size, n_classes=n_classes, device=device,
                                     threads=threads)
        return {n: (s.train_ips, s.eval_ips) for n, s in speeds.items()}

    return measure
