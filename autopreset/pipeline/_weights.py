"""``fit --weights``: which backbones start from weights, and the configs fit tries first for them.

Without ``--weights`` every backbone starts from random init and the run's preset is the one
asked for. With ``--weights DIR`` (or ``hub``) the backbones of that preset's space that DIR holds
weights for (:func:`autopreset.backbones.find_weights`) are fine-tuned from them, and the run's
preset becomes :func:`with_finetuning` of it:

- its portfolio starts with the fine-tuning preset's recipes (shipped ``finetune``: configs from
  published fine-tuning recipes) on each backbone that has weights, recipe by recipe (the first
  recipe on every such backbone, then the second, ...), then goes on with the preset's own
  configs; keys a recipe does not set come from the preset's first config on that backbone;
- its space gains the fine-tuning keys (``backbone_lr_scale``, ``warmup_epochs``, ``lp_epochs``)
  with the fine-tuning preset's domains, and each shared numeric domain is widened to hold the
  recipes' values; the preset's own configs take the neutral values (every layer at ``lr``, one
  epoch of warm-up, no linear probe). A trial whose backbone starts from random init ignores
  the fine-tuning keys (``autopreset.training``).

The merged preset is what run.json keeps, so ``--resume`` continues with the same configs.
"""
from __future__ import annotations

import dataclasses

from autopreset.errors import InputError

__all__ = ["prepare_weights", "with_finetuning", "NEUTRAL", "FINETUNE_PRESET"]

FINETUNE_PRESET = "finetune"
#: The fine-tuning keys' values for the preset's own configs: every layer at the config's lr,
#: one epoch of warm-up, no linear probe (they only apply to a backbone that has weights).
NEUTRAL = {"backbone_lr_scale": 1.0, "warmup_epochs": 1.0, "lp_epochs": 0}


def prepare_weights(where: str, preset, *, say=None):
    """``(found, run preset)`` for ``--weights where``: the weights of ``preset``'s backbones
    (:class:`~autopreset.backbones.WeightsFound`) and ``preset`` with the fine-tuning configs
    first for those backbones. InputError when ``where`` holds weights for none of them."""
    from autopreset.backbones import find_weights
    from autopreset.portfolio import load_preset

    backbones = _backbones(preset)
    found = find_weights(where, backbones)
    if not found.files:
        others = f"; it holds {', '.join(found.unmatched[:6])}" if found.unmatched else ""
        raise InputError(f"--weights {where}: no weights for any backbone of preset "
                         f"{preset.name!r} (<backbone>.safetensors, a timm tag of one, or a "
                         f"Hugging Face cache entry models--timm--<backbone>){others}")
    if say is not None:
        say(found.describe(backbones))
    return found, with_finetuning(preset, load_preset(FINETUNE_PRESET), set(found.files))


def with_finetuning(preset, finetune, pretrained: set[str]):
    """``preset`` with ``finetune``'s recipes first on the ``pretrained`` backbones (see the
    module docstring). Recipes that still do not fit the merged space are left out."""
    from autopreset.portfolio import PortfolioEntry
    from autopreset.space import config_key, validate

    space = _merged_space(preset.space, finetune.space)
    added = [k for k in space if k not in preset.space]
    order = _backbone_order(preset, pretrained)
    entries, seen = [], set()

    def add(config: dict, reason: str, tags: list[str]) -> None:
        key = config_key(config)
        if key in seen:
            return
        try:
            validate(space, config)
        except ValueError:
            return
        seen.add(key)
        entries.append(PortfolioEntry(config=config, reason=reason, tags=tags,
                                      tier=preset.tiers.get(config.get("backbone"))))

    for rank, recipe in enumerate(finetune.portfolio, start=1):
        body = {k: v for k, v in recipe.config.items() if k != "backbone" and k in space}
        for backbone in order:
            base = _first_config(preset, backbone)
            config = {**base, **{k: NEUTRAL[k] for k in added if k in NEUTRAL}, **body,
                      "backbone": backbone}
            add({k: config[k] for k in space if k in config},
                f"fine-tuning recipe {rank} of preset {finetune.name!r} on {backbone}, which "
                f"starts from weights: {recipe.reason}", [*recipe.tags, "finetune"])
    for entry in preset.portfolio:
        config = {**entry.config, **{k: NEUTRAL[k] for k in added if k in NEUTRAL}}
        add(config, entry.reason, list(entry.tags))
    prov = preset.provenance
    provenance = dataclasses.replace(
        prov, sources=[*prov.sources, *[s for s in finetune.provenance.sources
                                         if s not in prov.sources]])
    return dataclasses.replace(
        preset, name=f"{preset.name}-{finetune.name}"[:100],
        description=(f"{preset.description} With fine-tuning recipes of preset "
                     f"{finetune.name!r} first for the backbones that start from weights "
                     f"({', '.join(order)})."),
        provenance=provenance, space=space, portfolio=entries)


def _merged_space(space: dict, finetune: dict) -> dict:
    out = dict(space)
    for key, dom in finetune.items():
        if key == "backbone":
            continue                      # the backbones stay the preset's
        if key not in out:
            out[key] = _widen(dom, [NEUTRAL[key]]) if key in NEUTRAL else dom
        else:
            out[key] = _widen(out[key], _values(dom))
    return out


def _values(dom) -> list:
    from autopreset.space import Categorical, Float, Int, Ordinal

    if isinstance(dom, (Float, Int)):
        return [dom.low, dom.high]
    if isinstance(dom, Ordinal):
        return list(dom.values)
    if isinstance(dom, Categorical):
        return list(dom.choices)
    return [dom]


def _widen(dom, values: list):
    """``dom`` widened to hold ``values`` (numeric bounds, new choices appended); a constant or a
    mismatched kind stays as it is."""
    from autopreset.space import Categorical, Float, Int, Ordinal

    if isinstance(dom, (Float, Int)):
        nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if isinstance(dom, Int):
            nums = [v for v in nums if int(v) == v]
        if dom.log:
            nums = [v for v in nums if v > 0]
        if not nums:
            return dom
        low, high = min([dom.low, *nums]), max([dom.high, *nums])
        if isinstance(dom, Int):
            return Int(int(low), int(high), log=dom.log)
        return Float(float(low), float(high), log=dom.log)
    if isinstance(dom, Ordinal):
        new = [v for v in values if v not in dom.values]
        if new and all(isinstance(v, (int, float)) for v in [*dom.values, *new]):
            return Ordinal(sorted([*dom.values, *new]))
        return Ordinal([*dom.values, *new]) if new else dom
    if isinstance(dom, Categorical):
        new = [v for v in values if v not in dom.choices]
        return Categorical([*dom.choices, *new]) if new else dom
    return dom


def _backbones(preset) -> list[str]:
    from autopreset.space import Categorical, Ordinal

    dom = preset.space.get("backbone")
    if isinstance(dom, Ordinal):
        return list(dom.values)
    if isinstance(dom, Categorical):
        return list(dom.choices)
    return [dom] if isinstance(dom, str) else []


def _backbone_order(preset, pretrained: set[str]) -> list[str]:
    """The pretrained backbones in the order the preset's portfolio first uses them, then the
    rest in the space's order."""
    used = [e.config.get("backbone") for e in preset.portfolio]
    ordered = list(dict.fromkeys([*used, *_backbones(preset)]))
    return [b for b in ordered if b in pretrained]


def _first_config(preset, backbone: str) -> dict:
    for entry in preset.portfolio:
        if entry.config.get("backbone") == backbone:
            return dict(entry.config)
    return dict(preset.portfolio[0].config)
