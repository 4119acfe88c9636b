"""The preset schema, written as data, and a small checker for the JSON-Schema subset it uses.

The schema is plain JSON-Schema vocabulary (type, properties, required, additionalProperties,
items, enum, const, minimum, minLength, minItems, pattern), so it can be published as is;
the checker here needs no dependency and reports the first problem as one line that names
the key path, e.g. ``portfolio[3].reason: expected string, got integer 7``.
"""
from __future__ import annotations

import math
import re
from typing import Any

FORMAT = "autopreset.preset/1"
TIERS = ("tiny", "small", "medium", "large")
RESOURCE_KINDS = ("epochs", "data_fraction", "resolution")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

_STR = {"type": "string", "minLength": 1}
_STR_LIST = {"type": "array", "items": _STR}

PRESET_SCHEMA: dict[str, Any] = {
    "type": "object",
    # "tiers" may be left out: a backbone's tier then comes from the backbone catalog
    "required": ["format", "name", "description", "provenance", "space", "portfolio", "hyperband"],
    "additionalProperties": False,
    "properties": {
        "format": {"type": "string"},
        "name": {"type": "string", "pattern": _NAME},
        "description": _STR,
        "provenance": {
            "type": "object",
            "required": ["sources", "datasets", "date", "versions", "curation"],
            "additionalProperties": False,
            "properties": {
                "sources": _STR_LIST,
                "datasets": _STR_LIST,
                "date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                "versions": {"type": "object", "additionalProperties": {"type": "string"}},
                "curation": _STR,
                "command": _STR,
                "zoo": {
                    "type": "object",
                    "required": ["files", "tasks", "horizon", "configs"],
                    "additionalProperties": False,
                    "properties": {
                        "files": {"type": "array", "items": {
                            "type": "object", "required": ["path", "sha256"],
                            "additionalProperties": False,
                            "properties": {"path": _STR, "sha256": {"type": "string",
                                                                    "pattern": "^[0-9a-f]{64}$"}}}},
                        "tasks": _STR_LIST,
                        "horizon": {"type": "integer", "minimum": 1},
                        "configs": {"type": "integer", "minimum": 1},
                        "machines": _STR_LIST,
                    },
                },
            },
        },
        "space": {"type": "object", "required": ["format", "params"]},  # checked by space_from_json
        "portfolio": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["config", "reason"],
                "additionalProperties": False,
                "properties": {
                    "config": {"type": "object"},  # checked against the preset's space
                    "reason": _STR,
                    "tags": _STR_LIST,
                    "tier": {"enum": list(TIERS)},
                },
            },
        },
        "tiers": {"type": "object", "additionalProperties": {"enum": list(TIERS)}},
        "hyperband": {
            "type": "object",
            "required": ["eta", "min_resource", "max_resource", "resource"],
            "additionalProperties": False,
            "properties": {
                "eta": {"type": "integer", "minimum": 2},
                "min_resource": {"type": "integer", "minimum": 1},
                "max_resource": {"type": "integer", "minimum": 1},
                "resource": {"enum": list(RESOURCE_KINDS)},
            },
        },
    },
}

_TYPES = {"object": dict, "array": list, "string": str, "integer": int, "number": (int, float),
          "boolean": bool}


def json_type(v: Any) -> str:
    """The JSON name of a Python value's type (``bool`` is not an integer here)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    for name in ("object", "array", "string", "integer"):
        if isinstance(v, _TYPES[name]):
            return name
    return "number" if isinstance(v, float) else type(v).__name__


def show(v: Any, limit: int = 60) -> str:
    """A short JSON-ish rendering of a value for an error message."""
    s = repr(v) if not isinstance(v, str) else '"' + v + '"'
    return s if len(s) <= limit else s[: limit - 3] + "..."


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def check(value: Any, schema: dict[str, Any], path: str = "") -> None:
    """Raise ``ValueError("<path>: <problem>")`` for the first place ``value`` breaks ``schema``."""
    where = path or "(top level)"
    if "const" in schema and value != schema["const"]:
        raise ValueError(f"{where}: must be {show(schema['const'])}, got {show(value)}")
    if "enum" in schema and (not isinstance(value, str) or value not in schema["enum"]):
        raise ValueError(f"{where}: {show(value)} is not one of {', '.join(schema['enum'])}")
    kind = schema.get("type")
    if kind is not None:
        ok = json_type(value) == kind or (kind == "number" and json_type(value) == "integer")
        if not ok:
            raise ValueError(f"{where}: expected {kind}, got {json_type(value)} {show(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where}: {value} is not a finite number")
    if "minimum" in schema and value < schema["minimum"]:
        raise ValueError(f"{where}: {show(value)} is below the minimum {schema['minimum']}")
    if isinstance(value, str):
        if len(value.strip()) < schema.get("minLength", 0):
            raise ValueError(f"{where}: must not be empty")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            raise ValueError(f"{where}: {show(value)} does not match {schema['pattern']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            raise ValueError(f"{where}: needs at least {schema['minItems']} item(s)")
        for i, item in enumerate(value):
            check(item, schema.get("items", {}), join(path, i))
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                raise ValueError(f"{where}: missing required key {show(key)}")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                check(item, props[key], join(path, key))
            elif extra is False:
                allowed = ", ".join(sorted(props))
                raise ValueError(f"{join(path, key)}: unknown key (allowed here: {allowed})")
            elif isinstance(extra, dict):
                check(item, extra, join(path, key))
