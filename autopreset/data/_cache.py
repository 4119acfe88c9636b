"""Decoded-image cache: every image decoded and resized once, shared by all trials and runs.

The cache is one ``.npy`` file of shape (N, S, S, 3), uint8, in dataset order, named by the
dataset's ``cache_key`` (its contents, labels and order) and the working resolution S, under
:func:`cache_dir` (``$AUTOPRESET_CACHE`` or ``~/.cache/autopreset``). Trials open it memory-mapped, so worker processes share the
operating system's page cache instead of each decoding JPEGs. It is written to a temporary
file and renamed into place, so a reader never sees a half-written cache and two processes
building it at once do no harm.

    cache = build_cache(dataset, 32)      # decodes only on the first call
    images = cache.open()                 # np.memmap, (N, 32, 32, 3) uint8
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from autopreset._atomic import write_json_atomic
from autopreset.errors import InputError

from ._decode import MAX_PIXELS, decode_image
from ._scan import Dataset
from ._transforms import resize_uint8

__all__ = ["ImageCache", "build_cache", "cache_dir"]


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """The cache folder: ``path`` if given, else ``$AUTOPRESET_CACHE``, else ~/.cache/autopreset."""
    if path is None:
        path = os.environ.get("AUTOPRESET_CACHE") or Path.home() / ".cache" / "autopreset"
    return Path(path)


@dataclass(frozen=True)
class ImageCache:
    """Where a decoded dataset lives on disk; small and picklable (send it to workers)."""

    path: str
    n_images: int
    resolution: int
    fingerprint: str

    def open(self) -> np.ndarray:
        """The images as a read-only memory map, (N, S, S, 3) uint8."""
        arr = np.load(self.path, mmap_mode="r")
        expected = (self.n_images, self.resolution, self.resolution, 3)
        if arr.shape != expected or arr.dtype != np.uint8:
            raise ValueError(f"image cache {self.path!r} has shape {arr.shape} {arr.dtype}, "
                             f"expected {expected} uint8; delete it to rebuild")
        return arr


def build_cache(dataset: Dataset, resolution: int, *, directory=None, n_jobs: int = -1
                ) -> ImageCache:
    """Decode and resize ``dataset`` once into the cache (reused when already there)."""
    if int(resolution) != resolution or resolution < 1:
        raise InputError(f"resolution must be a positive integer, got {resolution!r}")
    if not dataset.fingerprint or len(dataset.file_hashes) != len(dataset):
        raise InputError("dataset has no content hashes; build it with autopreset.data.scan()")
    folder = cache_dir(directory) / "images"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dataset.cache_key[:24]}-{resolution}px.npy"
    cache = ImageCache(str(path), len(dataset), int(resolution), dataset.fingerprint)
    if path.exists():
        try:
            cache.open()
            return cache
        except (ValueError, OSError):
            pass                                     # stale or damaged: rebuild below
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npy.tmp")
    os.close(fd)
    try:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8,
                                        shape=(len(dataset), resolution, resolution, 3))
        chunks = np.array_split(np.arange(len(dataset)), max(1, len(dataset) // 256))
        parts = Parallel(n_jobs=n_jobs, prefer="threads")(
            delayed(_decode_chunk)([dataset.paths[i] for i in chunk], resolution)
            for chunk in chunks)
        for chunk, part in zip(chunks, parts):
            out[chunk] = part
        out.flush()
        del out
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    meta = {"fingerprint": dataset.fingerprint, "resolution": int(resolution),
            "n_images": len(dataset), "classes": list(dataset.classes)}
    _write_json_atomic(path.with_suffix(".json"), meta)
    return cache


def _decode_chunk(paths: list[str], resolution: int) -> np.ndarray:
    out = np.empty((len(paths), resolution, resolution, 3), dtype=np.uint8)
    for i, p in enumerate(paths):
        out[i] = resize_uint8(decode_image(p, max_pixels=MAX_PIXELS), resolution)
    return out


def _write_json_atomic(path: Path, obj) -> None:
    write_json_atomic(path, obj)
