"""Candidate points for optimizing an acquisition over a mixed space, in the unit cube.

Random points cover the space; local moves around the best observed points refine it (SMAC's
interleaving of random and local search, Hutter et al., 2011). Every row is snapped, so it is
exactly the encoding of the config it decodes to.
"""
from __future__ import annotations

import numpy as np

from autopreset.space import Categorical, encoding_layout, sample_unit, snap


def random_candidates(space: dict, n: int, rng: np.random.Generator) -> np.ndarray:
    return sample_unit(space, n, rng)


def local_candidates(space: dict, centers: np.ndarray, n_each: int, rng: np.random.Generator,
                     scales: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2)) -> np.ndarray:
    """``n_each`` moves around each center: each parameter changes with probability 1/2 (at least
    one does); numeric coordinates take a Gaussian step of a scale drawn from ``scales``, reflected
    at the bounds; a changing categorical picks a uniformly random choice."""
    lay = encoding_layout(space)
    if len(centers) == 0 or not lay:
        return np.zeros((0, centers.shape[1] if centers.ndim == 2 else 0))
    X = np.repeat(centers, n_each, axis=0)
    n = len(X)
    change = rng.random((n, len(lay))) < 0.5
    force = rng.integers(len(lay), size=n)
    change[np.arange(n), force] = True
    step = np.asarray(scales)[rng.integers(len(scales), size=n)]
    for j, (_, dom, sl) in enumerate(lay):
        rows = change[:, j]
        if not rows.any():
            continue
        if isinstance(dom, Categorical):
            block = np.zeros((int(rows.sum()), dom.width))
            block[np.arange(len(block)), rng.integers(dom.width, size=len(block))] = 1.0
            X[rows, sl] = block
        else:
            u = X[rows, sl.start] + rng.normal(0.0, 1.0, int(rows.sum())) * step[rows]
            u = np.abs(u) % 2.0
            X[rows, sl.start] = np.where(u > 1.0, 2.0 - u, u)
    return snap(space, X)


def row_keys(X: np.ndarray) -> list[bytes]:
    """Identity of snapped rows (rounded, so float noise does not make two configs differ)."""
    return [r.tobytes() for r in np.round(X, 9)]
