"""Data preparation for a fit: scan, seeded stratified split, working resolution, decoded cache."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Prepared", "prepare_data", "working_resolution"]

MIN_RESOLUTION, MAX_RESOLUTION = 32, 128


@dataclass(frozen=True)
class Prepared:
    """The scanned dataset, its split and its decoded cache at the working resolution."""

    dataset: object           # autopreset.data.Dataset
    train_idx: np.ndarray
    val_idx: np.ndarray
    resolution: int
    cache: object             # autopreset.data.ImageCache

    @property
    def n_train(self) -> int:
        return len(self.train_idx)

    @property
    def n_val(self) -> int:
        return len(self.val_idx)

    def describe(self) -> str:
        ds = self.dataset
        return (f"{len(ds)} images, {len(ds.classes)} classes, {self.n_train} train / "
                f"{self.n_val} validation, {self.resolution}px"
                + (f", {len(ds.skipped)} unreadable file(s) skipped" if ds.skipped else ""))


def working_resolution(paths, *, random_state=0, sample: int = 256,
                       bounds: tuple[int, int] = (MIN_RESOLUTION, MAX_RESOLUTION)) -> int:
    """The median shorter image side of a seeded sample of ``paths``, clipped to ``bounds``.

    Only image headers are read. The median keeps a few huge or tiny images from deciding;
    the clip keeps small images large enough for stride-32 backbones and large ones cheap
    enough to train on a CPU.
    """
    from PIL import Image

    rng = np.random.default_rng(random_state)
    chosen = rng.choice(len(paths), size=min(sample, len(paths)), replace=False)
    sides = []
    for i in chosen:
        try:
            with Image.open(paths[int(i)]) as im:
                sides.append(min(im.size))
        except (OSError, ValueError):
            continue
    side = int(np.median(sides)) if sides else bounds[0]
    return int(np.clip(side, bounds[0], bounds[1]))


def prepare_data(data, *, seed: int, val_fraction: float = 0.2, resolution: int | None = None,
                 n_jobs: int = -1) -> Prepared:
    """Scan ``data`` (ValueError with one line for a missing/empty/single-class folder), split it
    stratified with ``seed``, and decode it once into the cache at the working resolution."""
    from autopreset.data import build_cache, scan, split

    dataset = scan(data, n_jobs=n_jobs)
    train_idx, val_idx = split(dataset, val_fraction=val_fraction, random_state=seed)
    if resolution is None:
        resolution = working_resolution(dataset.paths, random_state=seed)
    elif int(resolution) != resolution or resolution < 8:
        raise ValueError(f"resolution must be an integer >= 8, got {resolution!r}")
    cache = build_cache(dataset, int(resolution), n_jobs=n_jobs)
    return Prepared(dataset, train_idx, val_idx, int(resolution), cache)
