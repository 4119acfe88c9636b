"""The preset schema, written as data, and a small checker for the JSON-Schema subset it uses.

The schema is plain JSON-Schema vocabulary (type, properties, required, additionalProperties,
propertyNames, items, enum, const, minimum, maximum, minLength, maxLength, minItems, maxItems,
maxProperties, pattern), so it can be published as is; the checker here needs no dependency
and reports the first problem as one line that names the key path, e.g.
``portfolio[3].reason: expected string, got integer 7``.

A preset is data shared between people, so every field is bounded: strings (free text up to
20000 characters, names and list items up to 2000), lists and objects (the portfolio up to
1000 configs), Hyperband's ``eta`` (2..10) and resources (1..10000). The file itself is bounded
in size before it is parsed and in nesting depth as it is parsed (:mod:`._io`).
"""
from __future__ import annotations

import math
import re
from typing import Any

FORMAT = "autopreset.preset/1"
TIERS = ("tiny", "small", "medium", "large")
RESOURCE_KINDS = ("epochs", "data_fraction", "resolution")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_KEY = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"      # a config key of the search space

MAX_TEXT = 20_000        # description, curation, reason, command
MAX_STRING = 2_000       # names, sources, datasets, tags, versions, paths
MAX_LIST = 10_000        # sources, datasets, zoo files and tasks
MAX_PORTFOLIO = 1_000    # portfolio configs
MAX_KEYS = 100           # keys of a config, parameters of a space
MAX_ETA = 10
MAX_RESOURCE = 10_000

_STR = {"type": "string", "minLength": 1, "maxLength": MAX_STRING}
_TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}
_STR_LIST = {"type": "array", "items": _STR, "maxItems": MAX_LIST}
_KEY_NAMES = {"type": "string", "pattern": _KEY, "maxLength": 100}

PRESET_SCHEMA: dict[str, Any] = {
    "type": "object",
    # "tiers" may be left out: a backbone's tier then comes from the backbone catalog
    "required": ["format", "name", "description", "provenance", "space", "portfolio", "hyperband"],
    "additionalProperties": False,
    "properties": {
        "format": {"type": "string"},
        "name": {"type": "string", "pattern": _NAME, "maxLength": 100},
        "description": _TEXT,
        "provenance": {
            "type": "object",
            "required": ["sources", "datasets", "date", "versions", "curation"],
            "additionalProperties": False,
            "properties": {
                "sources": _STR_LIST,
                "datasets": _STR_LIST,
                "date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                "versions": {"type": "object", "maxProperties": MAX_KEYS,
                             "propertyNames": {"maxLength": 100},
                             "additionalProperties": {"type": "string", "maxLength": MAX_STRING}},
                "curation": _TEXT,
                "command": _TEXT,
                "zoo": {
                    "type": "object",
                    "required": ["files", "tasks", "horizon", "configs"],
                    "additionalProperties": False,
                    "properties": {
                        "files": {"type": "array", "maxItems": MAX_LIST, "items": {
                            "type": "object", "required": ["path", "sha256"],
                            "additionalProperties": False,
                            "properties": {"path": _STR, "sha256": {"type": "string",
                                                                    "pattern": "^[0-9a-f]{64}$"}}}},
                        "tasks": _STR_LIST,
                        "horizon": {"type": "integer", "minimum": 1, "maximum": MAX_RESOURCE},
                        "configs": {"type": "integer", "minimum": 1, "maximum": 10**9},
                        "machines": _STR_LIST,
                    },
                },
            },
        },
        "space": {   # the entries are checked by space_from_json and the preset's bounds
            "type": "object", "required": ["format", "params"],
            "properties": {"params": {
                "type": "object", "maxProperties": MAX_KEYS, "propertyNames": _KEY_NAMES,
                "additionalProperties": {"type": "object", "properties": {
                    "values": {"type": "array", "minItems": 1, "maxItems": MAX_PORTFOLIO},
                    "choices": {"type": "array", "minItems": 1, "maxItems": MAX_PORTFOLIO}}}}},
        },
        "portfolio": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_PORTFOLIO,
            "items": {
                "type": "object",
                "required": ["config", "reason"],
                "additionalProperties": False,
                "properties": {
                    # checked against the preset's space
                    "config": {"type": "object", "maxProperties": MAX_KEYS},
                    "reason": _TEXT,
                    "tags": {**_STR_LIST, "maxItems": 100},
                    "tier": {"enum": list(TIERS)},
                },
            },
        },
        "tiers": {"type": "object", "maxProperties": MAX_PORTFOLIO,
                  "additionalProperties": {"enum": list(TIERS)}},
        "hyperband": {
            "type": "object",
            "required": ["eta", "min_resource", "max_resource", "resource"],
            "additionalProperties": False,
            "properties": {
                "eta": {"type": "integer", "minimum": 2, "maximum": MAX_ETA},
                "min_resource": {"type": "integer", "minimum": 1, "maximum": MAX_RESOURCE},
                "max_resource": {"type": "integer", "minimum": 1, "maximum": MAX_RESOURCE},
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
    s = " ".join(s.split()) if "\n" in s or "\r" in s else s
    return s if len(s) <= limit else s[: limit - 3] + "..."


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = " ".join(str(key).split()) or repr(key)   # one line, even for a key of spaces
    key = key if len(key) <= 60 else key[:57] + "..."
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
    _check_scalar(value, schema, where)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            raise ValueError(f"{where}: needs at least {schema['minItems']} item(s)")
        _at_most(len(value), schema.get("maxItems"), "items", where)
        for i, item in enumerate(value):
            check(item, schema.get("items", {}), join(path, i))
    if isinstance(value, dict):
        _at_most(len(value), schema.get("maxProperties"), "keys", where)
        if "propertyNames" in schema:
            for key in value:
                check(key, schema["propertyNames"], f"{where} key {show(key, 40)}")
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


def _check_scalar(value: Any, schema: dict[str, Any], where: str) -> None:
    """minimum, maximum, minLength, maxLength and pattern."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise ValueError(f"{where}: {show(value)} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise ValueError(f"{where}: {show(value)} is above the maximum {schema['maximum']}")
    if isinstance(value, str):
        if len(value.strip()) < schema.get("minLength", 0):
            raise ValueError(f"{where}: must not be empty")
        if len(value) > schema.get("maxLength", math.inf):
            raise ValueError(f"{where}: {len(value)} characters is longer than the "
                             f"{schema['maxLength']} allowed")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            raise ValueError(f"{where}: {show(value)} does not match {schema['pattern']}")


def _at_most(n: int, limit: int | None, what: str, where: str) -> None:
    if limit is not None and n > limit:
        raise ValueError(f"{where}: {n} {what} is more than the {limit} allowed")
