"""Loading, saving and listing presets. JSON only: loading a preset never runs code.

A preset file larger than :data:`MAX_PRESET_BYTES` (4 MiB; the shipped ones are about 20 KiB)
is refused before it is read; the JSON must be UTF-8, without NaN, Infinity or a repeated
key, nested at most 32 levels deep (``autopreset.backbones``'s strict JSON reader).
"""
from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

from autopreset._atomic import write_bytes_atomic
from autopreset.errors import InputError

from ._preset import Preset

_PACKAGE = "autopreset.presets"
#: The largest preset file read.
MAX_PRESET_BYTES = 4 * 1024 * 1024


def list_presets() -> list[str]:
    """Names of the presets shipped with autopreset (``default``, ``latency``, ...), sorted."""
    root = resources.files(_PACKAGE)
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".json"))


def load_preset(path_or_name: "str | os.PathLike | Preset") -> Preset:
    """A shipped preset by name (``"default"``) or a preset file by path, validated.

    Anything that looks like a path (an existing file, a ``.json`` suffix or a path separator)
    is read as a file; otherwise the name is looked up among the shipped presets.

    >>> load_preset("latency").hyperband.eta
    3
    """
    if isinstance(path_or_name, Preset):
        return path_or_name
    text = os.fspath(path_or_name)
    path = Path(text)
    if path.is_file() or text.endswith(".json") or os.sep in text or "/" in text:
        if not path.is_file():
            raise InputError(f"{text}: preset file not found")
        return Preset.from_json(read_preset_json(path, source=text), source=text)
    if text not in list_presets():
        raise InputError(f"unknown preset {text!r}: shipped presets are {', '.join(list_presets())}; "
                         "or give the path of a preset .json file")
    data = resources.files(_PACKAGE).joinpath(f"{text}.json").read_bytes()
    return _parse(data, source=f"{text}.json")


def read_preset_json(path: "str | os.PathLike", *, source: str | None = None) -> Any:
    """The parsed JSON of a preset file (not validated); errors name the file (or ``source``)."""
    from autopreset.backbones._create import read_json_file

    source = source or os.fspath(path)
    try:
        return read_json_file(path, max_bytes=MAX_PRESET_BYTES, source=source, what="preset file")
    except FileNotFoundError:
        raise InputError(f"{source}: preset file not found") from None


def save_preset(preset: Preset, path: "str | os.PathLike") -> Path:
    """Write ``preset`` as indented JSON, atomically (temp file in the same folder, then replace)."""
    data = (json.dumps(preset.to_json(), indent=2, allow_nan=False) + "\n").encode("utf-8")
    return write_bytes_atomic(path, data)


def _parse(data: bytes, *, source: str) -> Preset:
    from autopreset.backbones._create import read_json

    if len(data) > MAX_PRESET_BYTES:
        raise InputError(f"{source}: too large for a preset file (at most 4.0 MiB)")
    return Preset.from_json(read_json(data, source=source), source=source)
