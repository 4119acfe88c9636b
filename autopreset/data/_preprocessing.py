"""How an image becomes a model's input, as data: the record a saved model carries.

A saved model's ``model.json`` (key ``preprocessing``) and its ONNX export (metadata
``autopreset.preprocessing``) hold this record, so a deployer can reproduce the pixels without
reading code, and :class:`Preprocessing` runs prediction from it (through
:func:`~autopreset.data.preprocess`, the functions training's cache and validation use)::

    {"format": "autopreset.preprocessing/1",
     "read": {"exif_transpose": true, "frame": "first", "mode": "RGB",
              "alpha": "composite", "background": [255, 255, 255],
              "grey": "replicate", "high_bit_depth": "scale"},
     "resize": {"size": [32, 32], "interpolation": "bilinear", "antialias": true,
                "keep_aspect": false, "crop": "none", "library": "Pillow"},
     "divide_by": 255.0, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
     "channel_order": "RGB", "layout": "NCHW", "dtype": "float32"}

``read``: apply the EXIF orientation; use the first frame; composite transparency (RGBA, LA,
palette or grey with a transparent colour) on ``background``; greyscale becomes RGB by
repeating the channel; 16/32-bit grey is scaled to 8 bit by its type's range (not clipped).
``resize``: the whole image to ``size`` (height, width) with Pillow's ``Image.resize`` and the
named filter (antialiased when shrinking, as Pillow does), aspect not kept, nothing cropped.
Then ``(pixel / divide_by - mean[c]) / std[c]`` per RGB channel, as float32 NCHW.

Settings training can vary are fields (``size``, ``mean``, ``std``, ``interpolation``,
``background``, ``divide_by``); the rest is how autopreset always reads images, recorded so
that the record is complete, and a file claiming anything else is refused. A record is
checked key by key with bounds: unknown keys and out-of-range values are one-line
:class:`~autopreset.errors.InputError` naming the key path.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from autopreset.errors import InputError

from ._decode import BACKGROUND
from ._transforms import (DEFAULT_INTERPOLATION, INTERPOLATIONS, PIXEL_SCALE, normalization,
                          preprocess)

__all__ = ["Preprocessing", "PREPROCESSING_FORMAT", "MEAN_RANGE", "STD_RANGE", "SIZE_RANGE"]

PREPROCESSING_FORMAT = "autopreset.preprocessing/1"
MEAN_RANGE = (-10.0, 10.0)
STD_RANGE = (1e-6, 10.0)
SIZE_RANGE = (8, 4096)
DIVIDE_BY_RANGE = (1.0, 65535.0)

#: The parts of the record that are how autopreset always reads images (one value each).
_FIXED_READ = {"exif_transpose": True, "frame": "first", "mode": "RGB", "alpha": "composite",
               "grey": "replicate", "high_bit_depth": "scale"}
_FIXED_RESIZE = {"antialias": True, "keep_aspect": False, "crop": "none", "library": "Pillow"}
_FIXED_TOP = {"channel_order": "RGB", "layout": "NCHW", "dtype": "float32"}


@dataclass(frozen=True)
class Preprocessing:
    """The eval-time preprocessing of a model, from an image file to its float32 NCHW input.

    ``Preprocessing.default(32, mean, std)`` is what training used (the image cache decodes
    and resizes with the same defaults); ``record.to_json()`` / ``Preprocessing.from_json``
    round-trip the module docstring's record; ``record(images)`` is the model's input batch.
    """

    size: tuple[int, int]                 # height, width
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = DEFAULT_INTERPOLATION
    background: tuple[int, int, int] = BACKGROUND
    divide_by: float = PIXEL_SCALE

    @classmethod
    def default(cls, input_size: int, mean: Sequence[float], std: Sequence[float]) -> Preprocessing:
        """Training's preprocessing at ``input_size`` (square) with ``mean``/``std``."""
        return cls(size=(int(input_size), int(input_size)), mean=tuple(float(v) for v in mean),
                   std=tuple(float(v) for v in std))

    def __call__(self, images):
        """Paths, PIL images or uint8 arrays -> float32 tensor (N, 3, height, width)."""
        return preprocess(images, self.size, self.mean, self.std, interpolation=self.interpolation,
                          background=self.background, divide_by=self.divide_by)

    def normalization(self) -> tuple[list[float], list[float]]:
        """``(offset, factor)``: ``(pixel - offset) * factor`` is the normalized input."""
        return normalization(self.mean, self.std, self.divide_by)

    def to_json(self) -> dict[str, Any]:
        return {"format": PREPROCESSING_FORMAT,
                "read": {**_FIXED_READ, "background": list(self.background)},
                "resize": {"size": list(self.size), "interpolation": self.interpolation,
                           **_FIXED_RESIZE},
                "divide_by": float(self.divide_by), "mean": list(self.mean), "std": list(self.std),
                **_FIXED_TOP}

    @classmethod
    def from_json(cls, obj: Any, *, where: str = "preprocessing") -> Preprocessing:
        """Check a record (every key, with bounds) and build it; InputError ``where.key: why``."""
        _keys(obj, where, {"format", "read", "resize", "divide_by", "mean", "std", *_FIXED_TOP})
        if obj["format"] != PREPROCESSING_FORMAT:
            raise InputError(f"{where}.format: {_short(obj['format'])} is not "
                             f"{PREPROCESSING_FORMAT!r}")
        read, resize = obj["read"], obj["resize"]
        _keys(read, f"{where}.read", {*_FIXED_READ, "background"})
        _keys(resize, f"{where}.resize", {*_FIXED_RESIZE, "size", "interpolation"})
        for part, fixed, path in ((read, _FIXED_READ, f"{where}.read"),
                                  (resize, _FIXED_RESIZE, f"{where}.resize"),
                                  (obj, _FIXED_TOP, where)):
            for key, value in fixed.items():
                if type(part[key]) is not type(value) or part[key] != value:
                    raise InputError(f"{path}.{key}: {_short(part[key])} is not supported (autopreset "
                                     f"reads images one way: {value!r})")
        background = _numbers(read["background"], f"{where}.read.background", 3, (0, 255), integer=True)
        size = _numbers(resize["size"], f"{where}.resize.size", 2, SIZE_RANGE, integer=True,
                        unit=" (height, width in pixels)")
        interpolation = resize["interpolation"]
        if not isinstance(interpolation, str) or interpolation not in INTERPOLATIONS:
            raise InputError(f"{where}.resize.interpolation: {_short(interpolation)} is not one of "
                             f"{', '.join(INTERPOLATIONS)}")
        divide_by = _numbers([obj["divide_by"]], f"{where}.divide_by", 1, DIVIDE_BY_RANGE)[0]
        mean = _numbers(obj["mean"], f"{where}.mean", 3, MEAN_RANGE, unit=" (one per RGB channel)")
        std = _numbers(obj["std"], f"{where}.std", 3, STD_RANGE, unit=" (one per RGB channel)")
        return cls(size=size, mean=mean, std=std, interpolation=interpolation,
                   background=background, divide_by=divide_by)


def _short(value: Any, limit: int = 60) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _keys(obj: Any, where: str, expected: set[str]) -> None:
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected a JSON object, got {_short(obj)}")
    unknown = sorted(set(obj) - expected, key=str)
    if unknown:
        raise InputError(f"{where}: unknown key {_short(unknown[0])}")
    missing = sorted(expected - set(obj))
    if missing:
        raise InputError(f"{where}: missing key {missing[0]!r}")


def _numbers(value: Any, where: str, n: int, bounds: tuple[float, float], *, integer: bool = False,
             unit: str = "") -> tuple:
    low, high = bounds
    kinds = (int,) if integer else (int, float)
    ok = isinstance(value, list) and len(value) == n and all(
        isinstance(v, kinds) and not isinstance(v, bool) and math.isfinite(v) and low <= v <= high
        for v in value)
    if not ok:
        what = "integers" if integer else "finite numbers"
        shape = f"a list of {n} {what}" if n > 1 else ("an integer" if integer else "a finite number")
        raise InputError(f"{where}: must be {shape} in [{low:g}, {high:g}]{unit}, got "
                         f"{_short(value if n > 1 else value[0])}")
    return tuple(int(v) for v in value) if integer else tuple(float(v) for v in value)
