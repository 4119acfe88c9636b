"""A preset card of a finished run: its best configs become the portfolio of a new preset.

``autopreset fit other_data/ --preset card.json`` then starts from what worked in this run.
A card is made to be shared, so it names no local path, user or host: the run is named by a
label (``20261203-1a2b3c4d``: its date and the start of its data fingerprint), the data is
described (classes, images per class, image sizes, colour, the fingerprint) in
``provenance.run``, with the resolution the run trained at and the augmentation it decided.
:func:`sharing_problems` finds what a card (or any preset) would still tell about a machine.
"""
from __future__ import annotations

import datetime as _dt
import getpass
import os
import platform
import re
import socket
from importlib import metadata
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from autopreset.errors import InputError
from autopreset.report import TrialRecord, rank_trials
from autopreset.space import config_key

from ._preset import Preset, PortfolioEntry, Provenance, check_config
from ._schema import join

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


def dataset_summary(*, classes: Sequence[str], labels, sizes: Sequence[tuple[int, int]],
                    fingerprint: str, n_train: int | None = None, n_val: int | None = None,
                    skipped: int = 0, colour: str | None = None) -> dict[str, Any]:
    """The ``provenance.run.dataset`` record of a dataset: what it holds, never where.

    ``labels[i]`` indexes ``classes`` and ``sizes[i]`` is image i's (width, height);
    ``colour`` is ``"colour"``, ``"greyscale"`` or ``"mixed"`` when known.

    >>> dataset_summary(classes=["cat", "dog"], labels=[0, 1, 1], sizes=[(32, 24)] * 3,
    ...                 fingerprint="0" * 64)["classes"]
    [{'name': 'cat', 'images': 1}, {'name': 'dog', 'images': 2}]
    """
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(classes))
    out: dict[str, Any] = {
        "fingerprint": fingerprint, "images": int(counts.sum()),
        "classes": [{"name": str(c), "images": int(n)} for c, n in zip(classes, counts)]}
    if n_train is not None and n_val is not None:
        out["split"] = {"train": int(n_train), "validation": int(n_val)}
    out["skipped"] = int(skipped)
    if len(sizes):
        wh = np.asarray(sizes, dtype=np.int64).reshape(-1, 2)
        for i, axis in enumerate(("width", "height")):
            median = float(np.median(wh[:, i]))
            out[axis] = {"min": int(wh[:, i].min()),
                         "median": int(median) if median.is_integer() else median,
                         "max": int(wh[:, i].max())}
    if colour is not None:
        out["colour"] = colour
    return out


def describe_dataset(summary: Mapping[str, Any], most: int = 8) -> str:
    """One line for ``provenance.datasets``: "3 classes (center, ne, sw), 72 images (57 train /
    15 validation), 12x12 px median, colour; data fingerprint 1a2b3c4d5e6f"."""
    names = [c["name"] for c in summary["classes"]]
    listed = ", ".join(names[:most]) + (f", ... {len(names) - most} more" if len(names) > most else "")
    text = f"{len(names)} classes ({listed}), {summary['images']} images"
    if "split" in summary:
        text += f" ({summary['split']['train']} train / {summary['split']['validation']} validation)"
    if "width" in summary:
        text += f", {summary['width']['median']:g}x{summary['height']['median']:g} px median"
    if "colour" in summary:
        text += f", {summary['colour']}"
    return f"{text}; data fingerprint {summary['fingerprint'][:12]}"


def preset_from_run(trials: Iterable[TrialRecord | Mapping[str, Any]], *, base: Preset,
                    name: str, run: str, dataset: str | None = None,
                    details: Mapping[str, Any] | None = None, command: str | None = None,
                    mode: str = "max", top_k: int = 10, metric_name: str = "validation accuracy",
                    space: Mapping[str, Any] | None = None) -> Preset:
    """The preset card of a run: the ``top_k`` best distinct configs, best first.

    ``run`` labels the run in the card's text: a label, not a path (a card is shared, so it
    names no local folder). ``details`` is the ``provenance.run`` record (task, the dataset's
    :func:`dataset_summary`, resolution, augmentation, ...); ``dataset`` is the one-line
    description for ``provenance.datasets`` (by default :func:`describe_dataset` of
    ``details["dataset"]``); ``command`` the command that ran, without local paths.

    Trials are ranked as in the leaderboard (best metric, then more resource); failed trials
    and trials without a finite metric are left out, and a config tried twice (a portfolio
    entry re-run by Hyperband) counts once, at its best. Keys of a trial config that are not
    in the space (bookkeeping the trainer added) are dropped. The card keeps ``base``'s tiers
    and Hyperband settings and its space, unless ``space`` (e.g. the run's narrowed space,
    which must contain every chosen config) is given.

    >>> card = preset_from_run(trials, base=load_preset("default"), name="mnist-run",
    ...                        run="20261203-1a2b3c4d", dataset="MNIST-5k, 32 px")
    """
    if not isinstance(top_k, int) or top_k < 1:
        raise InputError(f"top_k must be a positive integer, got {top_k!r}")
    if not isinstance(run, str) or not run.strip() or re.search(r"[/\\]|^~", run):
        raise InputError(f"run must be a label, not a path (a preset card names no local "
                         f"folder), got {run!r}")
    if dataset is None:
        if not details or "dataset" not in details:
            raise InputError("preset_from_run needs dataset (a description) or details['dataset']")
        dataset = describe_dataset(details["dataset"])
    space = dict(base.space if space is None else space)
    trials = list(trials)
    ranked = [r for r in rank_trials(trials, mode) if r.best(mode) is not None and r.status != "failed"]
    if not ranked:
        raise ValueError(f"run {run}: no trial reported a finite metric; nothing to put in a preset card")
    entries = _entries(ranked, base, space, run=run, mode=mode, top_k=top_k, metric_name=metric_name)
    tiers = {k: v for k, v in base.tiers.items() if "backbone" not in space or _in_backbones(space, k)}
    record = None
    if details is not None:
        record = {"task": "classification", **details}
        record.setdefault("trials", len(trials))
    provenance = Provenance(
        sources=[f"run:{run}", f"preset:{base.name}"],
        datasets=[dataset],
        date=_dt.date.today().isoformat(),
        versions=library_versions(),
        curation=(f"Preset card of run {run}: its {len(entries)} best distinct configs by "
                  f"{metric_name} ({'higher' if mode == 'max' else 'lower'} is better), best "
                  f"first, out of {len(ranked)} trials with a result. Tiers and Hyperband "
                  f"settings come from preset {base.name!r}."),
        command=command, run=record)
    return Preset(name=name, description=f"What worked in run {run} on {dataset}.",
                  provenance=provenance, space=space, portfolio=entries, tiers=tiers,
                  hyperband=base.hyperband)


def _entries(ranked, base: Preset, space: dict, *, run: str, mode: str, top_k: int,
             metric_name: str) -> list[PortfolioEntry]:
    """The best distinct configs of ``ranked`` trials, each with the reason it is there."""
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
    return entries


def _in_backbones(space: Mapping[str, Any], name: str) -> bool:
    from autopreset.space import Categorical, Ordinal

    dom = space["backbone"]
    if isinstance(dom, Ordinal):
        return name in dom.values
    if isinstance(dom, Categorical):
        return name in dom.choices
    return name == dom


# an absolute POSIX path (/x/...) or Windows one (C:\..., \\server\...), or a home-relative one
_ABSOLUTE = re.compile(r"(?:^|(?<=[\s:=\"'(\[,;]))(?:/[^\s/]+|[A-Za-z]:[\\/]|\\\\[^\s\\]|~[/\\])")


_NOBODY = ("root", "localhost")


def sharing_problems(doc: Any, *, words: Iterable[str] | None = None) -> list[str]:
    """What a preset document would tell about the machine it was made on: one line per string
    (``key.path: why``) that holds an absolute or home-relative path, or one of ``words`` as a
    word (by default this machine's user and host names, but not ``root`` or ``localhost``,
    which name no one). Empty: ready to share.

    >>> sharing_problems({"provenance": {"sources": ["run:/home/me/runs/r1"]}}, words=[])
    ['provenance.sources[0]: a local path ("run:/home/me/runs/r1")']
    """
    if words is None:
        words = [w for w in (_user(), socket.gethostname()) if w not in _NOBODY]
    found = [w for w in {str(w) for w in words if w} if w.strip()]
    patterns = [(w, re.compile(r"(?<![A-Za-z0-9])" + re.escape(w) + r"(?![A-Za-z0-9])",
                                  re.IGNORECASE))
                for w in found]
    home = os.path.expanduser("~")
    out: list[str] = []

    def visit(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                visit(k, f"{path or '(top level)'} key")
                visit(v, join(path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                visit(v, join(path, i))
        elif isinstance(value, str):
            short = value if len(value) <= 60 else value[:57] + "..."
            if home not in ("", "/", "~") and home in value:
                out.append(f"{path}: the home folder ({short!r})")
            elif _ABSOLUTE.search(value):
                out.append(f'{path}: a local path ("{short}")')
            for word, pattern in patterns:
                if pattern.search(value):
                    out.append(f"{path}: this machine's user or host name {word!r}")

    visit(doc, "")
    return out


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
