"""The preset schema: JSON Schema (draft 2020-12), written here as data, published as
``preset.schema.json`` beside this module, checked with the ``jsonschema`` library.

:data:`PRESET_SCHEMA` is the one source: the shipped file is this dict as indented JSON (a test
compares them), and ``autopreset presets schema`` prints it for editors and CI. :func:`check`
validates a document with jsonschema and reports the first problem as one line that names the
key path, e.g. ``portfolio[3].reason: expected string, got integer 7``.

autopreset reads types a little more strictly than JSON Schema does: an integer is written
without a fraction (``3``, not ``3.0``), a number is finite, and a boolean is neither. What a
schema cannot say (portfolio configs inside the space, tiers of backbones, domain bounds) is
checked in code (:mod:`._preset`).

A preset is data shared between people, so every field is bounded: strings (free text up to
20000 characters, names and list items up to 2000), lists and objects (the portfolio up to
1000 configs), Hyperband's ``eta`` (2..10) and resources (1..10000). The file itself is bounded
in size before it is parsed and in nesting depth as it is parsed (:mod:`._io`).
"""
from __future__ import annotations

import json
import math
from typing import Any

FORMAT = "autopreset.preset/1"
SCHEMA_ID = "urn:autopreset:schema:preset:1"
SCHEMA_FILE = "preset.schema.json"
TIERS = ("tiny", "small", "medium", "large")
RESOURCE_KINDS = ("epochs", "data_fraction", "resolution")
#: What may propose the configs after the portfolio (autopreset.searchers' names less grid and
#: list; a test keeps them in step) and what runs them (PortfolioHyperband.INNER).
PROPOSALS = ("random", "bayesopt", "bayesopt_gp", "bayesopt_forest", "annealing", "evolution")
INNER = ("hyperband", "curve_stopping")
PREFERENCES = ("latency", "balanced", "accuracy")
COLOURS = ("colour", "greyscale", "mixed")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_KEY = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"      # a config key of the search space
NONBLANK = r"\S"                              # a string with something besides spaces

MAX_TEXT = 20_000        # description, curation, reason, command
MAX_STRING = 2_000       # names, sources, datasets, tags, versions, paths
MAX_LIST = 10_000        # sources, datasets, zoo files and tasks, classes
MAX_PORTFOLIO = 1_000    # portfolio configs
MAX_KEYS = 100           # keys of a config, parameters of a space
MAX_ETA = 10
MAX_RESOURCE = 10_000
MAX_COUNT = 10**9        # images, configs, trials


def _str(text: str, limit: int = MAX_STRING) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": limit, "pattern": NONBLANK,
            "description": text}


def _text(text: str) -> dict[str, Any]:
    return _str(text, MAX_TEXT)


def _list(text: str, item: str, limit: int = MAX_LIST) -> dict[str, Any]:
    return {"type": "array", "maxItems": limit, "items": _str(item), "description": text}


def _int(text: str, low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high, "description": text}


def _num(text: str, low: float, high: float) -> dict[str, Any]:
    return {"type": "number", "minimum": low, "maximum": high, "description": text}


def _obj(text: str, required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "description": text, "required": required,
            "additionalProperties": False, "properties": properties}


def _stats(text: str) -> dict[str, Any]:
    side = "pixels, over every image of the dataset"
    return _obj(text, ["min", "median", "max"], {
        "min": _int(f"The smallest, in {side}.", 1, 10**6),
        "median": _num(f"The median, in {side}.", 1, 10**6),
        "max": _int(f"The largest, in {side}.", 1, 10**6)})


_ZOO = _obj(
    "The zoo a zoo-built preset was chosen from (autopreset zoo portfolio).",
    ["files", "tasks", "horizon", "configs"], {
        "files": {"type": "array", "maxItems": MAX_LIST, "description":
                  "The zoo's record files, by path relative to the zoo and content hash.",
                  "items": _obj("One record file.", ["path", "sha256"], {
                      "path": _str("The file's path, relative to where the zoo was built."),
                      "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                                 "description": "SHA-256 of the file's bytes, lowercase hex."}})},
        "tasks": _list("The zoo tasks the portfolio was chosen on, each with its key.", "A task."),
        "horizon": _int("Epochs the portfolio was chosen at (its configs' best within).", 1,
                        MAX_RESOURCE),
        "configs": _int("Candidate configs the zoo recorded.", 1, MAX_COUNT),
        "machines": _list("The machines that recorded the curves (processor, device, threads).",
                          "A machine."),
        "tiers": {"type": "array", "minItems": 1, "maxItems": 16, "items": {"enum": list(TIERS)},
                  "description": "The backbone size tiers the portfolio was chosen among."},
        "size": _int("Configs the portfolio was asked for (autopreset zoo portfolio -k).", 1,
                     MAX_COUNT),
        "cells": _obj(
            "The recorded cells it was built from, so that autopreset zoo check can tell "
            "whether a zoo still holds them unchanged as its files grow.",
            ["count", "sha256", "configs"], {
                "count": _int("Cells (task x config records).", 1, MAX_COUNT),
                "horizon": _int("Epochs of the recorded runs.", 1, MAX_RESOURCE),
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description":
                           "SHA-256 over the sorted lines 'task key, config id, SHA-256 of "
                           "the record's canonical JSON' of every cell."},
                "configs": {"type": "array", "minItems": 1, "maxItems": MAX_LIST,
                            "items": {"type": "string", "pattern": "^[0-9A-Za-z_.-]{1,64}$"},
                            "description": "The ids of the configs recorded on every task."}}),
    })

_DATASET = _obj(
    "The data the run trained on, described (never named by its path): classes, images, sizes "
    "and the content fingerprint.",
    ["fingerprint", "images", "classes"], {
        "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description":
                        "SHA-256 over the sorted (class name, file content hash) pairs: equal "
                        "for equal data wherever it lives and however its files are named "
                        "(a saved model's data_fingerprint)."},
        "images": _int("Images used (readable ones), all classes together.", 0, MAX_COUNT),
        "classes": {"type": "array", "minItems": 1, "maxItems": MAX_LIST, "description":
                    "The classes in the model's order (sorted names), each with its images; "
                    "their number is the list's length.",
                    "items": _obj("One class.", ["name", "images"], {
                        "name": {"type": "string", "maxLength": MAX_STRING,
                                 "description": "The class name (its folder or CSV label)."},
                        "images": _int("Images of this class.", 0, MAX_COUNT)})},
        "split": _obj("The seeded, stratified split the search scored on.",
                      ["train", "validation"], {
                          "train": _int("Training images.", 0, MAX_COUNT),
                          "validation": _int("Validation images.", 0, MAX_COUNT)}),
        "skipped": _int("Files left out as unreadable or not images.", 0, MAX_COUNT),
        "width": _stats("Image widths, as stored (after EXIF orientation)."),
        "height": _stats("Image heights, as stored (after EXIF orientation)."),
        "colour": {"enum": list(COLOURS), "description":
                   "Whether the images hold colour: greyscale when every sampled image has equal "
                   "red, green and blue, colour when none has, mixed otherwise."},
    })

_RUN = _obj(
    "The fit run a preset card was written by (absent from presets made otherwise). No path, "
    "user or host name is recorded: the data is described, not named.",
    ["task", "dataset", "resolution", "augmentation"], {
        "task": _str("The task type (classification)."),
        "dataset": _DATASET,
        "resolution": _int("The side, in pixels, of the square images the run trained at.", 1,
                           4096),
        "augmentation": _obj("The training augmentation the run decided from its data.",
                             ["flip"], {
            "flip": {"type": "boolean", "description":
                     "Random horizontal flips (off where mirroring changes the classes)."},
            "crop_scale": _num("Smallest random-crop area, a fraction of the image (absent "
                               "when each config sets crop_scale).", 0, 1),
            "mirror_check": _obj(
                "The linear probe that decided flips: validation accuracy on the images as "
                "they are and mirrored, and the most common class's share.",
                ["accuracy", "mirrored_accuracy", "chance"], {
                    "accuracy": _num("Probe accuracy on the validation images.", 0, 1),
                    "mirrored_accuracy": _num("Probe accuracy on them mirrored.", 0, 1),
                    "chance": _num("Share of the most common validation class.", 0, 1)})}),
        "prefer": {"enum": list(PREFERENCES), "description": "The run's --prefer."},
        "max_latency_ms": {"type": "number", "exclusiveMinimum": 0, "maximum": 1e9,
                           "description": "The run's --max-latency-ms, when given."},
        "budget_s": _num("The run's budget, in seconds.", 0, 1e9),
        "seed": _int("The run's seed (split, sampling).", -2**63, 2**64),
        "trials": _int("Trials the run started.", 0, MAX_COUNT),
    })

PRESET_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "autopreset preset",
    "description": (
        "A preset for autopreset fit: a search space, an ordered portfolio of configs with the "
        "reason for each, backbone tiers and Hyperband settings, with their provenance. Data "
        f"only, never code. Format {FORMAT}; a preset card (preset.json in a run folder) is a "
        "preset too. autopreset presets validate also checks what a schema cannot say: every "
        "portfolio config inside the space, the tiers, the bounds of the trainer's keys."),
    "type": "object",
    # "tiers" may be left out: a backbone's tier then comes from the backbone catalog
    "required": ["format", "name", "description", "provenance", "space", "portfolio", "hyperband"],
    "additionalProperties": False,
    "properties": {
        "$schema": _str("Where an editor finds this schema (a path or URL; ignored by autopreset)."),
        "format": {"const": FORMAT, "description": "The preset format and its version."},
        "name": {"type": "string", "pattern": _NAME, "maxLength": 100,
                 "description": "The preset's name: letters, digits, '_', '.', '-'."},
        "description": _text("What the preset is for, in a sentence or two."),
        "provenance": _obj(
            "Where the preset came from: sources, datasets, date, versions, how it was curated.",
            ["sources", "datasets", "date", "versions", "curation"], {
                "sources": _list("What it was made from: papers, zoo record files, runs, presets.",
                                 "A source."),
                "datasets": _list("The datasets its configs were chosen on, one line each.",
                                  "A dataset."),
                "date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$",
                         "description": "The day it was made, YYYY-MM-DD."},
                "versions": {"type": "object", "maxProperties": MAX_KEYS,
                             "propertyNames": {"maxLength": 100},
                             "additionalProperties": {"type": "string", "maxLength": MAX_STRING},
                             "description": "Python's and the libraries' versions it was made "
                                            "with (autopreset, torch, timm, numpy)."},
                "curation": _text("How its configs were chosen and ordered."),
                "command": _text("The command that made it, without local paths (DATA stands "
                                 "for a run's data)."),
                "zoo": _ZOO,
                "run": _RUN,
            }),
        "space": {   # the entries are checked by space_from_json and the preset's bounds
            "type": "object", "required": ["format", "params"],
            "description": "The search space (format autopreset.space/1): each parameter a "
                           "domain (float, int, ordinal, categorical) or a constant.",
            "properties": {"params": {
                "type": "object", "maxProperties": MAX_KEYS, "propertyNames": {
                    "type": "string", "pattern": _KEY, "maxLength": 100},
                "description": "Config keys and their domains.",
                "additionalProperties": {"type": "object", "properties": {
                    "values": {"type": "array", "minItems": 1, "maxItems": MAX_PORTFOLIO},
                    "choices": {"type": "array", "minItems": 1, "maxItems": MAX_PORTFOLIO}}}}},
        },
        "portfolio": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_PORTFOLIO,
            "description": "The configs fit evaluates first, best-known first.",
            "items": _obj("One portfolio config and why it is there.", ["config", "reason"], {
                "config": {"type": "object", "maxProperties": MAX_KEYS,
                           "description": "A config: a value for each key of the space."},
                "reason": _text("Why this config is in the portfolio (what it reached, where)."),
                "tags": {**_list("Free labels.", "A tag.", 100)},
                "tier": {"enum": list(TIERS),
                         "description": "Its backbone's tier (equal to tiers[backbone])."},
            }),
        },
        "tiers": {"type": "object", "maxProperties": MAX_PORTFOLIO,
                  "additionalProperties": {"enum": list(TIERS)},
                  "description": "Each backbone's size tier (tiny, small, medium, large); a "
                                 "backbone left out takes the backbone catalog's tier."},
        "hyperband": _obj(
            "Hyperband's settings for the search after the portfolio (Li et al., 2018).",
            ["eta", "min_resource", "max_resource", "resource"], {
                "eta": _int("The reduction factor: a rung keeps 1/eta of its trials.", 2, MAX_ETA),
                "min_resource": _int("The least resource a trial gets.", 1, MAX_RESOURCE),
                "max_resource": _int("The most resource a trial gets.", 1, MAX_RESOURCE),
                "resource": {"enum": list(RESOURCE_KINDS),
                             "description": "What the resource counts (epochs by default)."},
                "proposals": {"enum": list(PROPOSALS),
                              "description": "What proposes the new configs over the narrowed "
                                             "space (default random, Hyperband's own)."},
                "inner": {"enum": list(INNER),
                          "description": "What runs them: hyperband (the default: brackets of "
                                         "successive halving, ASHA with several workers) or "
                                         "curve_stopping (each trains towards the schedule's end "
                                         "and stops once its learning curve cannot beat the "
                                         "best; Domhan et al., 2015)."},
            }),
    },
}


def schema_text() -> str:
    """:data:`PRESET_SCHEMA` as the shipped file holds it (indented JSON, one final newline)."""
    return json.dumps(PRESET_SCHEMA, indent=2, ensure_ascii=False) + "\n"


_VALIDATOR = None


def _validator():
    """A draft 2020-12 validator whose integers are written without a fraction, whose numbers
    are finite, and for which a boolean is neither (built once, on first use)."""
    global _VALIDATOR
    if _VALIDATOR is None:
        from jsonschema import Draft202012Validator, validators

        def is_integer(_checker, v) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        def is_number(_checker, v) -> bool:
            return (isinstance(v, (int, float)) and not isinstance(v, bool)
                    and (isinstance(v, int) or math.isfinite(v)))

        types = Draft202012Validator.TYPE_CHECKER.redefine_many(
            {"integer": is_integer, "number": is_number})
        cls = validators.extend(Draft202012Validator, type_checker=types)
        _VALIDATOR = cls(PRESET_SCHEMA)
    return _VALIDATOR


def check(doc: Any) -> None:
    """Raise ``ValueError("<path>: <problem>")`` for the first place ``doc`` breaks the schema."""
    error = next(iter(_validator().iter_errors(doc)), None)
    if error is not None:
        raise ValueError(_message(error))


_KEYWORDS = {
    "const": lambda v, s: f"must be {show(s)}, got {show(v)}",
    "enum": lambda v, s: f"{show(v)} is not one of {', '.join(str(x) for x in s)}",
    "minimum": lambda v, s: f"{show(v)} is below the minimum {s}",
    "exclusiveMinimum": lambda v, s: f"{show(v)} must be above {s}",
    "maximum": lambda v, s: f"{show(v)} is above the maximum {s}",
    "minLength": lambda v, s: "must not be empty" if s == 1 else f"is shorter than {s} characters",
    "maxLength": lambda v, s: f"{len(v)} characters is longer than the {s} allowed",
    "pattern": lambda v, s: "must not be empty" if s == NONBLANK else f"{show(v)} does not match {s}",
    "minItems": lambda v, s: f"needs at least {s} item(s)",
    "maxItems": lambda v, s: f"{len(v)} items is more than the {s} allowed",
    "maxProperties": lambda v, s: f"{len(v)} keys is more than the {s} allowed",
}


def _message(error) -> str:
    """One line for a jsonschema error: the key path, then what is wrong there."""
    path = ""
    for key in error.absolute_path:
        path = join(path, key)
    where = path or "(top level)"
    value, spec, kind = error.instance, error.validator_value, error.validator
    if list(error.absolute_schema_path)[-2:-1] == ["propertyNames"]:
        where = f"{where} key {show(value, 40)}"
    if kind == "type":
        if isinstance(value, float) and not math.isfinite(value):
            return f"{where}: {value} is not a finite number"
        want = " or ".join(spec) if isinstance(spec, list) else spec
        return f"{where}: expected {want}, got {json_type(value)} {show(value)}"
    if kind == "required":
        missing = next(k for k in spec if k not in value)
        return f"{where}: missing required key {show(missing)}"
    if kind == "additionalProperties":
        known = error.schema.get("properties", {})
        extra = next(k for k in value if k not in known)
        return f"{join(path, extra)}: unknown key (allowed here: {', '.join(sorted(known))})"
    if kind in _KEYWORDS:
        return f"{where}: {_KEYWORDS[kind](value, spec)}"
    return f"{where}: {' '.join(error.message.split())}"


def json_type(v: Any) -> str:
    """The JSON name of a Python value's type (``bool`` is not an integer here)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    for name, kind in (("object", dict), ("array", list), ("string", str), ("integer", int)):
        if isinstance(v, kind):
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
