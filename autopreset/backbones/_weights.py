"""Which backbones start from weights: a folder of weights files, or timm's hub, asked for by name.

``autopreset fit DATA --weights DIR`` (``autopreset.fit(weights=DIR)``) fine-tunes the backbones
DIR holds weights for; every other backbone starts from random init, and so does every backbone
when no weights are given. DIR holds, for a backbone of the run:

- ``<backbone>.safetensors``, the backbone's catalog / timm name (``resnet18.safetensors``), or a
  timm pretrained tag of it (``resnet18.a1_in1k.safetensors``);
- or a Hugging Face hub cache as ``huggingface_hub`` leaves it:
  ``models--timm--<name>/snapshots/<revision>/model.safetensors`` (``<name>`` as above; the
  revision ``refs/main`` names, else the newest snapshot). DIR may be the cache itself
  (``~/.cache/huggingface/hub``) or a folder holding such entries.

- or it is an autopreset model folder (``model.json`` + ``model.safetensors``, what ``fit``
  saves): the backbone model.json names starts from model.safetensors.

An exact name wins over a tag; two tags of one backbone (``resnet18.a1_in1k`` and
``resnet18.tv_in1k``) are an error unless one is timm's default tag. Every file found is checked
against its backbone from its header (:func:`~autopreset.backbones._create.check_weights_file`),
so a file that does not fit is a one-line error before any training.

``weights="hub"`` is timm's own loading path, for machines with a network: each backbone's
default pretrained weights from the Hugging Face cache (``HF_HUB_CACHE``), else downloaded by
timm when the Hub answers (the backbone then maps to ``"hub"``).

    found = find_weights("weights/", ["test_resnet", "resnet18"])
    found.files            # {"resnet18": "weights/resnet18.safetensors"}
    found.describe()       # "weights: resnet18 from weights/resnet18.safetensors; ..."
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from autopreset.errors import InputError

__all__ = ["HUB", "WeightsFound", "find_weights"]

#: ``weights=HUB``: timm's pretrained weights (the Hugging Face cache, else the network).
HUB = "hub"
SUFFIX = ".safetensors"
_HF_ENTRY = re.compile(r"^models--timm--([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)?)$")
_STEM = re.compile(r"^[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)?$")


@dataclass(frozen=True)
class WeightsFound:
    """What a weights source holds for a run's backbones.

    ``files``: backbone -> the weights file it is fine-tuned from, or ``"hub"`` (timm downloads
    it); ``unmatched``: names in the source that are no backbone of the run."""

    source: str
    files: dict[str, str] = field(default_factory=dict)
    unmatched: tuple[str, ...] = ()

    def describe(self, backbones: Iterable[str] | None = None) -> str:
        """One line for the plan: which backbones start from weights and from where."""
        if not self.files:
            return (f"weights: {self.source} holds none for these backbones: every backbone "
                    "starts from random init")
        shown = ", ".join(f"{b} from {'the hub (timm download)' if f == HUB else f}"
                          for b, f in self.files.items())
        rest = [b for b in (backbones or []) if b not in self.files]
        text = f"weights: {shown}"
        if rest:
            text += f"; random init: {', '.join(rest)}"
        if self.unmatched:
            text += f" ({len(self.unmatched)} other file(s) in {self.source} match no backbone)"
        return text


def find_weights(where: str | os.PathLike, backbones: Iterable[str], *,
                 check: bool = True) -> WeightsFound:
    """The weights ``where`` (a folder, or ``"hub"``) holds for ``backbones`` (see the module
    docstring). InputError, one line naming the folder or file, when the folder does not exist,
    a backbone's weights are ambiguous, or (``check``) a file does not fit its backbone."""
    names = list(dict.fromkeys(backbones))
    if os.fspath(where) == HUB:
        found = _from_hub(names)
    else:
        found = _from_folder(Path(where), names)
    if check:
        from ._create import check_weights_file

        for name, file in found.files.items():
            if file != HUB:
                check_weights_file(name, file)
    return found


def _from_folder(folder: Path, names: list[str]) -> WeightsFound:
    if not folder.exists():
        raise InputError(f"--weights {str(folder)!r}: no such folder")
    if not folder.is_dir():
        raise InputError(f"--weights {str(folder)!r}: not a folder (give the folder that holds "
                         "<backbone>.safetensors files)")
    candidates: dict[str, list[tuple[str, Path]]] = {}     # backbone -> [(stem, file)]
    unmatched = []
    for stem, file in _model_folder(folder) + _entries(folder):
        arch = stem.partition(".")[0]
        if arch in names:
            candidates.setdefault(arch, []).append((stem, file))
        else:
            unmatched.append(stem)
    files = {}
    for name in names:
        if name in candidates:
            files[name] = str(_choose(folder, name, candidates[name]))
    return WeightsFound(source=str(folder), files=files, unmatched=tuple(sorted(unmatched)))


def _entries(folder: Path) -> list[tuple[str, Path]]:
    """(name, weights file) of every weights file and Hugging Face cache entry in ``folder``."""
    out = []
    for child in sorted(folder.iterdir()):
        if child.name.endswith(SUFFIX) and child.is_file():
            stem = child.name[: -len(SUFFIX)]
            if _STEM.match(stem):
                out.append((stem, child))
        elif child.is_dir() and (m := _HF_ENTRY.match(child.name)):
            snapshot = _snapshot_file(child)
            if snapshot is not None:
                out.append((m.group(1), snapshot))
    return out


def _model_folder(folder: Path) -> list[tuple[str, Path]]:
    """``[(backbone, model.safetensors)]`` when ``folder`` is a saved autopreset model."""
    from ._create import read_json_file

    card, weights = folder / "model.json", folder / "model.safetensors"
    if not (card.is_file() and weights.is_file()):
        return []
    doc = read_json_file(card, max_bytes=16 << 20, what="model record")
    name = doc.get("backbone") if isinstance(doc, dict) else None
    if not isinstance(name, str) or not _STEM.match(name):
        raise InputError(f"--weights {str(folder)!r}: {card} names no backbone")
    return [(name, weights)]


def _snapshot_file(entry: Path) -> Path | None:
    """``model.safetensors`` of the revision ``refs/main`` names, else of the newest snapshot."""
    snapshots = entry / "snapshots"
    if not snapshots.is_dir():
        return None
    ref = entry / "refs" / "main"
    if ref.is_file():
        chosen = snapshots / ref.read_text(encoding="utf-8", errors="replace").strip()
        if (chosen / "model.safetensors").is_file():
            return chosen / "model.safetensors"
    found = [s / "model.safetensors" for s in snapshots.iterdir()
             if (s / "model.safetensors").is_file()]
    return max(found, key=lambda f: (f.stat().st_mtime, str(f))) if found else None


def _choose(folder: Path, name: str, options: list[tuple[str, Path]]) -> Path:
    exact = [f for stem, f in options if stem == name]
    if exact:
        return exact[0]          # a plain file sorts before the cache entry of the same name
    if len(options) == 1:
        return options[0][1]
    default = _default_tag(name)
    for stem, f in options:
        if stem == default:
            return f
    listed = ", ".join(stem for stem, _ in options)
    raise InputError(f"--weights {str(folder)!r}: weights for {name} under {len(options)} names "
                     f"({listed}); keep one, or name one {name}{SUFFIX}")


def _default_tag(name: str) -> str | None:
    """timm's default pretrained tag of ``name`` (``resnet18.a1_in1k``), or None."""
    try:
        import timm

        cfg = timm.models.get_pretrained_cfg(name)
    except Exception:  # noqa: BLE001 - no pretrained config: no default tag
        return None
    repo = getattr(cfg, "hf_hub_id", None) or ""
    return repo.rpartition("/")[2] or None


def _from_hub(names: list[str]) -> WeightsFound:
    """timm's weights for each backbone: the cached file, or "hub" when the Hub answers."""
    from ._create import _hf_cached_file, _hub_reachable

    files = {}
    online = None
    for name in names:
        cached = _hf_cached_file(name)
        if cached is not None:
            files[name] = str(cached)
            continue
        if _default_tag(name) is None:
            continue                    # timm has no pretrained weights for it
        if online is None:
            online = _hub_reachable()
        if online:
            files[name] = HUB
    where = os.environ.get("HF_HUB_CACHE") or "the Hugging Face cache"
    return WeightsFound(source=f"hub ({where}{', online' if online else ''})", files=files)
