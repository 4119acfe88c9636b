"""The published JSON Schema: the shipped file is what the code validates with, it is a valid
draft 2020-12 schema, every shipped preset passes it, and its errors name the key path."""
from __future__ import annotations

import copy
import json
from importlib.resources import files
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from autopreset.cli._main import cli
from autopreset.portfolio import PRESET_SCHEMA, SCHEMA_FILE, load_preset, schema_text

TOP = Path(__file__).resolve().parents[2]


def _shipped_schema() -> dict:
    return json.loads((files("autopreset.portfolio") / SCHEMA_FILE).read_text(encoding="utf-8"))


def test_the_shipped_file_is_the_schema_the_code_uses():
    text = (files("autopreset.portfolio") / SCHEMA_FILE).read_text(encoding="utf-8")
    assert text == schema_text(), ("preset.schema.json is stale: regenerate it with "
                                   "autopreset presets schema > autopreset/portfolio/preset.schema.json")
    assert _shipped_schema() == PRESET_SCHEMA


def test_presets_schema_prints_the_shipped_file():
    result = CliRunner().invoke(cli, ["presets", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == _shipped_schema()


def test_the_schema_is_draft_2020_12_with_an_id_and_descriptions():
    schema = _shipped_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] and schema["title"] and schema["description"]

    def described(node, path):         # every named field says what it is
        for key, sub in node.get("properties", {}).items():
            assert sub.get("description"), f"{path}.{key} has no description"
            described(sub, f"{path}.{key}")
        if isinstance(node.get("items"), dict) and "properties" in node["items"]:
            described(node["items"], f"{path}[]")

    described(schema, "preset")


@pytest.mark.parametrize("path", sorted((TOP / "presets").glob("*.json")), ids=lambda p: p.name)
def test_every_file_in_presets_validates(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert list(Draft202012Validator(_shipped_schema()).iter_errors(doc)) == []  # any tool
    assert load_preset(path).name == doc["name"]                                  # and ours
    result = CliRunner().invoke(cli, ["presets", "validate", str(path)])
    assert result.exit_code == 0 and result.output.startswith(f"ok: {path}")


def _doc():
    return load_preset("latency").to_json()


def test_a_schema_key_for_editors_is_accepted(tmp_path):
    doc = {"$schema": "./preset.schema.json", **_doc()}
    f = tmp_path / "team.json"
    f.write_text(json.dumps(doc))
    assert load_preset(f) == load_preset("latency")


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["portfolio"][3].update(reason=7), r"portfolio\[3\]\.reason: expected string, got integer 7"),
    (lambda d: d["hyperband"].update(eta=3.0), r"hyperband\.eta: expected integer, got number 3\.0"),
    (lambda d: d["provenance"].update(datasets=["ok", " "]), r"provenance\.datasets\[1\]: must not be empty"),
    (lambda d: d["provenance"]["versions"].update(timm=None), r"provenance\.versions\.timm: expected string, got null"),
    (lambda d: d["portfolio"][0].update(tier="huge"), r"portfolio\[0\]\.tier: \"huge\" is not one of tiny"),
    (lambda d: d.update(format=None), r"format: None is not supported"),
    (lambda d: d["provenance"].update(run={"task": "classification"}),
     r"provenance\.run: missing required key \"dataset\""),
    (lambda d: d["provenance"].pop("curation"), r"provenance: missing required key \"curation\""),
])
def test_jsonschema_errors_name_the_key_path(tmp_path, edit, message):
    doc = copy.deepcopy(_doc())
    edit(doc)
    f = tmp_path / "team.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=r"^" + str(f).replace(".", r"\.") + ": " + message) as info:
        load_preset(f)
    assert "\n" not in str(info.value)
    result = CliRunner().invoke(cli, ["presets", "validate", str(f)])
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"invalid: {f}: ")


def test_an_old_card_still_loads_and_export_warns_of_its_paths(tmp_path):
    """A card written before cards described their data: local paths in its text."""
    run_dir = tmp_path / "runs" / "r1"
    run_dir.mkdir(parents=True)
    doc = _doc()
    doc["name"] = "run-r1"
    doc["description"] = f"What worked in run {run_dir} on digits (72 images, 3 classes)."
    doc["provenance"].update(sources=[f"run:{run_dir}", "preset:latency"],
                             datasets=["digits (72 images, 3 classes)"])
    doc["portfolio"][0]["reason"] = f"rank 1 of 9 in run {run_dir}: trial 4 reached 0.97"
    (run_dir / "preset.json").write_text(json.dumps(doc))
    result = CliRunner().invoke(cli, ["presets", "export", str(run_dir), "-o",
                                      str(tmp_path / "team.json"), "--name", "team"])
    assert result.exit_code == 0 and load_preset(tmp_path / "team.json").name == "team"
    warnings = result.stderr.splitlines()
    for field in ("description", "provenance.sources[0]", "portfolio[0].reason"):
        assert any(w.startswith(f"warning: {field}: a local path") for w in warnings), field
    assert "edit them before sharing" in warnings[-1]
    clean = CliRunner().invoke(cli, ["presets", "export", "latency", "-o", str(tmp_path / "l.json")])
    assert clean.exit_code == 0 and clean.stderr == ""


def test_what_runs_after_the_portfolio_is_preset_data_in_step_with_the_scheduler():
    from autopreset.portfolio import Preset
    from autopreset.portfolio._schema import INNER, PROPOSALS
    from autopreset.schedulers import PortfolioHyperband
    from autopreset.searchers import SEARCHER_NAMES

    assert set(PROPOSALS) == set(SEARCHER_NAMES) - {"grid", "list"}
    assert INNER == PortfolioHyperband.INNER
    doc = load_preset("default").to_json()
    assert "inner" not in doc["hyperband"] and "proposals" not in doc["hyperband"]
    assert load_preset("default").hyperband.inner == "hyperband"
    cs = copy.deepcopy(doc)
    cs["hyperband"].update(inner="curve_stopping", proposals="bayesopt_forest")
    p = Preset.from_json(cs)
    assert (p.hyperband.inner, p.hyperband.proposals) == ("curve_stopping", "bayesopt_forest")
    assert Preset.from_json(p.to_json()) == p
    bad = copy.deepcopy(doc)
    bad["hyperband"]["inner"] = "asha"
    with pytest.raises(ValueError, match="hyperband.inner"):
        Preset.from_json(bad)
