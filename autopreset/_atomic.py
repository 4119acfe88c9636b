"""Atomic file writes: a temp file in the same folder, flushed and fsync'ed, then ``os.replace``.

A reader (or a run resumed after a crash) sees the old file or the new one, never half of one.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

__all__ = ["write_bytes_atomic", "write_json_atomic", "read_json_dict", "merge_json_atomic"]


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, mode: int = 0o644) -> Path:
    """Write ``data`` to ``path`` atomically; the file gets ``mode`` (mkstemp alone gives 0600)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_json_atomic(path: str | os.PathLike, obj: Any, *, indent: int | None = 1,
                      default: Callable[[Any], Any] | None = None) -> Path:
    """Write ``obj`` as UTF-8 JSON (unicode kept, NaN refused) to ``path`` atomically."""
    text = json.dumps(obj, indent=indent, ensure_ascii=False, default=default, allow_nan=False)
    return write_bytes_atomic(path, (text + "\n").encode("utf-8"))


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
