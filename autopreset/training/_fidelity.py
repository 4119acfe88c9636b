"""Input size and data fraction as fidelities: the early epochs of a trial's schedule cheaper.

The config key ``fidelity`` is a schedule of segments ``"until:px:fraction,..."``: epochs
``e < until`` (0-based) of the first segment that holds train at ``px`` pixels (0: the cache's
own size) on a stratified ``fraction`` of the training images; epochs past the last segment,
and the last segment itself, train at full fidelity (``0:1``). An empty string is full
fidelity throughout (the default).

    "1:64:0.111,3:96:0.333,27:0:1"    epoch 1 at 64 px on a ninth of the images, epochs 2-3 at
                                      96 px on a third, the rest at full size on all of them
    "-3:32:1"                         every epoch but the schedule's last 3 at 32 px, those
                                      at full size

An ``until`` of ``-k`` counts from the end of the schedule (``max_resource - k``): the segment
of a schedule whose last ``k`` epochs, and only they, train at the size the model serves at
(the search ranks configs at the low size, and what reaches the top rung is fine-tuned at the
full one with the cosine's low tail learning rate, as FixRes fine-tunes at the test size). It
must be the last segment; :func:`resolve_fidelity` turns it into epochs.

Fit sets the segments at the plan's rungs (``r0, r0 * eta, ..., R``), so every rung of a
successive-halving or Hyperband bracket compares configs trained alike, the many trials stopped
at the low rungs cost a fraction of a full epoch each, and a promoted trial goes on at the next
fidelity from its own checkpoint: progressive resizing (Howard's fast.ai DAWNBench entry,
Tan & Le 2021, EfficientNetV2's progressive learning; FixRes, Touvron et al. 2019, for why a
network trained at a lower size works at a higher one) and training-set subsets as the
multi-fidelity axis of Hyperband (Li et al. 2018) and FABOLAS (Klein et al. 2017).

- Size: each batch is resized (bilinear, antialiased) after augmentation; validation at the
  same size, so a rung compares like with like.
- Fraction: the first ``ceil(fraction * n_c)`` images of each class's seeded permutation, so
  the subsets are nested and every class keeps at least one image. An epoch on a fraction makes
  ``fraction`` of the steps; the learning-rate schedule is spread over the epoch's full-data
  steps, so its cosine still ends at the schedule's last epoch.
- The model a trial keeps (its best epoch) is its best at full fidelity once it has one.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["parse_fidelity", "format_fidelity", "fidelity_at", "resolve_fidelity",
           "stratified_subset"]


def parse_fidelity(text) -> list[tuple[int, int, float]]:
    """``[(until, px, fraction), ...]`` from the config's string; a ValueError names the
    segment that is wrong."""
    if text in (None, ""):
        return []
    if not isinstance(text, str):
        raise ValueError(f"config 'fidelity' must be a string 'until:px:fraction,...', "
                         f"got {text!r}")
    out, last = [], 0
    for part in text.split(","):
        bits = part.strip().split(":")
        try:
            until, px, frac = int(bits[0]), int(bits[1]), float(bits[2])
            if len(bits) != 3:
                raise ValueError
        except (ValueError, IndexError):
            raise ValueError(f"config 'fidelity': segment {part!r} is not "
                             "until:px:fraction") from None
        if until == 0 or (until > 0 and until <= last) or (out and out[-1][0] < 0):
            raise ValueError(f"config 'fidelity': segment {part!r} must end after epoch {last}"
                             " (a segment counted from the end, -k, comes last)")
        if px != 0 and not 8 <= px <= 4096:
            raise ValueError(f"config 'fidelity': segment {part!r}: px must be 0 or in 8..4096")
        if not (0.0 < frac <= 1.0) or not math.isfinite(frac):
            raise ValueError(f"config 'fidelity': segment {part!r}: fraction must be in (0, 1]")
        out.append((until, px, frac))
        last = until
    return out


def resolve_fidelity(segments, max_resource: int) -> list[tuple[int, int, float]]:
    """``segments`` with a last segment counted from the end (``until = -k``) as epochs of a
    schedule of ``max_resource``: ``max_resource - k``; dropped when that leaves it no epoch
    past the segment before it (a schedule of at most ``k`` epochs trains at full fidelity)."""
    out = []
    for until, px, frac in segments:
        if until < 0:
            until = int(max_resource) + until
            if until <= (out[-1][0] if out else 0):
                continue
        out.append((until, px, frac))
    return out


def format_fidelity(segments) -> str:
    return ",".join(f"{int(u)}:{int(p)}:{float(f):.4g}" for u, p, f in segments)


def fidelity_at(segments, epoch: int, full_px: int) -> tuple[int, float]:
    """(px, fraction) for 0-based ``epoch``; ``px`` never above ``full_px`` (the cache's)."""
    for until, px, frac in segments:
        if epoch < until:
            return (min(px, full_px) if px else full_px), frac
    return full_px, 1.0


def stratified_subset(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Sorted rows (into ``labels``) of a nested stratified subset: the first
    ``ceil(fraction * n_c)`` rows of each class's permutation drawn from ``[seed, class]``."""
    labels = np.asarray(labels)
    if fraction >= 1.0:
        return np.arange(len(labels))
    keep = []
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        perm = np.random.default_rng([int(seed), int(c)]).permutation(rows)
        keep.append(perm[:max(1, math.ceil(fraction * len(rows)))])
    return np.sort(np.concatenate(keep))
