"""Hostile preset files: every field is bounded, and each problem is a one-line InputError that
names the file and the field, without running code, reading other files or contacting a hub.

Also here: the budget cap (a budget is what a shared command line or a tampered run.json hands
fit along with a preset).
"""
from __future__ import annotations

import copy
import json
import pathlib
import pickle

import pytest
from click.testing import CliRunner

from autopreset.errors import InputError
from autopreset.portfolio import load_preset
from autopreset.space import Ordinal, space_to_json


def _doc():
    """A small valid preset document (catalog backbones, the trainer's keys)."""
    return {
        "format": "autopreset.preset/1", "name": "team", "description": "a small preset",
        "provenance": {"sources": ["test"], "datasets": ["none"], "date": "2026-01-02",
                       "versions": {"autopreset": "0.1.0"}, "curation": "by hand"},
        "space": {"format": "autopreset.space/1", "params": {
            "backbone": {"type": "ordinal", "values": ["resnet10t", "resnet18"]},
            "lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": True},
            "batch_size": {"type": "ordinal", "values": [16, 32, 64]},
            "optimizer": {"type": "categorical", "choices": ["sgd", "adamw"]}}},
        "portfolio": [{"config": {"backbone": "resnet18", "lr": 0.01, "batch_size": 32,
                                  "optimizer": "sgd"}, "reason": "known good"}],
        "hyperband": {"eta": 3, "min_resource": 1, "max_resource": 27, "resource": "epochs"},
    }


def _write(tmp_path, doc, name="team.json") -> pathlib.Path:
    f = tmp_path / name
    f.write_text(json.dumps(doc))
    return f


def _rejects(path, pattern):
    with pytest.raises(InputError, match=pattern) as info:
        load_preset(path)
    assert "\n" not in str(info.value) and len(str(info.value)) < 1000
    assert str(info.value).startswith(str(path).split("/")[-1]) or str(path) in str(info.value)
    return str(info.value)


def test_the_base_document_is_valid(tmp_path):
    assert load_preset(_write(tmp_path, _doc())).name == "team"


@pytest.mark.parametrize("name", ["hf-hub:someone/repo", "../x", "/tmp/m", "file:weights.pth",
                                  "local-dir:/tmp/m", "timm/resnet18", "a:b", "https://x.org/m",
                                  "resnet18 ", "..", "not_a_model_anywhere", "resnet18.no_such_tag"])
def test_a_backbone_must_be_in_the_catalog_or_timms_registry(tmp_path, name):
    """A tier override used to let any name through to fit (hf-hub: would contact that repo)."""
    doc = _doc()
    doc["space"]["params"]["backbone"]["values"] = ["resnet18", name]
    doc["tiers"] = {name: "small"}
    message = _rejects(_write(tmp_path, doc), r"team\.json: space\.params\.backbone: backbone ")
    assert "catalog" in message and "timm" in message


def test_a_constant_backbone_is_checked_too(tmp_path):
    doc = _doc()
    doc["space"]["params"]["backbone"] = {"type": "constant", "value": "hf-hub:someone/repo"}
    doc["portfolio"][0]["config"]["backbone"] = "hf-hub:someone/repo"
    doc["tiers"] = {"hf-hub:someone/repo": "small"}
    _rejects(_write(tmp_path, doc), r"backbone 'hf-hub:someone/repo' is not a model name")


def test_a_timm_model_outside_the_catalog_is_accepted_with_its_tier(tmp_path):
    doc = _doc()
    doc["space"]["params"]["backbone"]["values"] = ["resnet18", "efficientnet_b1"]
    doc["tiers"] = {"efficientnet_b1": "medium"}
    assert load_preset(_write(tmp_path, doc)).tiers["efficientnet_b1"] == "medium"


def test_a_zoo_built_space_with_crop_scale_and_large_backbones_is_accepted(tmp_path):
    doc = _doc()
    doc["space"] = space_to_json({
        "backbone": Ordinal(["test_resnet", "resnet18", "resnet101", "vgg16_bn"]),
        "lr": _doc_space()["lr"], "batch_size": Ordinal([16, 32, 64, 128, 256]),
        "crop_scale": Ordinal([0.25, 0.4, 0.6, 0.8, 1.0]),
        "optimizer": _doc_space()["optimizer"]})
    doc["portfolio"][0]["config"].update(backbone="vgg16_bn", crop_scale=0.6)
    doc["provenance"].update(command="autopreset zoo portfolio", zoo={
        "files": [{"path": "zoo_results/records/a.jsonl", "sha256": "0" * 64}],
        "tasks": ["t1 abc"], "horizon": 27, "configs": 96, "machines": ["cpu (cpu, 1 thread(s))"]})
    p = load_preset(_write(tmp_path, doc))
    assert p.tiers["vgg16_bn"] == "large" and p.provenance.zoo["horizon"] == 27


def _doc_space():
    from autopreset.space import space_from_json

    return space_from_json(_doc()["space"])


@pytest.mark.parametrize("key, value, pattern", [
    ("eta", 10**12, r"hyperband\.eta: 1000000000000 is above the maximum 10"),
    ("eta", 11, r"hyperband\.eta: 11 is above the maximum 10"),
    ("eta", 1e12, r"hyperband\.eta: expected integer, got number"),
    ("max_resource", 10**30, r"hyperband\.max_resource: .* is above the maximum 10000"),
    ("max_resource", -5, r"hyperband\.max_resource: -5 is below the minimum 1"),
    ("min_resource", 10**6, r"hyperband\.min_resource: 1000000 is above the maximum 10000"),
    ("min_resource", 28, r"hyperband\.max_resource: 27 is below min_resource 28"),
])
def test_hyperband_settings_are_bounded(tmp_path, key, value, pattern):
    doc = _doc()
    doc["hyperband"][key] = value
    _rejects(_write(tmp_path, doc), r"team\.json: " + pattern)


def test_the_largest_hyperband_settings_are_accepted(tmp_path):
    doc = _doc()
    doc["hyperband"].update(eta=10, max_resource=10000)
    assert load_preset(_write(tmp_path, doc)).hyperband.max_resource == 10000


@pytest.mark.parametrize("param, entry, pattern", [
    ("lr", {"type": "float", "low": 1e-4, "high": 1e30, "log": True},
     r"space\.params\.lr: bound 1e\+30 is not a finite number within"),
    ("lr", {"type": "float", "low": 1e-4, "high": 50.0},
     r"space\.params\.lr: bound 50\.0 is outside \(0, 10\] \(the sane range of lr\)"),
    ("batch_size", {"type": "ordinal", "values": [16, 10**6]},
     r"space\.params\.batch_size: value 1000000 is outside \[1, 65536\]"),
    ("batch_size", {"type": "ordinal", "values": [16, -32]},
     r"space\.params\.batch_size: value -32 is outside \[1, 65536\]"),
    ("batch_size", {"type": "ordinal", "values": [16, 32.5]},
     r"space\.params\.batch_size: value 32\.5 is not an integer"),
    ("batch_size", {"type": "ordinal", "values": [16, "huge"]},
     r"space\.params\.batch_size: value \"huge\" is not a number"),
    ("momentum", {"type": "constant", "value": 7.0},
     r"space\.params\.momentum: constant 7\.0 is outside \[0, 1\]"),
    ("epochs_cap", {"type": "constant", "value": -1e300},
     r"space\.params\.epochs_cap: constant -1e\+300 is not a finite number"),
    ("extra", {"type": "constant", "value": {"a": [1, 2]}},
     r"space\.params\.extra: constant .* is not a JSON number, string, boolean or null"),
    ("extra", {"type": "int", "low": 0, "high": 10**15},
     r"space\.params\.extra: bound 1000000000000000 is not a finite number within"),
    ("extra", {"type": "categorical", "choices": list(range(1001))},
     r"space\.params\.extra\.choices: 1001 items is more than the 1000 allowed"),
    ("a/b", {"type": "constant", "value": 1},
     r"space\.params key \"a/b\": \"a/b\" does not match"),
])
def test_numbers_and_sizes_of_the_space_are_sane(tmp_path, param, entry, pattern):
    doc = _doc()
    doc["space"]["params"][param] = entry
    _rejects(_write(tmp_path, doc), r"team\.json: " + pattern)


def test_strings_and_lists_are_bounded(tmp_path):
    doc = _doc()
    doc["description"] = "x" * 20001
    _rejects(_write(tmp_path, doc), r"team\.json: description: 20001 characters is longer than the 20000")
    doc = _doc()
    doc["portfolio"] = doc["portfolio"] * 1001
    _rejects(_write(tmp_path, doc), r"team\.json: portfolio: 1001 items is more than the 1000 allowed")
    doc = _doc()
    doc["portfolio"][0]["tags"] = ["t"] * 101
    _rejects(_write(tmp_path, doc), r"portfolio\[0\]\.tags: 101 items is more than the 100 allowed")
    doc = _doc()
    doc["provenance"]["versions"]["k" * 5000] = "1"
    _rejects(_write(tmp_path, doc), r"provenance\.versions key \"k+\.\.\.: 5000 characters is longer than the 100")
    doc = _doc()
    doc["name"] = "n" * 101
    _rejects(_write(tmp_path, doc), r"team\.json: name: 101 characters is longer than the 100 allowed")
    doc = _doc()
    doc["portfolio"] = doc["portfolio"] * 1000     # the most allowed
    assert len(load_preset(_write(tmp_path, doc)).portfolio) == 1000


def test_a_multi_line_key_gives_a_one_line_message(tmp_path):
    doc = _doc()
    doc["colour\nline two"] = 1
    message = _rejects(_write(tmp_path, doc), r"team\.json: colour line two: unknown key")
    assert "\n" not in message


@pytest.mark.parametrize("depth", [200_000, 40])
def test_deep_nesting_is_refused_without_a_recursion_error(tmp_path, depth):
    f = tmp_path / "team.json"
    f.write_text('{"format": "autopreset.preset/1", "name": ' + "[" * depth + "]" * depth + "}")
    _rejects(f, r"team\.json: not valid JSON: nested (too deeply|more than 32 levels deep)")


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    f = tmp_path / "team.json"
    f.write_bytes(b" " * (4 * 2**20) + b"{}")
    monkeypatch.setattr(json, "loads", lambda *a, **k: pytest.fail("parsed a 4 MiB+ preset"))
    _rejects(f, r"team\.json: 4\.0 MiB is too large for a preset file \(at most 4\.0 MiB\)")


@pytest.mark.parametrize("data, pattern", [
    (b'{"name": "caf\xe9"}', r"team\.json: not UTF-8 text \(invalid continuation byte at byte 13\)"),
    (b"\xff\xfe{\x00}\x00", r"team\.json: not UTF-8 text"),
    (b'{"eta": 1e999}', r"team\.json: not valid JSON: 1e999 is not a finite number"),
    (b'{"eta": -Infinity}', r"team\.json: not valid JSON: -Infinity is not allowed"),
    (b'{"eta": ' + b"9" * 5000 + b"}", r"team\.json: not valid JSON: .*digits"),
    (b"\x00\x01\x02", r"team\.json: not valid JSON"),
])
def test_bytes_that_are_not_clean_json_are_one_line_errors(tmp_path, data, pattern):
    f = tmp_path / "team.json"
    f.write_bytes(data)
    _rejects(f, pattern)


class _Marker:
    """Unpickling this creates ``path``: the proof that a loader ran code from a file."""

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def __reduce__(self):
        return (pathlib.Path.touch, (self.path,))


def test_a_pickle_planted_as_a_preset_never_runs(tmp_path):
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_Marker(control)))       # the payload is live ...
    assert control.exists()
    marker = tmp_path / "marker"
    f = tmp_path / "team.json"
    for proto in (0, 2, 5):
        f.write_bytes(pickle.dumps(_Marker(marker), protocol=proto))
        _rejects(f, r"team\.json: not (valid JSON|UTF-8 text)")
    assert not marker.exists()                          # ... and loading never ran it


def test_presets_validate_reports_a_hub_backbone_in_one_line(tmp_path):
    from autopreset.cli._main import cli

    doc = _doc()
    doc["space"]["params"]["backbone"]["values"] = ["resnet18", "hf-hub:someone/repo"]
    doc["tiers"] = {"hf-hub:someone/repo": "small"}
    good = _write(tmp_path, _doc(), "good.json")
    bad = _write(tmp_path, doc, "bad.json")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    result = CliRunner().invoke(cli, ["presets", "validate", str(good), str(bad), str(deep)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"invalid: {bad}: space.params.backbone")
    assert lines[1].startswith(f"invalid: {deep}: not valid JSON: nested")
    assert f"ok: {good}" in result.stdout


def test_a_tampered_run_preset_is_an_input_error():
    """fit --resume rebuilds the preset from run.json: that copy is checked the same way."""
    from autopreset.portfolio import Preset

    doc = _doc()
    doc["hyperband"]["eta"] = 10**12
    with pytest.raises(InputError, match=r"preset: hyperband\.eta: .* above the maximum 10"):
        Preset.from_json(copy.deepcopy(doc))


# ---- budgets ----------------------------------------------------------------------------------
@pytest.mark.parametrize("budget", ["1e9", 1e9, "31d", "1000000h", 2592001])
def test_a_budget_beyond_30_days_is_refused(budget):
    from autopreset.pipeline import Budget

    with pytest.raises(InputError, match=r"invalid duration .* longer than 30 days"):
        Budget(budget)


def test_a_budget_of_30_days_is_accepted():
    from autopreset._duration import MAX_DURATION_S, parse_duration

    assert parse_duration("30d") == MAX_DURATION_S == parse_duration("720h")


def test_fit_with_a_huge_budget_exits_2_in_one_line(tmp_path):
    from autopreset.cli._main import cli

    result = CliRunner().invoke(cli, ["fit", str(tmp_path), "--budget", "1e9"])
    assert result.exit_code == 2
    assert "longer than 30 days" in result.output and "Traceback" not in result.output
