"""Data preparation for a fit: scan, seeded stratified split, working resolution, decoded cache."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

__all__ = ["Prepared", "prepare_data", "working_resolution", "MirrorCheck", "mirror_check"]

MIN_RESOLUTION, MAX_RESOLUTION = 32, 128


@dataclass(frozen=True)
class Prepared:
    """The scanned dataset, its split and its decoded cache at the working resolution."""

    dataset: object           # autopreset.data.Dataset
    train_idx: np.ndarray
    val_idx: np.ndarray
    resolution: int
    cache: object             # autopreset.data.ImageCache
    kind: object = None       # the autopreset.tasks task type that read it

    @property
    def n_train(self) -> int:
        return len(self.train_idx)

    @property
    def n_val(self) -> int:
        return len(self.val_idx)

    def describe(self) -> str:
        ds = self.dataset
        head = self.kind.describe(ds) if self.kind is not None else f"{len(ds)} images"
        return (f"{head}, {self.n_train} train / "
                f"{self.n_val} validation, {self.resolution}px"
                + (f", {len(ds.skipped)} unreadable file(s) skipped" if ds.skipped else ""))


def working_resolution(paths, *, random_state=0, sample: int = 256,
                       bounds: tuple[int, int] = (MIN_RESOLUTION, MAX_RESOLUTION)) -> int:
    """The median shorter image side of a seeded sample of ``paths``, clipped to ``bounds``.

    Only image headers are read, and files that are not readable images (which the scan
    reports) are left out of the sample: ``prepare_data`` calls this on the files it found,
    before any is decoded. The median keeps a few huge or tiny images from deciding; the clip
    keeps small images large enough for stride-32 backbones and large ones cheap enough to
    train on a CPU.
    """
    rng = np.random.default_rng(random_state)
    chosen = rng.choice(len(paths), size=min(sample, len(paths)), replace=False)
    sides = [side for side in (_shorter_side(paths[int(i)]) for i in chosen) if side]
    side = int(np.median(sides)) if sides else bounds[0]
    return int(np.clip(side, bounds[0], bounds[1]))


def _shorter_side(path) -> int | None:
    """The shorter side a file's image header declares; None for anything but a regular,
    non-empty image file within the decoder's pixel limit (a FIFO is never opened)."""
    import stat
    import warnings

    from PIL import Image

    from autopreset.data import MAX_PIXELS

    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as im:
                w, h = im.size
    except Exception:  # noqa: BLE001 - any unreadable header: the scan says why
        return None
    return min(w, h) if 0 < w * h <= MAX_PIXELS else None


def prepare_data(data, *, seed: int, val_fraction: float = 0.2, resolution: int | None = None,
                 n_jobs: int = -1, task="classification", progress=None,
                 chooser=None) -> Prepared:
    """Read ``data`` the task type's way (a one-line error for a missing, empty or
    single-class folder), split it with ``seed``, and decode it once into the cache at the
    working resolution: ``resolution``, else ``chooser(paths)`` of the files found (fit's
    budget-aware :func:`~autopreset.pipeline._resolution.choose_resolution`), else
    :func:`working_resolution` of them.

    Each image is decoded once: the scan that validates it also writes it into the cache.
    ``progress(stage, done, total)`` is called as files are done (see
    :class:`autopreset.data.ProgressDisplay`: a bar on a terminal, lines otherwise).
    """
    from autopreset.data import build_cache
    from autopreset.errors import InputError
    from autopreset.tasks import get_task

    if resolution is not None and (isinstance(resolution, bool) or int(resolution) != resolution
                                   or resolution < 8):
        raise InputError(f"resolution must be an integer >= 8, got {resolution!r}")
    kind = get_task(task)
    chosen: list[int] = []

    def pick(paths) -> int:           # the files found, before any is decoded
        if resolution is not None:
            chosen.append(int(resolution))
        elif chooser is not None:
            chosen.append(int(chooser(paths)))
        else:
            chosen.append(working_resolution(paths, random_state=seed))
        return chosen[-1]

    dataset = kind.read(data, n_jobs=n_jobs, progress=progress, cache_resolution=pick)
    train_idx, val_idx = kind.split(dataset, val_fraction=val_fraction, random_state=seed)
    res = chosen[0] if chosen else pick(dataset.paths)
    cache = build_cache(dataset, res, n_jobs=n_jobs, progress=progress)   # (found: no decoding)
    return Prepared(dataset, train_idx, val_idx, res, cache, kind)


@dataclass(frozen=True)
class MirrorCheck:
    """Whether left-right mirroring keeps the classes: a linear probe's validation accuracy on
    the images as they are and mirrored. ``kept`` is the share of its above-chance accuracy
    that survives mirroring (about 1 for natural images, about 0.3 for digits and letters)."""

    flip: bool
    accuracy: float
    mirrored_accuracy: float
    chance: float

    @property
    def kept(self) -> float:
        return (self.mirrored_accuracy - self.chance) / max(self.accuracy - self.chance, 1e-9)

    def describe(self) -> str:
        if self.flip:
            return (f"augmentation: random crops and horizontal flips (a linear probe keeps "
                    f"{self.kept:.0%} of its accuracy on mirrored validation images)")
        return (f"augmentation: random crops, no flips: orientation matters here (a linear probe "
                f"keeps only {self.kept:.0%} of its accuracy on mirrored validation images)")

    def to_json(self) -> dict:
        return {"flip": self.flip, "accuracy": self.accuracy,
                "mirrored_accuracy": self.mirrored_accuracy, "chance": self.chance}


MIRROR_MIN_KEPT = 0.8      # below: mirroring changes what the classes look like
MIRROR_MIN_SIGNAL = 0.1    # the probe must beat chance by this much to tell anything


def mirror_check(prepared: Prepared, *, random_state=0, max_train: int = 2000,
                 max_val: int = 1000, side: int = 8) -> MirrorCheck:
    """Decide horizontal-flip augmentation from the data, in about a second.

    Flips are the standard augmentation for natural images, and wrong where orientation is the
    class (digits, letters, arrows, left/right body parts): a mirrored "3" is no digit, and
    the model learns to accept it. A linear probe (ridge classifier, closed form: milliseconds)
    on ``side`` x ``side`` colour thumbnails of (at most) ``max_train`` training images is scored on validation images as they are and
    mirrored; flips stay on unless the probe beats chance by ``MIRROR_MIN_SIGNAL`` and keeps
    less than ``MIRROR_MIN_KEPT`` of that margin on mirrored images.
    """
    from sklearn.linear_model import RidgeClassifier
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(random_state)
    tr = np.sort(rng.permutation(prepared.train_idx)[:max_train])
    va = np.sort(rng.permutation(prepared.val_idx)[:max_val])
    labels = np.asarray(prepared.dataset.labels)
    images = prepared.cache.open()

    def thumbs(idx):                     # (n, side, side, 3) colour thumbnails
        x = images[idx].astype(np.float32)
        k = max(1, x.shape[1] // side)
        n = (x.shape[1] // k) * k
        return x[:, :n, :n].reshape(len(idx), n // k, k, n // k, k, 3).mean((2, 4))

    x_tr, x_va = thumbs(tr), thumbs(va)
    y_tr, y_va = labels[tr], labels[va]
    chance = float(np.bincount(y_va).max() / len(y_va)) if len(y_va) else 1.0
    if len(np.unique(y_tr)) < 2 or len(y_va) == 0:
        return MirrorCheck(True, chance, chance, chance)
    scaler = StandardScaler().fit(x_tr.reshape(len(tr), -1))
    probe = RidgeClassifier(alpha=10.0).fit(scaler.transform(x_tr.reshape(len(tr), -1)), y_tr)
    acc = float(probe.score(scaler.transform(x_va.reshape(len(va), -1)), y_va))
    mirrored = float(probe.score(scaler.transform(x_va[:, :, ::-1].reshape(len(va), -1)), y_va))
    kept = MirrorCheck(True, acc, mirrored, chance).kept
    flip = not (acc - chance >= MIRROR_MIN_SIGNAL and kept < MIRROR_MIN_KEPT)
    return MirrorCheck(flip, acc, mirrored, chance)
