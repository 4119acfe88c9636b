"""Seeded, stratified train/validation splits and cross-validation folds.

Every class keeps its share in both parts (at least one image on each side), so a rare class
is never missing from validation. Randomness comes only from ``random_state``.
"""
from __future__ import annotations

import numpy as np

from autopreset.errors import InputError

from ._scan import Dataset

__all__ = ["split", "cv_folds"]


def _labels(data) -> np.ndarray:
    return np.asarray(data.labels if isinstance(data, Dataset) else data, dtype=np.int64)


def _class_name(data, c: int) -> str:
    return repr(data.classes[c]) if isinstance(data, Dataset) else str(c)


def split(data: Dataset | np.ndarray, val_fraction: float = 0.2,
          random_state: int | np.random.Generator | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted (train_idx, val_idx), stratified by class.

    Each class with n images gives ``round(n * val_fraction)`` to validation, clipped to
    1 .. n-1. ``data`` is a Dataset or an array of integer labels.
    """
    if not 0.0 < val_fraction < 1.0:
        raise InputError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    labels = _labels(data)
    rng = np.random.default_rng(random_state)
    train, val = [], []
    for c in range(int(labels.max(initial=-1)) + 1):
        members = np.flatnonzero(labels == c)
        if len(members) == 0:
            continue
        if len(members) < 2:
            raise InputError(f"class {_class_name(data, c)} has {len(members)} image(s); "
                             "at least 2 are needed to split it into train and validation")
        n_val = min(max(1, int(round(len(members) * val_fraction))), len(members) - 1)
        perm = rng.permutation(members)
        val.append(perm[:n_val])
        train.append(perm[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def cv_folds(data: Dataset | np.ndarray, n_folds: int = 5,
             random_state: int | np.random.Generator | None = 0
             ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold (train_idx, val_idx) pairs, for data too small for one split."""
    if int(n_folds) != n_folds or n_folds < 2:
        raise InputError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    labels = _labels(data)
    rng = np.random.default_rng(random_state)
    fold_of = np.empty(len(labels), dtype=np.int64)
    offset = 0
    for c in range(int(labels.max(initial=-1)) + 1):
        members = np.flatnonzero(labels == c)
        if 0 < len(members) < n_folds:
            raise InputError(f"class {_class_name(data, c)} has {len(members)} image(s); "
                             f"{n_folds}-fold cross-validation needs at least {n_folds}")
        perm = rng.permutation(members)
        # Rotate the starting fold per class so fold sizes stay balanced overall.
        fold_of[perm] = (np.arange(len(perm)) + offset) % n_folds
        offset += len(perm)
    idx = np.arange(len(labels))
    return [(idx[fold_of != k], idx[fold_of == k]) for k in range(n_folds)]
