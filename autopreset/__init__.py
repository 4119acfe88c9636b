"""autopreset: zero-config AutoML for image classification, on a real HPO library.

    import autopreset
    best = autopreset.optimize(fn, space, searcher="bayesopt", n_trials=50, mode="min")
    predictor = autopreset.fit("data/", budget="10m", prefer="latency")
    predictor = autopreset.load("runs/latest/model")

Heavy modules (torch, timm) load only when one of these names is first used.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = ["optimize", "fit", "load", "Predictor", "ImageClassifier", "parse_duration",
           "__version__"]

_LAZY = {
    "optimize": ("autopreset._optimize", "optimize"),
    "fit": ("autopreset.pipeline", "fit"),
    "load": ("autopreset.model", "load"),
    "Predictor": ("autopreset.model", "Predictor"),
    "ImageClassifier": ("autopreset.estimator", "ImageClassifier"),
    "parse_duration": ("autopreset._duration", "parse_duration"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'autopreset' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
