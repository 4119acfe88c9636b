"""Atomic file writes: a temp file in the same folder, flushed and fsync'ed, then ``os.replace``.

A reader (or a run resumed after a crash) sees the old file or the new one, never half of one.
Files get the permissions a plain ``open`` would give (``0o666 & ~umask``: 0644 under the usual
umask 022) and folders those of ``mkdir`` (``0o777 & ~umask``: 0755), not the 0600/0700 of
``tempfile``'s private files, so a saved model can be shared and served by another user.

    with atomic_path("model/model.onnx") as tmp:   # for writers that want a file name
        torch.onnx.export(module, example, tmp)    # checked here; an error leaves nothing
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

__all__ = ["write_bytes_atomic", "write_json_atomic", "read_json_dict", "merge_json_atomic",
           "atomic_path", "make_dir_temp", "file_mode", "dir_mode", "fsync_dir"]

_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """This process's umask, read without changing it where Linux allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:   # elsewhere: set and restore it (the only portable way to read it)
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode ``open(path, "w")`` gives a new file: ``0o666 & ~umask``."""
    return 0o666 & ~_umask()


def dir_mode() -> int:
    """The mode ``os.mkdir`` gives a new folder: ``0o777 & ~umask``."""
    return 0o777 & ~_umask()


def fsync_dir(path: str | os.PathLike) -> None:
    """Make a rename or new entry in folder ``path`` durable (where the OS supports it)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, mode: int | None = None,
                sync: bool = True) -> Iterator[Path]:
    """Yield a temp file name beside ``path``; when the block ends without an error the file
    is fsync'ed (unless ``sync=False``: a killed process loses nothing the kernel has, only a
    crash of the machine does), given ``mode`` (default :func:`file_mode`) and renamed onto
    ``path``. On an error it is deleted and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    mode = file_mode() if mode is None else mode
    try:
        os.chmod(tmp, mode)    # writers that reopen the file keep it; mkstemp gave 0600
        yield tmp
        os.chmod(tmp, mode)    # (a writer may have replaced the file)
        if sync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
        if sync:
            fsync_dir(path.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, mode: int | None = None,
                       sync: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically; the file gets ``mode`` (default: as ``open``)."""
    with atomic_path(path, mode=mode, sync=sync) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return Path(path)


def write_json_atomic(path: str | os.PathLike, obj: Any, *, indent: int | None = 1,
                      default: Callable[[Any], Any] | None = None, sync: bool = True) -> Path:
    """Write ``obj`` as UTF-8 JSON (unicode kept, NaN refused) to ``path`` atomically."""
    text = json.dumps(obj, indent=indent, ensure_ascii=False, default=default, allow_nan=False)
    return write_bytes_atomic(path, (text + "\n").encode("utf-8"), sync=sync)


def make_dir_temp(parent: str | os.PathLike, *, prefix: str) -> Path:
    """A new uniquely named folder in ``parent`` with :func:`dir_mode` (mkdtemp gives 0700),
    for building a folder that is then renamed into place."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(folder, dir_mode())
    return folder


def read_json_dict(path: str | os.PathLike) -> dict:
    """A JSON object file as a dict; ``{}`` when it is missing or damaged (a cache re-measures)."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        return {}
    return obj if isinstance(obj, dict) else {}


def merge_json_atomic(path: str | os.PathLike, entries: dict) -> Path:
    """Add ``entries`` to the JSON object in ``path``, keeping what another process wrote there."""
    return write_json_atomic(path, {**read_json_dict(path), **entries})
