"""Files checked and decoded in chunks on every core: the work under scan() and build_cache().

A chunk is a run of consecutive files. A worker fully decodes each one
(:func:`~autopreset.data.decode_image`), records its size and content hash or the reason it
is unusable and, when a row file is given, resizes it to the working resolution and writes the
chunk's rows with one positioned write. Only one chunk's rows (at most ``CHUNK_BYTES``) and one
decoded image are ever held by a worker, so memory stays flat however many images there are.

Large jobs run in worker processes: on images of a few hundred pixels much of the work
(Pillow's header parsing, EXIF, mode conversion) holds the GIL, and threads do not scale.
Small jobs run in threads, which start at once. Workers are spawned (safe beside threads,
torch and CUDA) without the caller's ``__main__``, so a script that calls ``fit`` at top level
is not run again in them. They ignore SIGINT (Ctrl-C stops the caller, which cancels the
chunks not started and waits for the running ones: a fraction of a second) and exit by
themselves within a second when the caller is killed.
"""
from __future__ import annotations

import contextlib
import hashlib
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import types
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from ._decode import BadImageError, decode_image
from ._transforms import resize_uint8

__all__ = ["RowFile", "check_files", "rows_per_chunk", "n_workers", "pwrite_all"]

CHUNK_FILES = 256               # files per chunk: progress steps and scheduling granularity
CHUNK_BYTES = 64 << 20          # decoded rows a worker holds before writing them
PROCESS_MIN_FILES = 2048        # below this, threads: a process pool costs about a second


@dataclass(frozen=True)
class RowFile:
    """Where decoded rows go: row ``i`` (``resolution`` square, RGB uint8) is written at byte
    ``offset + i * row_bytes`` of ``path``."""

    path: str
    offset: int
    resolution: int

    @property
    def row_bytes(self) -> int:
        return self.resolution * self.resolution * 3


def rows_per_chunk(resolution: int | None) -> int:
    """Files per chunk: ``CHUNK_FILES``, fewer when their decoded rows would pass CHUNK_BYTES."""
    if not resolution:
        return CHUNK_FILES
    return max(1, min(CHUNK_FILES, CHUNK_BYTES // (resolution * resolution * 3)))


def n_workers(n_jobs: int) -> int:
    """Workers for ``n_jobs`` as joblib counts them: -1 every usable core, -2 all but one."""
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer, got {n_jobs!r}")
    return max(1, min(cores, n_jobs) if n_jobs > 0 else cores + 1 + n_jobs)


def check_chunk(paths: list[str], first_row: int, max_pixels: int, rows: RowFile | None,
                digest: bool) -> list[tuple]:
    """(sha256 hex or None, None, (w, h)) per good file, (None, reason, None) per bad one; the
    good files' resized pixels written as rows ``first_row ...`` of ``rows`` (bad rows zero)."""
    out = []
    buf = (np.zeros((len(paths), rows.resolution, rows.resolution, 3), np.uint8)
           if rows is not None else None)
    for i, path in enumerate(paths):
        try:
            image = decode_image(path, max_pixels=max_pixels)
            size = image.size
            if buf is not None:
                buf[i] = resize_uint8(image, rows.resolution)
            del image
            out.append((sha256_file(path) if digest else None, None, size))
        except BadImageError as err:
            out.append((None, str(err), None))
        except OSError as err:
            out.append((None, f"cannot read file: {err.strerror or err}", None))
    if rows is not None:
        write_rows(rows, first_row, buf)
    return out


def write_rows(rows: RowFile, first_row: int, data: np.ndarray) -> None:
    """``data`` (whole rows) written as rows ``first_row ...`` of ``rows``."""
    fd = os.open(rows.path, os.O_WRONLY)
    try:
        pwrite_all(fd, np.ascontiguousarray(data), rows.offset + first_row * rows.row_bytes)
    finally:
        os.close(fd)


def pwrite_all(fd: int, data, at: int) -> None:
    """All of ``data`` (bytes or a contiguous array) written at byte ``at`` of ``fd``."""
    view, pos = memoryview(data).cast("B"), 0
    while pos < len(view):
        pos += os.pwrite(fd, view[pos:], at + pos)


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_files(paths: list[str], *, n_jobs: int, max_pixels: int, rows: RowFile | None = None,
                digest: bool = True, progress=None, stage: str = "scan",
                chunk_size: int | None = None) -> list[tuple]:
    """:func:`check_chunk` over ``paths`` (row ``i`` is ``paths[i]``), in chunks of
    ``chunk_size`` files on ``n_jobs`` workers; one result per path, in order.
    ``progress(stage, done, total)`` is called at the start and as each chunk finishes."""
    total = len(paths)
    size = chunk_size or rows_per_chunk(rows.resolution if rows else None)
    jobs = [(paths[s:s + size], s, max_pixels, rows, digest) for s in range(0, total, size)]
    results: list = [None] * len(jobs)
    done = 0
    if progress is not None:
        progress(stage, 0, total)

    def finished(k: int, part: list) -> None:
        nonlocal done
        results[k] = part
        done += len(part)
        if progress is not None:
            progress(stage, done, total)

    workers = min(n_workers(n_jobs), max(1, len(jobs)))
    if workers == 1:
        for k, job in enumerate(jobs):
            finished(k, check_chunk(*job))
    else:
        with _pool(workers, processes=total >= PROCESS_MIN_FILES) as pool:
            _run_pooled(pool, jobs, 2 * workers, finished)
    return [r for part in results for r in part]


def _run_pooled(pool, jobs: list[tuple], ahead: int, finished) -> None:
    """Each job through ``pool`` with at most ``ahead`` queued (so a cancel is prompt);
    ``finished(k, result)`` in the caller's thread as job ``k`` ends."""
    pending: dict = {}
    todo = iter(enumerate(jobs))
    try:
        for k, job in todo:
            pending[pool.submit(check_chunk, *job)] = k
            if len(pending) >= ahead:
                break
        while pending:
            for fut in wait(pending, return_when=FIRST_COMPLETED)[0]:
                finished(pending.pop(fut), fut.result())
                nxt = next(todo, None)
                if nxt is not None:
                    pending[pool.submit(check_chunk, *nxt[1])] = nxt[0]
    finally:
        for fut in pending:
            fut.cancel()


@contextlib.contextmanager
def _pool(workers: int, *, processes: bool):
    if not processes:
        with ThreadPoolExecutor(workers) as pool:
            yield pool
        return
    pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                               initializer=_worker_init, initargs=(os.getpid(),))
    try:
        with _bare_main():           # start every worker now, without the caller's script
            for _ in range(workers):
                pool.submit(int)
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_init(parent: int) -> None:
    """Ignore SIGINT (the caller decides), and exit when the caller is gone (killed without
    the chance to shut the pool down), instead of waiting for work forever."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


_MAIN_LOCK = threading.Lock()


@contextlib.contextmanager
def _bare_main():
    """While workers spawn, ``__main__`` is a bare module (no ``__file__``), so they import no
    main module; as in the local executor (autopreset/executors/_local.py)."""
    with _MAIN_LOCK:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main
