"""Learning-rate schedule: linear warmup, then cosine decay, over the *maximum* resource.

The schedule is a pure function of the global step and of ``max_resource`` (not of the
resource a trial happens to be given now), so a trial paused at epoch 3 and resumed to
epoch 9 follows exactly the curve of a trial run to epoch 9 in one go (Loshchilov & Hutter,
"SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017, for the cosine shape;
Goyal et al. 2017, "Accurate, Large Minibatch SGD", for the warmup).
"""
from __future__ import annotations

import math

__all__ = ["lr_factor", "warmup_steps_for", "backbone_factor"]


def warmup_steps_for(total_steps: int, steps_per_epoch: int) -> int:
    """Warm up for 5% of training, at most one epoch, at least one step."""
    return max(1, min(steps_per_epoch, int(round(0.05 * total_steps))))


def lr_factor(step: int, total_steps: int, warmup_steps: int, floor: float = 0.01) -> float:
    """Multiplier of the base LR at ``step`` (0-based) of ``total_steps``.

    Rises linearly to 1 over ``warmup_steps``, then follows a half cosine down to ``floor``.
    """
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def backbone_factor(step: int, total_steps: int, warmup_steps: int, lp_steps: int = 0,
                    floor: float = 0.01) -> float:
    """Multiplier of the backbone's LR at ``step`` when it is fine-tuned from weights.

    0 during the first ``lp_steps`` (the linear probe of LP-FT: the head trains alone), then a
    linear warm-up over ``warmup_steps`` from that point, into the same cosine decay as the
    head's (:func:`lr_factor`); with ``lp_steps=0`` it is :func:`lr_factor` itself.
    """
    if step < lp_steps:
        return 0.0
    if lp_steps == 0:
        return lr_factor(step, total_steps, warmup_steps, floor)
    cosine = lr_factor(max(step, warmup_steps), total_steps, warmup_steps, floor)
    ramp = 1.0 if warmup_steps <= 0 else min(1.0, (step - lp_steps + 1) / warmup_steps)
    return ramp * cosine
