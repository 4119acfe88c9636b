"""The per-machine measurement cache the latency and training-speed profilers share.

Both measure per backbone on this machine and keep the results in
``<cache_dir>/<kind>/<machine key>.json``: one JSON object of key -> record (a dataclass as a
dict), so a second run on the same machine reads them at once. Records measured meanwhile by
another process are kept: fresh ones are merged into the file atomically.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Callable, TypeVar

from .._atomic import merge_json_atomic, read_json_dict

__all__ = ["cached_measurements"]

R = TypeVar("R")


def cached_measurements(path: str | Path, keys: dict[str, str], measure: Callable[[str], R],
                        record: Callable[..., R], *, refresh: bool = False) -> dict[str, R]:
    """{name: result} for ``keys`` (cache key -> backbone name, in order): read from ``path``
    where stored (unless ``refresh``), else ``measure(name)``; ``record(**stored)`` rebuilds a
    stored result, ``dataclasses.asdict`` stores a fresh one."""
    stored = read_json_dict(path)
    out, fresh = {}, {}
    for key, name in keys.items():
        if key in stored and not refresh:
            out[name] = record(**stored[key])
            continue
        out[name] = measure(name)
        fresh[key] = asdict(out[name])
    if fresh:   # merge with what another process may have written meanwhile
        merge_json_atomic(path, fresh)
    return out
