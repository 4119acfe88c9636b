"""Preset format: JSON round trip, shipped presets, validation messages, loading by name/path."""
from __future__ import annotations

import copy
from importlib.resources import files
import json
import pickle
from pathlib import Path

import pytest

from autopreset.portfolio import (FORMAT, TIERS, HyperbandSettings, PortfolioEntry, Preset, list_presets,
                                  load_preset, save_preset)
from autopreset.space import Categorical, Float, Ordinal, validate

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["accuracy", "default", "latency"]
KEYS = {"backbone", "lr", "batch_size", "momentum", "weight_decay", "optimizer", "label_smoothing"}


def test_list_presets_names_the_shipped_files():
    # finetune: recipes for backbones that start from weights (tests/training/test_weights.py)
    assert list_presets() == sorted(SHIPPED + ["finetune"])


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_preset_validates_and_is_built_by_the_zoo(name):
    p = load_preset(name)
    assert p.name == name and p.description.startswith("Zoo-built")
    assert 8 <= len(p.portfolio) <= 20
    # provenance names the zoo's record files (committed in zoo_results/records/) and its method
    zoo = [s for s in p.provenance.sources if s.startswith("zoo records: ")]
    assert zoo and all((ROOT / s.split()[2]).is_file() for s in zoo)
    assert "Greedy forward selection" in p.provenance.curation
    assert "no test split was read" in p.provenance.curation
    assert {"timm", "torch", "python"} <= set(p.provenance.versions)
    assert set(p.space) == KEYS | {"crop_scale"}
    assert p.hyperband.eta >= 2 and p.hyperband.resource == "epochs"
    keys = set()
    for e in p.portfolio:
        assert set(e.config) == set(p.space) and len(e.reason) > 30 and "zoo" in e.tags
        validate(p.space, e.config)
        assert e.tier == p.tiers[e.config["backbone"]]
        keys.add(json.dumps(e.config, sort_keys=True))
    assert len(keys) == len(p.portfolio), "a portfolio lists each config once"
    assert set(p.tiers) == set(p.space["backbone"].values)
    assert set(p.tiers.values()) <= set(TIERS)


def test_the_curated_presets_stay_the_zoos_reference():
    # the hand-curated portfolios are built in memory (the zoo's first candidates and the
    # baseline leave-one-task-out compares with); the shipped files are the zoo's
    from autopreset.presets._curate import build

    for name in SHIPPED:
        cur = build(name)
        assert cur.provenance.curation and "zoo" in cur.provenance.curation
        assert cur.portfolio != load_preset(name).portfolio


def test_shipped_backbones_are_timm_models():
    timm = pytest.importorskip("timm")
    known = set(timm.list_models())
    for name in SHIPPED:
        missing = set(load_preset(name).tiers) - known
        assert not missing, f"{name}: not timm models: {missing}"


def test_preferences_shape_the_backbones():
    lat, acc, dft = (load_preset(n) for n in ("latency", "accuracy", "default"))
    assert set(lat.tiers.values()) <= {"tiny", "small"}
    assert set(dft.tiers.values()) <= {"tiny", "small", "medium"}
    assert "large" in acc.tiers.values()
    assert set(lat.tiers) < set(dft.tiers) < set(acc.tiers)
    # the zoo-built portfolio holds backbones of more than one speed, so each --prefer (the
    # fastest third, two thirds or all of them) keeps a different set
    assert len({e.config["backbone"] for e in dft.portfolio}) >= 3
    # accuracy-first runs may train longer where the budget allows
    assert acc.hyperband.max_resource >= dft.hyperband.max_resource


@pytest.mark.parametrize("name", SHIPPED)
def test_json_round_trip(name, tmp_path):
    p = load_preset(name)
    again = Preset.from_json(json.loads(json.dumps(p.to_json())))
    assert again == p
    path = save_preset(p, tmp_path / "sub" / f"{name}.json")
    assert load_preset(path) == p and load_preset(str(path)) == p
    first = path.read_bytes()
    save_preset(load_preset(path), path)
    assert path.read_bytes() == first
    assert sorted(x.name for x in path.parent.iterdir()) == [f"{name}.json"]  # no temp files left


def _small_preset(**over):
    kw = dict(
        name="team", description="a small preset",
        provenance=dict(sources=["test"], datasets=["none"], date="2026-01-02",
                        versions={"autopreset": "0.1.0"}, curation="by hand"),
        space={"backbone": Ordinal(["resnet10t", "resnet18"]), "lr": Float(1e-6, 0.1, log=True),
               "optimizer": Categorical(["sgd", "adamw"]), "epochs_cap": 5},
        portfolio=[PortfolioEntry(config={"backbone": "resnet18", "lr": 0.01, "optimizer": "sgd",
                                          "epochs_cap": 5}, reason="known good", tags=["x"]),
                   PortfolioEntry(config={"backbone": "resnet10t", "lr": 1e-3, "optimizer": "adamw"},
                                  reason="fast", tier="small")],
        tiers={"resnet10t": "small", "resnet18": "medium"},
        hyperband=HyperbandSettings(eta=3, min_resource=1, max_resource=9))
    kw.update(over)
    from autopreset.portfolio import Provenance
    kw["provenance"] = Provenance(**kw["provenance"])
    return Preset(**kw)


def test_select_keeps_order_and_filters_by_backbone():
    p = _small_preset()
    assert [e.reason for e in p.select(["resnet10t"])] == ["fast"]
    assert [e.reason for e in p.select(None)] == ["known good", "fast"]
    assert p.select([]) == []


def test_constructing_a_bad_preset_in_code_raises():
    with pytest.raises(ValueError, match=r"preset 'team': portfolio\[0\]\.config\.lr: 5\.0 is outside"):
        _small_preset(portfolio=[PortfolioEntry(config={"backbone": "resnet18", "lr": 5.0,
                                                        "optimizer": "sgd"}, reason="r")])


def _doc():
    return _small_preset().to_json()


def _set(doc, path, value):
    *head, last = path
    for k in head:
        doc = doc[k]
    if value is _DELETE:
        del doc[last]
    else:
        doc[last] = value


_DELETE = object()

ERRORS = [
    (("colour",), "blue", r"team\.json: colour: unknown key \(allowed here: .*description"),
    (("provenance", "author"), "me", r"team\.json: provenance\.author: unknown key"),
    (("portfolio", 0, "weight"), 2, r"team\.json: portfolio\[0\]\.weight: unknown key"),
    (("hyperband",), _DELETE, r"team\.json: \(top level\): missing required key \"hyperband\""),
    (("portfolio", 1, "reason"), _DELETE, r"team\.json: portfolio\[1\]: missing required key \"reason\""),
    (("hyperband", "eta"), "3", r"team\.json: hyperband\.eta: expected integer, got string \"3\""),
    (("hyperband", "eta"), True, r"team\.json: hyperband\.eta: expected integer, got boolean"),
    (("hyperband", "eta"), 1, r"team\.json: hyperband\.eta: 1 is below the minimum 2"),
    (("hyperband", "max_resource"), 0, r"team\.json: hyperband\.max_resource: 0 is below the minimum 1"),
    (("hyperband", "min_resource"), 27, r"team\.json: hyperband\.max_resource: 9 is below min_resource 27"),
    (("hyperband", "resource"), "hours", r"team\.json: hyperband\.resource: \"hours\" is not one of epochs"),
    (("portfolio", 1, "config", "lr"), 5.0, r"team\.json: portfolio\[1\]\.config\.lr: 5\.0 is outside \[1e-06, 0\.1\]"),
    (("portfolio", 1, "config", "lr"), "fast", r"team\.json: portfolio\[1\]\.config\.lr: \"fast\" is not a number"),
    (("portfolio", 0, "config", "backbone"), "vit_huge",
     r"team\.json: portfolio\[0\]\.config\.backbone: \"vit_huge\" is not one of \"resnet10t\", \"resnet18\""),
    (("portfolio", 0, "config", "epochs_cap"), 7,
     r"team\.json: portfolio\[0\]\.config\.epochs_cap: 7 differs from the space's constant 5"),
    (("portfolio", 0, "config", "dropout"), 0.1,
     r"team\.json: portfolio\[0\]\.config\.dropout: not in the preset's search space"),
    (("portfolio", 0, "config", "optimizer"), _DELETE,
     r"team\.json: portfolio\[0\]\.config: missing \"optimizer\""),
    (("portfolio", 0, "reason"), "  ", r"team\.json: portfolio\[0\]\.reason: must not be empty"),
    (("portfolio", 0, "tags"), "x", r"team\.json: portfolio\[0\]\.tags: expected array, got string"),
    (("portfolio",), [], r"team\.json: portfolio: needs at least 1 item"),
    (("portfolio", 1, "tier"), "large", r"team\.json: portfolio\[1\]\.tier: \"large\" differs from tiers\.resnet10t"),
    (("tiers", "resnet18"), "huge", r"team\.json: tiers\.resnet18: \"huge\" is not one of tiny, small, medium, large"),
    (("space", "params", "backbone", "values"), ["resnet10t", "resnet18", "my_net"],
     r"team\.json: tiers: backbone \"my_net\" of the search space has no tier \(it is not in the backbone catalog"),
    (("tiers", "vgg16"), "large", r"team\.json: tiers\.vgg16: not a backbone of the search space"),
    (("format",), "autopreset.preset/2", r"team\.json: format: \"autopreset\.preset/2\" is not supported"),
    (("name",), "a b/c", r"team\.json: name: \"a b/c\" does not match"),
    (("provenance", "date"), "yesterday", r"team\.json: provenance\.date: \"yesterday\" does not match"),
    (("provenance", "versions", "timm"), 1.0, r"team\.json: provenance\.versions\.timm: expected string"),
    (("space", "params", "lr", "low"), 1.0, r"team\.json: space\.params\.lr: Float needs low < high"),
    (("space", "format"), "x", r"team\.json: space: not a space document"),
    (("space", "params", "lr", "type"), "gaussian", r"team\.json: space\.params\.lr: space entry 'lr' has no known type"),
]


@pytest.mark.parametrize("path,value,message", ERRORS, ids=[m[:40] for _, _, m in ERRORS])
def test_each_validation_error_names_file_and_key(tmp_path, path, value, message):
    doc = copy.deepcopy(_doc())
    _set(doc, path, value)
    f = tmp_path / "team.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=message) as info:
        load_preset(f)
    assert "\n" not in str(info.value)


def test_the_unmodified_document_loads(tmp_path):
    f = tmp_path / "team.json"
    f.write_text(json.dumps(_doc()))
    assert load_preset(f) == _small_preset()
    assert _doc()["format"] == FORMAT


@pytest.mark.parametrize("text,message", [
    ("{\"name\": ", r"team\.json: not valid JSON: Expecting value \(line 1 column 10\)"),
    ("{\"a\": NaN}", r"team\.json: not valid JSON: NaN is not allowed"),
    ("{\"a\": 1, \"a\": 2}", r"team\.json: not valid JSON: key 'a' appears twice"),
    ("[1, 2]", r"team\.json: \(top level\): expected object, got array"),
    ("{\"format\": \"autopreset.preset/1\", \"space\": {\"format\": \"x\", \"params\": {}}}",
     r"team\.json: \(top level\): missing required key"),
])
def test_malformed_json_is_a_clear_error(tmp_path, text, message):
    f = tmp_path / "team.json"
    f.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_preset(f)


def test_loading_never_unpickles(tmp_path):
    f = tmp_path / "team.json"
    for proto in (0, 4):
        f.write_bytes(pickle.dumps({"format": FORMAT}, protocol=proto))
        with pytest.raises(ValueError, match=r"team\.json: not (valid JSON|UTF-8)"):
            load_preset(f)


def test_load_by_name_or_path_errors(tmp_path):
    with pytest.raises(ValueError, match=r"unknown preset 'fastest': shipped presets are accuracy, default, finetune, latency"):
        load_preset("fastest")
    with pytest.raises(ValueError, match=r"nope\.json: preset file not found"):
        load_preset(tmp_path / "nope.json")


def test_shipped_backbones_are_in_the_catalog_with_its_tiers():
    """The catalog is the one table of backbones: the shipped files repeat its tiers (so they
    read the same on any version), and they must agree with it."""
    from autopreset.backbones import catalog

    known = {s.name: s.tier for s in catalog()}
    for name in SHIPPED:
        doc = json.loads((files("autopreset.presets") / f"{name}.json").read_text())
        assert set(doc["tiers"]) == set(doc["space"]["params"]["backbone"]["values"])
        for backbone, tier in doc["tiers"].items():
            assert backbone in known, f"{name}: {backbone} is not in the backbone catalog"
            assert tier == known[backbone], f"{name}: {backbone} is {known[backbone]} in the catalog"


def test_tiers_come_from_the_catalog_unless_the_preset_names_one(tmp_path):
    from autopreset.backbones import get_spec

    doc = _doc()
    del doc["tiers"]
    for e in doc["portfolio"]:
        e.pop("tier", None)
    f = tmp_path / "team.json"
    f.write_text(json.dumps(doc))
    p = load_preset(f)
    assert p.tiers == {"resnet10t": get_spec("resnet10t").tier, "resnet18": get_spec("resnet18").tier}
    assert p.to_json()["tiers"] == p.tiers           # written in full, for readers without the catalog
    doc["tiers"] = {"resnet18": "large"}             # an override
    f.write_text(json.dumps(doc))
    assert load_preset(f).tiers == {"resnet10t": "small", "resnet18": "large"}
    assert _small_preset(tiers={}).tiers == _small_preset().tiers


def test_a_registered_backbone_takes_its_tier_from_the_catalog(tmp_path):
    from autopreset.backbones import register_backbone

    register_backbone("test_convnext2", params_m=2.0, gmacs_224=0.3, replace=True)
    doc = _doc()
    doc["space"]["params"]["backbone"]["values"].append("test_convnext2")
    del doc["tiers"]
    f = tmp_path / "team.json"
    f.write_text(json.dumps(doc))
    assert load_preset(f).tiers["test_convnext2"] == "small"


def test_the_package_ships_exactly_the_presets_at_the_top_of_the_repository():
    from pathlib import Path

    import autopreset.presets

    top = Path(__file__).resolve().parents[2] / "presets"
    package = Path(autopreset.presets.__file__).parent
    shipped = sorted(p.name for p in package.glob("*.json"))
    assert shipped == sorted(p.name for p in top.glob("*.json")) and shipped
    for name in shipped:
        link = package / name
        assert link.is_symlink() and link.resolve() == (top / name).resolve(), name
