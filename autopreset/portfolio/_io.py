"""Loading, saving and listing presets. JSON only: loading a preset never runs code."""
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
        return _parse(path.read_bytes(), source=text)
    if text not in list_presets():
        raise InputError(f"unknown preset {text!r}: shipped presets are {', '.join(list_presets())}; "
                         "or give the path of a preset .json file")
    data = resources.files(_PACKAGE).joinpath(f"{text}.json").read_bytes()
    return _parse(data, source=f"{text}.json")


def read_preset_json(path: "str | os.PathLike") -> Any:
    """The parsed JSON of a preset file (not validated); errors name the file."""
    return _loads(Path(path).read_bytes(), source=os.fspath(path))


def save_preset(preset: Preset, path: "str | os.PathLike") -> Path:
    """Write ``preset`` as indented JSON, atomically (temp file in the same folder, then replace)."""
    data = (json.dumps(preset.to_json(), indent=2, allow_nan=False) + "\n").encode("utf-8")
    return write_bytes_atomic(path, data)


def _parse(data: bytes, *, source: str) -> Preset:
    return Preset.from_json(_loads(data, source=source), source=source)


def _loads(data: bytes, *, source: str) -> Any:
    def no_constants(name: str) -> Any:
        raise InputError(f"{name} is not allowed (JSON has no NaN or Infinity)")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise InputError(f"key {k!r} appears twice in one object")
            out[k] = v
        return out

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=no_constants, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})") from None
    except ValueError as exc:
        raise InputError(f"{source}: not valid JSON: {exc}") from None
