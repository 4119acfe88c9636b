"""Trainer config keys, their defaults, and validation (one-line ValueError per bad key)."""
from __future__ import annotations

__all__ = ["resolve_config", "DEFAULTS"]

DEFAULTS = {
    "optimizer": "sgd",
    "momentum": 0.9,
    "weight_decay": 5e-5,
    "label_smoothing": 0.1,
    "augment": "crop_flip",
    "crop_scale": 0.25,
}
AUGMENTS = ("none", "flip", "crop", "crop_flip")
OPTIMIZERS = ("sgd", "adamw")


def resolve_config(config: dict) -> dict:
    """Fill defaults and check every key the trainer reads; unknown keys are kept."""
    if not isinstance(config, dict):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    cfg = {**DEFAULTS, **config}
    for key in ("backbone", "lr", "batch_size"):
        if key not in cfg:
            raise ValueError(f"config is missing {key!r}")
    if not isinstance(cfg["backbone"], str) or not cfg["backbone"]:
        raise ValueError(f"config 'backbone' must be a timm model name, got {cfg['backbone']!r}")
    _number(cfg, "lr", 0.0, None, strict_low=True)
    _number(cfg, "momentum", 0.0, 1.0)
    _number(cfg, "weight_decay", 0.0, None)
    _number(cfg, "label_smoothing", 0.0, 1.0, strict_high=True)
    _number(cfg, "crop_scale", 0.0, 1.0, strict_low=True)
    bs = cfg["batch_size"]
    if isinstance(bs, bool) or int(bs) != bs or bs < 1:
        raise ValueError(f"config 'batch_size' must be a positive integer, got {bs!r}")
    cfg["batch_size"] = int(bs)
    opt = str(cfg["optimizer"]).lower()
    if opt not in OPTIMIZERS:
        raise ValueError(f"config 'optimizer' must be one of {OPTIMIZERS}, "
                         f"got {cfg['optimizer']!r}")
    cfg["optimizer"] = opt
    aug = cfg["augment"]
    if aug is True:
        aug = "crop_flip"
    elif aug is False or aug is None:
        aug = "none"
    if aug not in AUGMENTS:
        raise ValueError(f"config 'augment' must be one of {AUGMENTS} or a bool, got {aug!r}")
    cfg["augment"] = aug
    return cfg


def _number(cfg, key, low, high, strict_low=False, strict_high=False):
    value = cfg[key]
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
    if ok:
        ok = (value > low if strict_low else value >= low) and (
            high is None or (value < high if strict_high else value <= high))
    if not ok:
        lo = "(" if strict_low else "["
        hi = "inf)" if high is None else (f"{high})" if strict_high else f"{high}]")
        raise ValueError(f"config {key!r} must be a number in {lo}{low}, {hi}, got {value!r}")
    cfg[key] = float(value)
