"""Trainer config keys, their defaults, and validation (one-line ValueError per bad key).

The fine-tuning keys (:data:`FINETUNE_KEYS`) shape how a backbone that starts from weights is
trained; a trial whose backbone starts from random init trains every layer the from-scratch way
and ignores them (the keys describe what to do with pretrained features):

- ``backbone_lr_scale`` in (0, 1]: the backbone's learning rate is ``lr x backbone_lr_scale``,
  the freshly initialised head's is ``lr`` (discriminative learning rates: Howard & Ruder 2018,
  ULMFiT; the 10x rate for new layers of Girshick et al. 2014, R-CNN). 1 fine-tunes every layer
  at ``lr``.
- ``warmup_epochs`` in [0, 10], or None: epochs of linear warm-up before the cosine decay
  (Goyal et al. 2017; Kolesnikov et al. 2020, BiT, warms up every fine-tuning run); None keeps
  the from-scratch rule (5% of training, at most one epoch). Capped at half of the schedule.
- ``lp_epochs`` in 0..10: linear probe, then fine-tune (Kumar et al. 2022, LP-FT): the first
  ``lp_epochs`` epochs train the head alone on the frozen backbone (its BatchNorm statistics
  too), then every layer trains, the backbone warming up from that point. At most all epochs
  of the schedule but one.
"""
from __future__ import annotations

__all__ = ["resolve_config", "DEFAULTS", "FINETUNE_KEYS", "FINETUNE_RANGES"]

DEFAULTS = {
    "optimizer": "sgd",
    "momentum": 0.9,
    "weight_decay": 5e-5,
    "label_smoothing": 0.1,
    "augment": "crop_flip",
    "crop_scale": 0.25,
    "backbone_lr_scale": 1.0,
    "warmup_epochs": None,
    "lp_epochs": 0,
    "fidelity": "",          # cheaper early epochs: smaller inputs, fewer images (._fidelity)
}
#: The fine-tuning keys and their bounded domains: (low, high, low excluded, integer).
FINETUNE_RANGES = {
    "backbone_lr_scale": (0.0, 1.0, True, False),
    "warmup_epochs": (0.0, 10.0, False, False),
    "lp_epochs": (0, 10, False, True),
}
FINETUNE_KEYS = tuple(FINETUNE_RANGES)
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
    _number(cfg, "backbone_lr_scale", 0.0, 1.0, strict_low=True)
    if cfg["warmup_epochs"] is not None:
        _number(cfg, "warmup_epochs", 0.0, 10.0)
    lp = cfg["lp_epochs"]
    if isinstance(lp, bool) or not isinstance(lp, (int, float)) or int(lp) != lp \
            or not 0 <= lp <= 10:
        raise ValueError(f"config 'lp_epochs' must be an integer in 0..10, got {lp!r}")
    cfg["lp_epochs"] = int(lp)
    from ._fidelity import parse_fidelity

    parse_fidelity(cfg["fidelity"])
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
