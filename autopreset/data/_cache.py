"""Decoded-image cache: every image decoded and resized once, shared by all trials and runs.

The cache is one ``.npy`` file of shape (N, S, S, 3), uint8, in dataset order, named by the
dataset's ``cache_key`` (its contents, labels and order) and the working resolution S, under
:func:`cache_dir` (``$AUTOPRESET_CACHE`` or ``~/.cache/autopreset``). Trials open it memory-mapped, so worker processes share the
operating system's page cache instead of each decoding JPEGs. It is written to a temporary
file and renamed into place, so a reader never sees a half-written cache and two processes
building it at once do no harm.

It is written in chunks (at most 64 MB of decoded rows per worker, written in place with
positioned writes, never through a mapping of the whole file), so building the cache of
100,000 images needs no more memory than building one of 100. ``scan(...,
cache_resolution=S)`` fills the same cache while it validates the files, so each image is
decoded once; ``build_cache`` then finds it.

    cache = build_cache(dataset, 32)      # decodes only on the first call
    images = cache.open()                 # np.memmap, (N, 32, 32, 3) uint8
"""
from __future__ import annotations

import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from autopreset._atomic import write_json_atomic
from autopreset.errors import InputError

from ._chunks import RowFile, check_files, pwrite_all
from ._decode import MAX_PIXELS

if TYPE_CHECKING:
    from ._scan import Dataset

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


def build_cache(dataset: "Dataset", resolution: int, *, directory=None, n_jobs: int = -1,
                progress=None, chunk_size: int | None = None) -> ImageCache:
    """Decode and resize ``dataset`` once into the cache (reused when already there).

    ``progress(stage, done, total)`` (stage ``"cache"``) is called while it decodes;
    ``chunk_size`` caps the files a worker decodes before writing their rows (by default 256,
    fewer at resolutions where 256 rows pass 64 MB).
    """
    resolution = _check_resolution(resolution)
    if not dataset.fingerprint or len(dataset.file_hashes) != len(dataset):
        raise InputError("dataset has no content hashes; build it with autopreset.data.scan()")
    cache = _cached(dataset, resolution, directory)
    if cache is not None:
        return cache
    with RowWriter(directory, len(dataset), resolution) as writer:
        results = check_files(list(dataset.paths), n_jobs=n_jobs, max_pixels=MAX_PIXELS,
                              rows=writer.rows, digest=False, progress=progress,
                              stage="cache", chunk_size=chunk_size)
        for path, (_, reason, _) in zip(dataset.paths, results):
            if reason is not None:
                raise InputError(f"{path!r} can no longer be decoded ({reason}); it changed "
                                 "since the folder was scanned: scan it again")
        return writer.commit(dataset)


def _check_resolution(resolution) -> int:
    if isinstance(resolution, bool) or int(resolution) != resolution or resolution < 1:
        raise InputError(f"resolution must be a positive integer, got {resolution!r}")
    return int(resolution)


def _cache_path(directory, dataset: "Dataset", resolution: int) -> Path:
    return cache_dir(directory) / "images" / f"{dataset.cache_key[:24]}-{resolution}px.npy"


def _cached(dataset: "Dataset", resolution: int, directory) -> ImageCache | None:
    """The cache of ``dataset`` at ``resolution`` when it is already built and sound."""
    path = _cache_path(directory, dataset, resolution)
    cache = ImageCache(str(path), len(dataset), resolution, dataset.fingerprint)
    if path.exists():
        try:
            cache.open()
            return cache
        except (ValueError, OSError):
            pass                                     # stale or damaged: rebuild it
    return None


_HEADER_BYTES = 128          # the .npy header, padded to a fixed length (a multiple of 64)


def _npy_header(shape: tuple[int, ...]) -> bytes:
    """A version-1.0 .npy header for a C-ordered uint8 array of ``shape``, always
    ``_HEADER_BYTES`` long, so it can be rewritten in place when rows are dropped."""
    text = "{'descr': '|u1', 'fortran_order': False, 'shape': %r, }" % (tuple(shape),)
    body = _HEADER_BYTES - 10
    if len(text) >= body:
        raise InputError(f"image cache shape {shape} is too large to record")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", body) + (text.ljust(body - 1) + "\n").encode()


class RowWriter:
    """A cache file being written: ``n`` rows at ``resolution`` in a temporary file next to the
    cache, which :meth:`commit` renames into place (or removes, when the cache appeared
    meanwhile); leaving the ``with`` block without committing removes it."""

    def __init__(self, directory, n: int, resolution: int):
        self.directory, self.n = directory, n
        self.folder = cache_dir(directory) / "images"
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(dir=self.folder, suffix=".npy.tmp")
        self.rows = RowFile(self.tmp, _HEADER_BYTES, int(resolution))
        try:
            os.write(fd, _npy_header((n, resolution, resolution, 3)))
            os.ftruncate(fd, _HEADER_BYTES + n * self.rows.row_bytes)   # sparse until written
        except BaseException:
            os.close(fd)
            os.unlink(self.tmp)
            raise
        os.close(fd)

    def __enter__(self) -> "RowWriter":
        return self

    def __exit__(self, *exc) -> None:
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)

    def keep(self, rows: np.ndarray) -> None:
        """Drop every row not in ``rows`` (sorted indices): the kept ones move up in place."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == self.n:
            return
        size, base = self.rows.row_bytes, self.rows.offset
        block = max(1, (64 << 20) // size)
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1      # runs of consecutive rows
        with open(self.tmp, "r+b") as fh:
            fd, dst = fh.fileno(), 0
            for run in np.split(rows, breaks):
                if len(run) == 0:
                    continue
                src = int(run[0])
                if src != dst:
                    for k in range(0, len(run), block):
                        m = min(block, len(run) - k)
                        data = os.pread(fd, m * size, base + (src + k) * size)
                        pwrite_all(fd, data, base + (dst + k) * size)
                dst += len(run)
            os.pwrite(fd, _npy_header((dst, self.rows.resolution, self.rows.resolution, 3)), 0)
            fh.truncate(base + dst * size)
        self.n = dst

    def commit(self, dataset: "Dataset") -> ImageCache:
        """Rename the file into place as the cache of ``dataset`` (its rows, in its order)."""
        if self.n != len(dataset):
            raise ValueError(f"{self.n} rows written for a dataset of {len(dataset)} images")
        resolution = self.rows.resolution
        path = _cache_path(self.directory, dataset, resolution)
        existing = _cached(dataset, resolution, self.directory)
        if existing is not None:             # another process built it meanwhile
            return existing
        os.replace(self.tmp, path)
        meta = {"fingerprint": dataset.fingerprint, "resolution": resolution,
                "n_images": len(dataset), "classes": list(dataset.classes)}
        write_json_atomic(path.with_suffix(".json"), meta)
        return ImageCache(str(path), len(dataset), resolution, dataset.fingerprint)

