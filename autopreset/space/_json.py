"""JSON round trip of spaces: data only, so a shared space or preset cannot run code on load."""
from __future__ import annotations

import json
from typing import Any

from autopreset.space._domains import Categorical, Domain, Float, Int, Ordinal

FORMAT = "autopreset.space/1"


def space_to_json(space: dict) -> dict:
    """A JSON-ready dict: ``{"format": ..., "params": {name: {"type": ..., ...}}}``, order kept."""
    params = {}
    for name, dom in space.items():
        if isinstance(dom, Domain):
            params[name] = dom.to_json()
        else:
            try:
                json.dumps(dom, allow_nan=False)
            except (TypeError, ValueError):
                raise ValueError(f"constant {name}={dom!r} is not JSON-serialisable") from None
            params[name] = {"type": "constant", "value": dom}
    return {"format": FORMAT, "params": params}


def _need(obj: dict, key: str, name: str) -> Any:
    if key not in obj:
        raise ValueError(f"space entry {name!r} lacks {key!r}: {obj!r}")
    return obj[key]


_KEYS = {"categorical": {"type", "choices"}, "ordinal": {"type", "values"},
         "float": {"type", "low", "high", "log"}, "int": {"type", "low", "high", "log"},
         "constant": {"type", "value"}}


def space_from_json(obj: dict | str) -> dict:
    """Rebuild a space from :func:`space_to_json`'s output (a dict or a JSON string)."""
    if isinstance(obj, str):
        obj = json.loads(obj)
    if not isinstance(obj, dict) or obj.get("format") != FORMAT or not isinstance(obj.get("params"), dict):
        raise ValueError(f"not a space document (want format {FORMAT!r} and a 'params' dict): {str(obj)[:200]}")
    space: dict = {}
    for name, entry in obj["params"].items():
        if not isinstance(entry, dict) or entry.get("type") not in _KEYS:
            raise ValueError(f"space entry {name!r} has no known type ({sorted(_KEYS)}): {entry!r}")
        kind = entry["type"]
        extra = set(entry) - _KEYS[kind]
        if extra:
            raise ValueError(f"space entry {name!r} has unknown keys {sorted(extra)}")
        if kind == "categorical":
            space[name] = Categorical(_need(entry, "choices", name))
        elif kind == "ordinal":
            space[name] = Ordinal(_need(entry, "values", name))
        elif kind == "float":
            space[name] = Float(_need(entry, "low", name), _need(entry, "high", name), log=bool(entry.get("log", False)))
        elif kind == "int":
            space[name] = Int(_need(entry, "low", name), _need(entry, "high", name), log=bool(entry.get("log", False)))
        else:
            space[name] = _need(entry, "value", name)
    return space
