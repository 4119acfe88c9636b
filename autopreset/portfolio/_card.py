"""A preset card of a finished run: its best configs become the portfolio of a new preset.

``autopreset fit other_data/ --preset card.json`` then starts from what worked in this run,
with the provenance of the run (where, on which data, when, with which versions) recorded.
"""
from __future__ import annotations

import datetime as _dt
import platform
from importlib import metadata
from typing import Any, Iterable, Mapping

from autopreset.errors import InputError
from autopreset.report import TrialRecord, rank_trials
from autopreset.space import config_key

from ._preset import Preset, PortfolioEntry, Provenance, check_config

_VERSIONED = ("autopreset", "torch", "timm", "numpy")


def library_versions() -> dict[str, str]:
    """Python and the installed versions of the libraries a preset's results depend on.

    Read from package metadata, so nothing heavy (torch) is imported.
    """
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def preset_from_run(trials: Iterable[TrialRecord | Mapping[str, Any]], *, base: Preset,
                    name: str, dataset: str, run: str, mode: str = "max", top_k: int = 10,
                    metric_name: str = "validation accuracy",
                    space: Mapping[str, Any] | None = None) -> Preset:
    """The preset card of a run: the ``top_k`` best distinct configs, best first.

    Trials are ranked as in the leaderboard (best metric, then more resource); failed trials
    and trials without a finite metric are left out, and a config tried twice (a portfolio
    entry re-run by Hyperband) counts once, at its best. Keys of a trial config that are not
    in the space (bookkeeping the trainer added) are dropped. The card keeps ``base``'s tiers
    and Hyperband settings and its space, unless ``space`` (e.g. the run's narrowed space,
    which must contain every chosen config) is given.

    >>> card = preset_from_run(trials, base=load_preset("default"), name="mnist-run",
    ...                        dataset="mnist-5k (5000 images, 10 classes)", run="runs/r1")
    """
    if not isinstance(top_k, int) or top_k < 1:
        raise InputError(f"top_k must be a positive integer, got {top_k!r}")
    space = dict(base.space if space is None else space)
    ranked = [r for r in rank_trials(trials, mode) if r.best(mode) is not None and r.status != "failed"]
    if not ranked:
        raise ValueError(f"run {run}: no trial reported a finite metric; nothing to put in a preset card")
    entries: list[PortfolioEntry] = []
    seen: set[str] = set()
    for pos, rec in enumerate(ranked, start=1):
        config = {k: v for k, v in rec.config.items() if k in space}
        check_config(space, config, f"run {run}: trial {rec.trial_id} config")
        key = config_key(config)
        if key in seen:
            continue
        seen.add(key)
        best = rec.best(mode)
        reason = (f"rank {pos} of {len(ranked)} in run {run}: trial {rec.trial_id} reached "
                  f"{metric_name} {float(best['metric']):.4g} at resource {int(best['resource'])}"
                  + (f" ({rec.phase} phase)" if rec.phase else ""))
        tier = base.tiers.get(config.get("backbone")) if "backbone" in config else None
        entries.append(PortfolioEntry(config=config, reason=reason, tags=["run-card"], tier=tier))
        if len(entries) == top_k:
            break
    tiers = {k: v for k, v in base.tiers.items() if "backbone" not in space or _in_backbones(space, k)}
    provenance = Provenance(
        sources=[f"run:{run}", f"preset:{base.name}"],
        datasets=[dataset],
        date=_dt.date.today().isoformat(),
        versions=library_versions(),
        curation=(f"Preset card of run {run}: its {len(entries)} best distinct configs by "
                  f"{metric_name} ({'higher' if mode == 'max' else 'lower'} is better), best "
                  f"first, out of {len(ranked)} trials with a result. Tiers and Hyperband "
                  f"settings come from preset {base.name!r}."),
    )
    return Preset(name=name, description=f"What worked in run {run} on {dataset}.",
                  provenance=provenance, space=space, portfolio=entries, tiers=tiers,
                  hyperband=base.hyperband)


def _in_backbones(space: Mapping[str, Any], name: str) -> bool:
    from autopreset.space import Categorical, Ordinal

    dom = space["backbone"]
    if isinstance(dom, Ordinal):
        return name in dom.values
    if isinstance(dom, Categorical):
        return name in dom.choices
    return name == dom
