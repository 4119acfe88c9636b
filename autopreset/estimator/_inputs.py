"""What an :class:`~autopreset.estimator.ImageClassifier` accepts as ``X`` and ``y``, checked once,
and how it reaches the fit pipeline.

``X`` is one of: a uint8 image array ``(N, H, W)`` or ``(N, H, W, C)`` with C in 1, 3, 4; a
list of images (PIL images or uint8 ``(H, W[, C])`` arrays, sizes may differ); a list of image
paths; a table (pandas or polars DataFrame) with a path column. Images in memory reach the
pipeline as lossless PNG files beside a ``path,label`` CSV (the CSV ``autopreset fit`` reads):
the pipeline scans, validates, fingerprints and caches files, so the same code path as the
command line runs, and a PNG of :func:`autopreset.data.load_rgb`'s RGB image decodes back to
exactly the pixels ``predict`` feeds the model for the same image in memory.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autopreset.errors import InputError

__all__ = ["Inputs", "read_inputs", "check_labels", "class_names", "stage", "batches"]

NEEDS_Y = "ImageClassifier requires y to be passed, but the target y is None"
MAX_NAME = 1000          # the longest class name a saved model holds (model.ModelCard)


@dataclass(frozen=True)
class Inputs:
    """The samples of ``X``: ``paths`` (image files) or ``images`` (PIL images or arrays)."""

    kind: str            # "paths" or "images"
    items: list

    def __len__(self) -> int:
        return len(self.items)


def is_table(x) -> bool:
    """A pandas or polars DataFrame (anything with columns that is not an array)."""
    return hasattr(x, "columns") and not isinstance(x, np.ndarray)


def _columns(table) -> str:
    names = [str(c) for c in table.columns]
    return ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")


def _column(table, name, what: str, param: str) -> np.ndarray:
    """The column ``name`` as an array of its own dtype (labels keep theirs, as sklearn's)."""
    if name not in list(table.columns):
        raise InputError(f"X has no {what} column {name!r} (its columns: {_columns(table)}); "
                         f"set {param}= to the column that holds the {what}s")
    return np.asarray(table[name])


def read_inputs(X, y=None, *, path: str = "path", label: str = "label",
                need_y: bool = True) -> tuple[Inputs, object]:
    """(the samples of ``X``, ``y``): with a table ``X`` and no ``y``, ``y`` is its ``label``
    column (when ``need_y``). A one-line InputError for anything else."""
    if is_table(X):
        items = list(_column(X, path, "path", "path"))
        if need_y and y is None:
            y = _column(X, label, "label", "label")
        return _paths(items), y
    if need_y and y is None:
        raise InputError(f"{NEEDS_Y} (or pass a DataFrame with a {label!r} column)")
    from scipy import sparse

    if sparse.issparse(X):
        raise InputError("X is a sparse matrix: sparse input is not supported; give images "
                         "(a uint8 array (N, H, W[, C]), PIL images or image paths)")
    if isinstance(X, np.ndarray) and X.dtype.kind not in "OUS":
        return Inputs("images", _image_array(X)), y
    if isinstance(X, (str, os.PathLike)):
        raise InputError(f"X is one path ({str(X)!r}): give a list of image paths")
    try:
        items = list(X)
    except TypeError:
        raise InputError(f"X must be images (a uint8 array, PIL images, image paths or a "
                         f"DataFrame of paths), got {type(X).__name__}") from None
    if not items:
        raise InputError("X holds no images")
    if all(isinstance(v, (str, os.PathLike)) for v in items):
        return _paths(items), y
    return Inputs("images", [_one_image(v, i) for i, v in enumerate(items)]), y


def _image_array(x: np.ndarray) -> list:
    shape = tuple(x.shape)
    if x.ndim == 2:
        raise InputError(f"X has shape {shape}: expected images (N, H, W) or (N, H, W, C); "
                         "reshape flat rows into images first (e.g. X.reshape(-1, 8, 8))")
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[3] not in (1, 3, 4)):
        raise InputError(f"X has shape {shape}: expected images (N, H, W) or (N, H, W, C) "
                         "with C in 1, 3, 4")
    if x.dtype != np.uint8:
        raise InputError(f"X must hold uint8 pixels (0..255), got dtype {x.dtype}; convert it, "
                         "e.g. (X * 255).round().astype(np.uint8) for floats in 0..1")
    if 0 in shape:
        raise InputError(f"X has shape {shape}: no images, or images without pixels")
    return list(x)


def _one_image(v, i: int):
    from PIL import Image

    if isinstance(v, Image.Image):
        return v
    if isinstance(v, (str, os.PathLike)):
        raise InputError(f"X[{i}] is a path but other items are images: give one kind")
    a = np.asarray(v) if isinstance(v, np.ndarray) else None
    if a is None or a.dtype != np.uint8 or a.ndim not in (2, 3) or 0 in a.shape or (
            a.ndim == 3 and a.shape[2] not in (1, 3, 4)):
        what = (f"an array of shape {a.shape} and dtype {a.dtype}" if a is not None
                else f"a {type(v).__name__}")
        raise InputError(f"X[{i}] is {what}: expected a PIL image, a uint8 array (H, W) or "
                         "(H, W, C) with C in 1, 3, 4, or an image path")
    return a


def _paths(items: list) -> Inputs:
    out = []
    for i, p in enumerate(items):
        if not isinstance(p, (str, os.PathLike)):
            raise InputError(f"X[{i}] is a {type(p).__name__}, not an image path")
        if not os.path.isfile(p):
            raise InputError(f"X[{i}]: {str(p)!r}: no such file")
        out.append(os.path.abspath(p))
    if not out:
        raise InputError("X holds no image paths")
    return Inputs("paths", out)


def check_labels(y, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(classes, each sample's index into them) for ``n`` samples (any number when None);
    one-line errors for a length mismatch, non-class targets, missing values, one class, a
    class of one sample."""
    from sklearn.utils.multiclass import type_of_target
    from sklearn.utils.validation import column_or_1d

    try:
        y = column_or_1d(np.asarray(y), warn=True)
    except ValueError as exc:
        raise InputError(f"y: {exc}") from None
    if n is not None and len(y) != n:
        raise InputError(f"X has {n} images but y has {len(y)} labels")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise InputError("y has missing labels (NaN)")
    if y.dtype == object and any(v is None for v in y):
        raise InputError("y has missing labels (None)")
    try:
        kind = type_of_target(y, input_name="y")
        classes, index = np.unique(y, return_inverse=True)
    except (TypeError, ValueError) as exc:
        raise InputError(f"y: labels must be one type that sorts (ints or strings): "
                         f"{str(exc).splitlines()[0]}") from None
    if kind not in ("binary", "multiclass"):
        raise InputError(f"y must hold class labels, got a {kind} target")
    if len(classes) < 2:
        raise InputError(f"y has only one class ({_plain(classes[0])!r}): a classifier needs at "
                         "least two")
    counts = np.bincount(index, minlength=len(classes))
    if counts.min() < 2:
        c = _plain(classes[int(np.argmin(counts))])
        raise InputError(f"y: class {c!r} has 1 sample; each class needs at least 2 (one for "
                         "training, one for validation)")
    return classes, index.astype(np.int64)


def _plain(value):
    """A numpy scalar as the Python value (``3``, not ``np.int64(3)``, in messages)."""
    return value.item() if isinstance(value, np.generic) else value


def class_names(classes: np.ndarray) -> list[str]:
    """The class names the saved model records for ``classes``: their text when that is a
    usable, distinct class name for each, else ``class_0``, ``class_1``, ...."""
    names = [str(c) for c in classes]
    usable = all(n and n == n.strip() and len(n) <= MAX_NAME for n in names)
    if usable and len(set(names)) == len(names):
        return names
    width = len(str(len(names) - 1))
    return [f"class_{i:0{width}d}" for i in range(len(names))]


def stage(inputs: Inputs, labels: list[str], folder: Path) -> Path:
    """Write ``folder/data.csv`` (``path,label`` rows) for the pipeline; images in memory as
    lossless PNG files in ``folder/images``. Returns the CSV's path."""
    folder = Path(folder)
    if inputs.kind == "images":
        (folder / "images").mkdir()
        paths = [str(folder / "images" / f"{i:07d}.png") for i in range(len(inputs))]
        from joblib import Parallel, delayed

        Parallel(n_jobs=-1, prefer="threads", batch_size=64)(
            delayed(_write_png)(im, p) for im, p in zip(inputs.items, paths))
    else:
        paths = [_csv_safe(p, i, folder) for i, p in enumerate(inputs.items)]
    target = folder / "data.csv"
    with open(target, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "label"])
        writer.writerows(zip(paths, labels))
    return target


def _write_png(image, path: str) -> None:
    from autopreset.data import load_rgb

    load_rgb(image).save(path, format="PNG", compress_level=1)


def _csv_safe(path: str, i: int, folder: Path) -> str:
    """``path``, or a link to it when the CSV reader would strip its surrounding whitespace."""
    if path == path.strip():
        return path
    links = folder / "links"
    links.mkdir(exist_ok=True)
    link = links / f"{i:07d}{Path(path.strip() or 'image').suffix}"
    os.symlink(path, link)
    return str(link)


def batches(inputs: Inputs, size: int = 256, *, read=None):
    """(start, RGB images) batches of ``inputs`` for prediction; an unreadable file is a
    one-line InputError naming it (every sample needs a prediction). ``read(path)`` decodes a
    file as the model's preprocessing record says (``Predictor.read_image``)."""
    from autopreset.data import BadImageError, decode_image, load_rgb

    for start in range(0, len(inputs), size):
        chunk = inputs.items[start:start + size]
        if inputs.kind == "images":
            yield start, [load_rgb(im) for im in chunk]
            continue
        images = []
        for p in chunk:
            try:
                images.append(read(p) if read else decode_image(p))
            except BadImageError as exc:
                raise InputError(f"{p}: {exc}") from None
        yield start, images
