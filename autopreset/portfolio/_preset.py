"""The preset: a search space, an ordered portfolio of configs, backbone tiers and Hyperband
settings, with the provenance of how it was made. Data only (JSON), never code.

A backbone's tier comes from the backbone catalog (``autopreset.backbones``) unless the
preset's ``tiers`` names it (an override); a backbone in neither is an error. ``Preset.tiers``
holds every backbone of the space, and ``to_json`` writes them all, so a shared preset reads
the same on a machine whose catalog lacks a backbone registered here.

A preset is the prior knowledge ``autopreset fit`` starts from: the portfolio phase evaluates
its configs first (best-known first), then narrows the space around the winners and runs
Hyperband (Li et al., 2018, JMLR 18(185)) with the preset's ``eta`` and resource bounds.

A preset file is shared data, so validation bounds everything fit would act on (any problem is
a one-line :class:`~autopreset.errors.InputError` naming the source and the key path):

- backbones: each must be in the backbone catalog or a model of timm's registry; hub names
  (``hf-hub:...``), paths and URLs are refused (``autopreset.backbones``'s name check), so fit
  never fetches or reads what a preset names;
- numbers of the space (domain bounds, choices, constants) are finite and within ``±1e9``,
  and the trainer's keys within their sane ranges (:data:`KEY_RANGES`: ``batch_size`` 1..65536,
  ``lr`` (0, 10], ...); choices and constants are JSON scalars;
- sizes: see :mod:`._schema` (strings, lists, the portfolio, Hyperband's ``eta`` and resources).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from autopreset.errors import InputError
from autopreset.space import Categorical, Domain, Float, Int, Ordinal, space_from_json, space_to_json

from ._schema import FORMAT, MAX_STRING, check, join, show

#: The sane range of the trainer's numeric config keys: (low, high, low excluded, integer).
#: A preset's space (bounds, choices, constants) must stay within them.
KEY_RANGES: dict[str, tuple[float, float, bool, bool]] = {
    "lr": (0.0, 10.0, True, False),
    "momentum": (0.0, 1.0, False, False),
    "weight_decay": (0.0, 1.0, False, False),
    "label_smoothing": (0.0, 0.99, False, False),
    "crop_scale": (0.0, 1.0, True, False),
    "batch_size": (1, 65536, False, True),
}
#: Any other number in a space: finite and at most this in magnitude.
MAX_NUMBER = 1e9


@dataclass(frozen=True, kw_only=True)
class Provenance:
    """Where a preset came from: sources (papers, zoo files, runs), datasets, date, versions."""

    sources: list[str]
    datasets: list[str]
    date: str
    versions: dict[str, str]
    curation: str
    command: str | None = None        # the command that built it, without local paths
    zoo: dict | None = None           # zoo files (path, sha256), tasks, horizon, configs, machines
    run: dict | None = None           # a preset card's run: data described, resolution, augmentation


@dataclass(frozen=True, kw_only=True)
class PortfolioEntry:
    """One portfolio config, the reason it is in the portfolio, and optional tags and tier."""

    config: dict[str, Any]
    reason: str
    tags: list[str] = field(default_factory=list)
    tier: str | None = None


@dataclass(frozen=True, kw_only=True)
class HyperbandSettings:
    """Hyperband's reduction factor and the resource bounds one trial can get."""

    eta: int = 3
    min_resource: int = 1
    max_resource: int = 27
    resource: str = "epochs"
    proposals: str = "random"         # what proposes configs after the portfolio (a searcher)
    inner: str = "hyperband"          # what runs them: hyperband or curve_stopping

    def to_json(self) -> dict[str, Any]:
        out = {"eta": self.eta, "min_resource": self.min_resource,
               "max_resource": self.max_resource, "resource": self.resource}
        if self.proposals != "random":
            out["proposals"] = self.proposals
        if self.inner != "hyperband":
            out["inner"] = self.inner
        return out


@dataclass(frozen=True, kw_only=True)
class Preset:
    """A validated preset. Construct it in code or with :meth:`from_json`; both validate.

    >>> from autopreset.portfolio import load_preset
    >>> p = load_preset("default")
    >>> p.portfolio[0].config["backbone"], p.hyperband.eta
    """

    name: str
    description: str
    provenance: Provenance
    space: dict[str, Any]
    portfolio: list[PortfolioEntry]
    tiers: dict[str, str] = field(default_factory=dict)   # overrides; filled from the catalog
    hyperband: HyperbandSettings = field(default_factory=HyperbandSettings)

    def __post_init__(self) -> None:
        _, tiers = _checked(self.to_json(), source=f"preset {self.name!r}")
        object.__setattr__(self, "tiers", tiers)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict in the ``autopreset.preset/1`` format."""
        entries = []
        for e in self.portfolio:
            d: dict[str, Any] = {"config": dict(e.config), "reason": e.reason}
            if e.tags:
                d["tags"] = list(e.tags)
            if e.tier is not None:
                d["tier"] = e.tier
            entries.append(d)
        p = self.provenance
        return {
            "format": FORMAT, "name": self.name, "description": self.description,
            "provenance": {"sources": list(p.sources), "datasets": list(p.datasets), "date": p.date,
                           "versions": dict(p.versions), "curation": p.curation,
                           **({"command": p.command} if p.command else {}),
                           **({"zoo": p.zoo} if p.zoo else {}),
                           **({"run": p.run} if p.run else {})},
            "space": space_to_json(self.space),
            "portfolio": entries,
            "tiers": dict(self.tiers),
            "hyperband": self.hyperband.to_json(),
        }

    @classmethod
    def from_json(cls, doc: Any, *, source: str = "preset") -> "Preset":
        """Validate a parsed JSON document and build the Preset; errors name ``source``."""
        space, tiers = _checked(doc, source=source)
        prov = doc["provenance"]
        return cls(
            name=doc["name"], description=doc["description"],
            provenance=Provenance(sources=list(prov["sources"]), datasets=list(prov["datasets"]),
                                  date=prov["date"], versions=dict(prov["versions"]),
                                  curation=prov["curation"], command=prov.get("command"),
                                  zoo=prov.get("zoo"), run=prov.get("run")),
            space=space,
            portfolio=[PortfolioEntry(config=dict(e["config"]), reason=e["reason"],
                                      tags=list(e.get("tags", [])), tier=e.get("tier"))
                       for e in doc["portfolio"]],
            tiers=tiers,
            hyperband=HyperbandSettings(**doc["hyperband"]),
        )

    def tier_of(self, backbone: str) -> str | None:
        return self.tiers.get(backbone)

    def select(self, backbones: Iterable[str] | None = None) -> list[PortfolioEntry]:
        """The portfolio entries whose backbone is allowed (all when ``None``), order kept."""
        if backbones is None:
            return list(self.portfolio)
        allowed = set(backbones)
        return [e for e in self.portfolio if e.config.get("backbone") in allowed]


def validate_preset(doc: Any, *, source: str = "preset") -> dict[str, Any]:
    """Check a parsed preset document; return its search space. ValueError: ``source: path: why``."""
    return _checked(doc, source=source)[0]


def _checked(doc: Any, *, source: str) -> tuple[dict[str, Any], dict[str, str]]:
    """(space, every backbone's tier) of a valid document; InputError naming ``source``."""
    try:
        return _validate(doc)
    except ValueError as exc:
        message = " ".join(str(exc).split())
        message = message if len(message) <= 600 else message[:597] + "..."
        raise InputError(f"{source}: {message}") from None


def _validate(doc: Any) -> tuple[dict[str, Any], dict[str, str]]:
    if isinstance(doc, dict) and "format" in doc and doc["format"] != FORMAT:
        raise ValueError(f"format: {show(doc['format'])} is not supported (this autopreset reads "
                         f"{show(FORMAT)})")
    check(doc)
    _check_run(doc["provenance"].get("run"))
    space = _space(doc["space"])
    _check_bounds(space)
    for i, entry in enumerate(doc["portfolio"]):
        check_config(space, entry["config"], join(join("portfolio", i), "config"))
    backbones = _backbones(space)
    tiers = _tiers(backbones, doc.get("tiers", {}))
    _check_backbone_names(backbones)
    for i, entry in enumerate(doc["portfolio"]):
        bb = entry["config"].get("backbone")
        if "tier" in entry and bb in tiers and entry["tier"] != tiers[bb]:
            raise ValueError(f"portfolio[{i}].tier: {show(entry['tier'])} differs from "
                             f"tiers.{bb} = {show(tiers[bb])}")
    hb = doc["hyperband"]
    if hb["max_resource"] < hb["min_resource"]:
        raise ValueError(f"hyperband.max_resource: {hb['max_resource']} is below min_resource "
                         f"{hb['min_resource']}")
    return space, tiers


def _check_run(run: dict | None) -> None:
    """A card's run record adds up: its classes' images make its images, as does its split."""
    if not run:
        return
    ds, where = run["dataset"], "provenance.run.dataset"
    total = sum(c["images"] for c in ds["classes"])
    if total != ds["images"]:
        raise ValueError(f"{where}.images: {ds['images']} differs from the {total} of its classes")
    names = [c["name"] for c in ds["classes"]]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise ValueError(f"{where}.classes: class {show(twice)} is listed twice")
    split = ds.get("split")
    if split and split["train"] + split["validation"] != ds["images"]:
        raise ValueError(f"{where}.split: {split['train']} + {split['validation']} images differ "
                         f"from its {ds['images']} images")


def _tiers(backbones: list | None, given: dict[str, str]) -> dict[str, str]:
    """Every backbone's tier, in the space's order: the preset's where it names one, else the
    backbone catalog's (without a backbone domain: the preset's as they are)."""
    from autopreset.backbones import catalog

    if backbones is None:
        return dict(given)
    for name in given:
        if name not in backbones:
            raise ValueError(f"tiers.{name}: not a backbone of the search space")
    known = {s.name: s.tier for s in catalog()}
    missing = [b for b in backbones if b not in given and b not in known]
    if missing:
        raise ValueError(f"tiers: backbone {show(missing[0])} of the search space has no tier (it is "
                         f"not in the backbone catalog: give its tier here if it is a timm model, "
                         f"or add it with autopreset.backbones.register_backbone)")
    return {b: given.get(b, known.get(b)) for b in backbones}


def _check_backbone_names(backbones: list | None) -> None:
    """Every backbone is in the catalog or timm's registry: no hub name, path or URL."""
    from autopreset.backbones._create import backbone_problem, show_name

    where = "space.params.backbone"
    for name in backbones or []:
        problem = backbone_problem(name)
        if problem:
            raise ValueError(f"{where}: backbone {show_name(name)} {problem}")


def _check_bounds(space: Mapping[str, Any]) -> None:
    """Numbers finite and sane (the trainer's keys within :data:`KEY_RANGES`); choices and
    constants JSON scalars, strings of bounded length."""
    for key, dom in space.items():
        where = f"space.params.{join('', key)}"
        if isinstance(dom, (Float, Int)):
            values, what = [dom.low, dom.high], "bound"
        elif isinstance(dom, (Categorical, Ordinal)):
            values = list(dom.choices if isinstance(dom, Categorical) else dom.values)
            what = "value"
        else:
            values, what = [dom], "constant"
        for value in values:
            problem = _value_problem(key, value)
            if problem:
                raise ValueError(f"{where}: {what} {show(value)} {problem}")


def _value_problem(key: str, value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return "is not a number" if key in KEY_RANGES else None
    if isinstance(value, str):
        if key in KEY_RANGES:
            return "is not a number"
        return None if len(value) <= MAX_STRING else f"is longer than {MAX_STRING} characters"
    if not isinstance(value, (int, float)):
        return "is not a JSON number, string, boolean or null"
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        return f"is not a finite number within ±{MAX_NUMBER:g}"
    if key not in KEY_RANGES:
        return None
    low, high, open_low, integer = KEY_RANGES[key]
    if integer and int(value) != value:
        return "is not an integer"
    if value < low or value > high or (open_low and value == low):
        return f"is outside {'(' if open_low else '['}{low:g}, {high:g}] (the sane range of {key})"
    return None


def _space(obj: dict[str, Any]) -> dict[str, Any]:
    """The space of a preset; an error names the entry (``space.params.lr: ...``) when it can."""
    try:
        return space_from_json(obj)
    except ValueError as exc:
        params = obj.get("params")
        try:
            space_from_json({**obj, "params": {}})  # is the document itself well formed?
        except ValueError:
            params = None
        if isinstance(params, dict):
            for name, entry in params.items():
                try:
                    space_from_json({**obj, "params": {name: entry}})
                except ValueError as one:
                    raise ValueError(f"space.params.{name}: {one}") from None
        raise ValueError(f"space: {exc}") from None


def check_config(space: Mapping[str, Any], config: Mapping[str, Any], path: str) -> None:
    """Raise ``path.key: why`` when ``config`` has a key outside ``space`` or a value outside it."""
    for key in config:
        if key not in space:
            raise ValueError(f"{join(path, key)}: not in the preset's search space "
                             f"({', '.join(space)})")
    for key, dom in space.items():
        where = join(path, key)
        if key not in config:
            if isinstance(dom, Domain):
                raise ValueError(f"{path}: missing {show(key)} (the search space has {', '.join(space)})")
            continue
        value = config[key]
        if not isinstance(dom, Domain):
            if value != dom or type(value) is not type(dom):
                raise ValueError(f"{where}: {show(value)} differs from the space's constant {show(dom)}")
        elif not dom.contains(value):
            raise ValueError(f"{where}: {_outside(dom, value)}")


def _outside(dom: Domain, value: Any) -> str:
    if isinstance(dom, (Float, Int)):
        want = "an integer" if isinstance(dom, Int) else "a number"
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not numeric or (isinstance(dom, Int) and not isinstance(value, int)):
            return f"{show(value)} is not {want}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{value} is not a finite number"
        return f"{show(value)} is outside [{dom.low!r}, {dom.high!r}]"
    values = list(dom.choices if isinstance(dom, Categorical) else dom.values)
    listed = ", ".join(show(v, 30) for v in values[:12]) + (", ..." if len(values) > 12 else "")
    return f"{show(value)} is not one of {listed}"


def _backbones(space: Mapping[str, Any]) -> list | None:
    dom = space.get("backbone")
    if dom is None:
        return None
    if isinstance(dom, Ordinal):
        return list(dom.values)
    if isinstance(dom, Categorical):
        return list(dom.choices)
    return [dom]
