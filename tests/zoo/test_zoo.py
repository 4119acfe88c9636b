"""The zoo: tasks, candidates, the recorder's journal and shards, the table, greedy portfolios and
the presets built from them. Curves are synthetic records except in the one recorder test,
which trains timm's test-sized ResNet for two epochs on a generated folder."""
from __future__ import annotations

import itertools
import json
import platform
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from autopreset.cli import main as _main  # noqa: F401  (the console entry point exists)
from autopreset.cli._main import cli
from autopreset.zoo import (ZooTable, build_preset, expected_random_regret, greedy_portfolio,
                            make_candidates, normalized_regret, read_records, run_zoo, write_tasks)
from autopreset.zoo._run import RECORD_FORMAT


# ---------------------------------------------------------------------------- synthetic records

def _record(task: str, cid: str, curve, *, seconds=1.0, n_classes=4, error=None, rank=0,
            backbone="test_resnet", source="sampled:tiny") -> dict:
    n = len(curve)
    return {"format": RECORD_FORMAT,
            "task": {"name": task, "key": f"{task}@0", "n_train": 40, "n_val": 20,
                     "n_classes": n_classes, "resolution": 32, "flip": True, "split": "fixed"},
            "config_id": cid, "rank": rank, "source": source, "horizon": 27, "seed": 0, "error": error,
            "config": {"backbone": backbone, "lr": 0.01 * (rank + 1), "batch_size": 32,
                       "momentum": 0.9, "weight_decay": 1e-4, "optimizer": "sgd",
                       "label_smoothing": 0.1, "crop_scale": 0.25},
            "epochs": {"val_acc": list(curve), "val_loss": [1.0] * n, "train_loss": [1.0] * n,
                       "seconds": [seconds] * n, "cpu_seconds": [seconds] * n,
                       "images_per_s": [100.0] * n},
            "latency_ms": {"p50_ms": 1.0, "p95_ms": 1.2, "throughput": 900.0},
            "machine": {"cpu": "test cpu", "device": "cpu", "threads": 1}}


def _write(folder: Path, rows: list[dict], name: str = "test-shard0of1.jsonl") -> Path:
    (folder / "records").mkdir(parents=True, exist_ok=True)
    path = folder / "records" / name
    with path.open("a") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    return path


def _flat(final: float, horizon: int = 27):
    """A curve rising linearly to ``final`` at the last epoch."""
    return [round(final * (e + 1) / horizon, 6) for e in range(horizon)]


@pytest.fixture
def zoo(tmp_path) -> Path:
    """Three tasks x four configs with a known structure: A is best on t1, B on t2, C is good
    everywhere but best nowhere, D is bad everywhere (and diverged on t3)."""
    finals = {"A": (0.9, 0.5, 0.6), "B": (0.5, 0.9, 0.6), "C": (0.85, 0.85, 0.8), "D": (0.3, 0.3, 0.3)}
    rows = []
    for rank, (cid, accs) in enumerate(finals.items()):
        for t, acc in zip(("t1", "t2", "t3"), accs):
            curve = _flat(acc)
            err = None
            if cid == "D" and t == "t3":
                curve, err = [0.3, 0.2], "training loss became NaN/inf at epoch 3"
            rows.append(_record(t, cid, curve, error=err, rank=rank, seconds=1.0 + rank))
    _write(tmp_path, rows[:-2])
    _write(tmp_path, rows[-2:] + [_record("t1", "E", _flat(0.99), rank=9)], name="other.jsonl")
    with (tmp_path / "records" / "other.jsonl").open("a") as fh:
        fh.write('{"format": "autopreset.zoo-record/1", "task": ')      # a torn line from a kill
    return tmp_path


# ---------------------------------------------------------------------------- the table

def test_table_keeps_the_configs_recorded_on_every_task_and_skips_a_torn_line(zoo):
    table = ZooTable.load(zoo)
    assert table.tasks == ("t1", "t2", "t3")
    assert table.ids == ["A", "B", "C", "D"]          # E is on t1 only
    assert table.acc.shape == (3, 4, 27)
    assert table.failed[2, 3] and not table.failed[0, 3]
    assert len(table.files) == 2 and all(len(h) == 64 for _, h in table.files)


def test_value_is_the_best_epoch_within_the_horizon_and_a_failed_run_keeps_what_it_reached(zoo):
    table = ZooTable.load(zoo)
    v27, v9 = table.value(27), table.value(9)
    assert v27[0, 0] == pytest.approx(0.9)
    assert v9[0, 0] == pytest.approx(0.9 * 9 / 27, abs=1e-6)
    assert v27[2, 3] == pytest.approx(0.3)            # diverged after reaching 0.3
    assert table.cost(27)[2, 3] == pytest.approx(2 * 4.0)   # it ran two epochs at 4 s
    r = table.regret(27)
    assert r.min(axis=1) == pytest.approx([0, 0, 0]) and r.max(axis=1) == pytest.approx([1, 1, 1])


def test_normalized_regret_treats_a_task_where_all_configs_tie_as_zero_regret():
    r = normalized_regret(np.array([[0.5, 0.5], [0.2, 0.8]]))
    assert r.tolist() == [[0.0, 0.0], [1.0, 0.0]]


def test_expected_random_regret_is_the_exact_mean_over_every_draw():
    row = np.array([0.0, 0.3, 0.5, 1.0, 0.7])
    for k in (1, 2, 3, 5):
        draws = [min(row[list(c)]) for c in itertools.combinations(range(5), k)]
        assert expected_random_regret(row, k) == pytest.approx(np.mean(draws))


# ---------------------------------------------------------------------------- greedy

def test_greedy_picks_the_robust_config_first_then_the_complements(zoo):
    table = ZooTable.load(zoo)
    order = greedy_portfolio(table.regret(27), k=4)
    # C alone is best on average; A and B then tie on the portfolio and alone, A is cheaper
    assert [table.ids[i] for i in order] == ["C", "A", "B", "D"]


def test_greedy_breaks_ties_towards_the_cheaper_config():
    regret = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    assert greedy_portfolio(regret, 1, cost=np.array([5.0, 2.0, 1.0])) == [1]
    assert greedy_portfolio(regret, 2, allowed=np.array([True, False, True])) == [0, 2]


# ---------------------------------------------------------------------------- presets

def test_a_built_preset_validates_names_its_records_and_keeps_the_portfolio_in_its_space(zoo):
    from autopreset.portfolio import Preset
    from autopreset.space import validate

    table = ZooTable.load(zoo)
    doc = build_preset(table, name="mine", tiers=("tiny",), horizon=27, k=3, command="test")
    preset = Preset.from_json(doc)
    assert [e.config["lr"] for e in preset.portfolio][0] == pytest.approx(0.03)   # C, rank 2
    for e in preset.portfolio:
        validate(preset.space, e.config)
    zoo_prov = doc["provenance"]["zoo"]
    assert {f["path"] for f in zoo_prov["files"]} == {"zoo_results/records/other.jsonl",
                                                       "zoo_results/records/test-shard0of1.jsonl"}
    assert zoo_prov["horizon"] == 27 and zoo_prov["configs"] == 4 and len(zoo_prov["tasks"]) == 3
    assert doc["provenance"]["command"] == "test"
    assert Preset.from_json(preset.to_json()).provenance.zoo == zoo_prov     # round trip


def test_zoo_portfolio_command_writes_a_preset_that_presets_validate_accepts(zoo, tmp_path):
    out = tmp_path / "team.json"
    runner = CliRunner()
    res = runner.invoke(cli, ["zoo", "portfolio", str(zoo), "-o", str(out), "--tiers", "tiny",
                              "-k", "2", "--exclude", "t3"])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert len(doc["portfolio"]) == 2 and len(doc["provenance"]["zoo"]["tasks"]) == 2
    res = runner.invoke(cli, ["presets", "validate", str(out)])
    assert res.exit_code == 0 and "ok:" in res.output
    res = runner.invoke(cli, ["zoo", "portfolio", str(zoo), "-o", str(out), "--tiers", "huge"])
    assert res.exit_code == 2 and "--tiers" in res.output
    assert "inner" not in doc["hyperband"]                 # fit's default search after it
    cs = tmp_path / "cs.json"
    res = runner.invoke(cli, ["zoo", "portfolio", str(zoo), "-o", str(cs), "--tiers", "tiny",
                              "-k", "2", "--inner", "curve_stopping"])
    assert res.exit_code == 0, res.output
    assert json.loads(cs.read_text())["hyperband"]["inner"] == "curve_stopping"
    res = runner.invoke(cli, ["zoo", "portfolio", str(zoo), "-o", str(cs), "--tiers", "tiny",
                              "--proposals", "nonsense"])
    assert res.exit_code != 0 and "hyperband.proposals" in res.output


def test_zoo_check_holds_while_the_records_grow_and_catches_a_changed_cell_or_portfolio(zoo, tmp_path):
    out = tmp_path / "team.json"
    runner = CliRunner()
    res = runner.invoke(cli, ["zoo", "portfolio", str(zoo), "-o", str(out), "--tiers", "tiny",
                              "-k", "3", "--exclude", "t3"])
    assert res.exit_code == 0, res.output
    cells = json.loads(out.read_text())["provenance"]["zoo"]["cells"]
    assert cells["count"] == 2 * 4 and sorted(cells["configs"]) == ["A", "B", "C", "D"]
    check = ["zoo", "check", str(out), "--zoo", str(zoo)]
    res = runner.invoke(cli, check)
    assert res.exit_code == 0 and "8 cells" in res.output and "same order" in res.output, res.output

    # the zoo grows: a new config on every task, in a new file; the file hashes change, the cells not
    _write(zoo, [_record(t, "F", _flat(0.95), rank=5) for t in ("t1", "t2", "t3")], name="later.jsonl")
    res = runner.invoke(cli, check)
    assert res.exit_code == 0, res.output

    # a config's order swapped in the preset: no longer what greedy selection gives
    doc = json.loads(out.read_text())
    doc["portfolio"][0], doc["portfolio"][1] = doc["portfolio"][1], doc["portfolio"][0]
    swapped = tmp_path / "swapped.json"
    swapped.write_text(json.dumps(doc))
    res = runner.invoke(cli, ["zoo", "check", str(swapped), "--zoo", str(zoo)])
    assert res.exit_code != 0 and "entry 1 differs" in res.output, res.output

    # one cell the preset was built from recorded again with another curve, in a file read
    # after the original (files are read in name order, the last record of a cell stands)
    _write(zoo, [_record("t1", "B", _flat(0.4), rank=1)], name="zz-rerun.jsonl")
    res = runner.invoke(cli, check)
    assert res.exit_code != 0 and "differ from its records" in res.output, res.output

    res = runner.invoke(cli, ["zoo", "check", "finetune", "--zoo", str(zoo)])   # written by hand
    assert res.exit_code != 0 and "not built from a zoo" in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_zoo_status_counts_cells_and_complete_configs(zoo):
    res = CliRunner().invoke(cli, ["zoo", "status", str(zoo)])
    assert res.exit_code == 0
    assert "13 cell(s) over 3 task(s); 4 config(s)" in res.output
    assert res.output.rstrip().endswith("recorded on every task (4 sampled)")


# ---------------------------------------------------------------------------- candidates and tasks

def test_candidates_span_every_tier_start_with_the_curated_portfolio_and_are_valid_configs():
    from autopreset.backbones import TIERS, get_spec
    from autopreset.presets._curate import build
    from autopreset.training import resolve_config

    cands = make_candidates()
    assert len(cands) >= 100 and len({c["id"] for c in cands}) == len(cands)
    assert {get_spec(c["config"]["backbone"]).tier for c in cands} == set(TIERS)
    default = build("default").portfolio          # the hand-curated one, not the shipped (zoo-built)
    head = [c["config"] for c in cands[:8]]
    assert [{k: v for k, v in c.items() if k != "crop_scale"} for c in head] == \
        [e.config for e in default[:8]]
    assert [c["source"] for c in cands[:8]] == [f"curated:default[{i}]" for i in range(8)]
    for c in cands:
        resolve_config(c["config"])
    assert make_candidates() == cands                  # reproducible


def test_zoo_tasks_are_reproducible_and_keep_their_parts_apart(tmp_path):
    a = write_tasks(tmp_path / "a", ["shapes", "gratings"])
    b = write_tasks(tmp_path / "b", ["shapes", "gratings"])
    assert [m["pixels_sha256"] for m in a] == [m["pixels_sha256"] for m in b]
    assert write_tasks(tmp_path / "a", ["shapes"])[0] == a[0]          # idempotent
    shapes = tmp_path / "a" / "shapes"
    counts = {p: sum(1 for _ in (shapes / p).rglob("*.png")) for p in ("train", "val", "test")}
    assert counts == a[0]["counts"]
    assert sorted(d.name for d in (shapes / "train").iterdir()) == sorted(a[0]["classes"])


def test_no_zoo_task_holds_an_image_the_fit_benchmark_tests_on(tmp_path):
    from PIL import Image

    from autopreset.datasets import benchmark_test_mask, load_arrays

    images, _, _, _ = load_arrays("digits")
    mask = benchmark_test_mask("digits")
    test_only = {im.tobytes() for im in images[mask]} - {im.tobytes() for im in images[~mask]}
    write_tasks(tmp_path, ["digits-10c"])
    seen = {np.asarray(Image.open(p)).tobytes() for p in (tmp_path / "digits-10c").rglob("*.png")}
    assert len(seen) > 500 and not (seen & test_only)


# ---------------------------------------------------------------------------- the recorder

def _tiny_folder(root: Path) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for part, n in (("train", 12), ("val", 6)):
        for c, colour in enumerate(((220, 40, 40), (40, 40, 220))):
            folder = root / part / f"c{c}"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                x = (np.array(colour) + rng.normal(0, 30, (16, 16, 3))).clip(0, 255).astype(np.uint8)
                Image.fromarray(x).save(folder / f"{i}.png")
    return root


@pytest.mark.slow
def test_zoo_run_records_each_cell_once_resumes_and_splits_into_shards(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOPRESET_CACHE", str(tmp_path / "cache"))
    task = _tiny_folder(tmp_path / "tiny")
    cands = [{"id": f"c{i}", "source": "given",
              "config": {"backbone": "test_resnet", "lr": lr, "batch_size": 8, "optimizer": "sgd"}}
             for i, lr in enumerate((0.05, 0.01, 0.002))]
    out = tmp_path / "zoo"
    first = run_zoo([str(task)], out, candidates=cands, shard=(1, 2), horizon=2, log=lambda s: None)
    assert first["recorded"] == 1                           # rank 1 only
    rows = read_records(out)
    assert [r["config_id"] for r in rows] == ["c1"]
    files = [p.name for p in (out / "records").iterdir()]      # named by a digest of the host
    assert len(files) == 1 and files[0].endswith("-shard1of2.jsonl")
    assert len(platform.node()) < 3 or platform.node() not in files[0]
    r = rows[0]
    assert len(r["epochs"]["val_acc"]) == 2 and len(r["epochs"]["cpu_seconds"]) == 2
    assert r["task"]["n_train"] == 24 and r["task"]["n_val"] == 12 and r["task"]["split"] == "fixed"
    assert r["latency_ms"]["p50_ms"] > 0 and r["machine"]["threads"] == 1
    again = run_zoo([str(task)], out, candidates=cands, shard=(0, 1), horizon=2, max_cells=1,
                    log=lambda s: None)
    assert again == {"done_before": 1, "recorded": 1, "failed": 0, "left": 1}
    rest = run_zoo([str(task)], out, candidates=cands, shard=(0, 1), horizon=2, stop_after_s=0.0,
                   log=lambda s: None)
    assert rest["recorded"] == 0 and rest["left"] == 1 and rest["done_before"] == 2
    assert sorted(r["config_id"] for r in read_records(out)) == ["c0", "c1"]


def test_zoo_run_rejects_a_bad_shard_in_one_line(tmp_path):
    res = CliRunner().invoke(cli, ["zoo", "run", str(tmp_path), "--out", str(tmp_path / "z"),
                                   "--shard", "3/2"])
    assert res.exit_code == 2 and "--shard 3/2" in res.output


def test_greedy_by_preference_serves_every_preference_from_one_order():
    from autopreset.zoo import greedy_by_preference

    value = np.array([[0.8, 0.7, 0.95], [0.8, 0.9, 0.95]])      # fast F1, fast F2, slow S
    groups = {"latency": np.array([True, True, False]), "accuracy": np.array([True, True, True])}
    # S alone is the accuracy preference's best and leaves latency's regret at 1 (0.5 in all);
    # then F2 and F1 tie on the portfolio, and F2 is better on its own
    assert greedy_by_preference(value, 3, groups) == [2, 1, 0]
    assert greedy_by_preference(value, 1, {"latency": groups["latency"]}) in ([0], [1])


def test_preference_groups_keep_the_fastest_thirds_of_the_backbones_by_measured_latency(zoo):
    import dataclasses

    from autopreset.zoo import preference_groups

    table = ZooTable.load(zoo)
    names = ["test_resnet", "test_efficientnet", "test_convnext", "lcnet_050"]
    configs = tuple({**c, "config": {**c["config"], "backbone": b}} for c, b in zip(table.configs, names))
    lat = np.tile([1.0, 0.5, 2.0, 3.0], (3, 1))               # B's backbone is the fastest
    g = preference_groups(dataclasses.replace(table, configs=configs, latency_ms=lat))
    assert g["latency"].tolist() == [True, True, False, False]     # ceil(4 / 3) = 2 backbones
    assert g["balanced"].tolist() == [True, True, True, False]     # ceil(8 / 3) = 3
    assert g["accuracy"].all()


# ---------------------------------------------------------------------------- local candidates

def test_local_candidates_are_valid_neighbours_of_each_tasks_incumbent(zoo):
    from autopreset.backbones import get_spec
    from autopreset.training import resolve_config
    from autopreset.zoo import config_id, local_candidates

    table = ZooTable.load(zoo)
    assert table.tasks == ("t1", "t2", "t3")
    made = local_candidates(table, per_task=3)
    assert made == local_candidates(table, per_task=3)             # reproducible
    assert len(made) == 9 and len({c["id"] for c in made}) == 9
    parents = {"t1": "A", "t2": "B", "t3": "C"}                     # each task's best config
    by_id = {c["id"]: c["config"] for c in table.configs}
    for c in made:
        kind, task, parent = c["source"].split(":")
        assert kind == "local" and parents[task] == parent
        assert c["id"] == config_id(c["config"]) and c["id"] not in by_id
        old, new = by_id[parent], c["config"]
        changed = {k for k in old if old[k] != new[k]} - {"momentum"}
        assert 1 <= len(changed) <= 2, changed                     # two moves (one may no-op)
        assert get_spec(new["backbone"]).tier == get_spec(old["backbone"]).tier
        assert 1e-4 <= new["lr"] <= 0.1 and 1e-6 <= new["weight_decay"] <= 1e-2
        resolve_config(new)
    # what is already a candidate is not made again
    again = local_candidates(table, per_task=3, existing=[c["id"] for c in made])
    assert not {c["id"] for c in again} & {c["id"] for c in made}


def test_a_fold_drops_the_candidates_made_from_the_task_it_leaves_out(zoo):
    from autopreset.zoo._replay import loo_portfolio

    table = ZooTable.load(zoo)
    local = [dict(c, source=f"local:{t}:x") for c, t in zip(table.configs, ("t1", "t2", "t1"))]
    table = ZooTable(table.tasks, table.task_info, tuple(local) + table.configs[3:], table.acc,
                     table.seconds, table.latency_ms, table.failed)
    fold = table.without_born_of("t1")
    assert [c["id"] for c in fold.configs] == ["B", "D"]
    assert fold.acc.shape == (3, 2, 27) and np.array_equal(fold.acc[:, 0], table.acc[:, 1])
    assert table.without_born_of("t3") is table
    picked = loo_portfolio(table, "t1", k=4, tiers=("tiny",))
    assert {c["lr"] for c in picked} == {c["config"]["lr"] for c in fold.configs}


def test_zoo_candidates_command_appends_local_candidates_and_run_can_take_them_first(zoo, tmp_path):
    from autopreset.zoo import run_zoo

    first = [{"id": c, "config": {"backbone": "test_resnet", "lr": 0.01 * (r + 1),
                                  "batch_size": 32, "momentum": 0.9, "weight_decay": 1e-4,
                                  "optimizer": "sgd", "label_smoothing": 0.1, "crop_scale": 0.25},
              "source": "sampled:tiny"} for r, c in enumerate("ABCD")]
    (zoo / "candidates.json").write_text(json.dumps(
        {"format": "autopreset.zoo-candidates/1", "candidates": first}))
    res = CliRunner().invoke(cli, ["zoo", "candidates", str(zoo), "--local", "2"])
    assert res.exit_code == 0, res.output
    doc = json.loads((zoo / "candidates.json").read_text())
    assert doc["candidates"][:4] == first and len(doc["candidates"]) == 10
    assert all(c["source"].startswith("local:") for c in doc["candidates"][4:])
    assert "6 local candidate(s)" in res.output
    (tmp_path / "empty").mkdir()
    bad = CliRunner().invoke(cli, ["zoo", "candidates", str(tmp_path / "empty"), "--local", "2"])
    assert bad.exit_code != 0 and "candidates.json" in bad.output
    # --sources local: a run that would train only those (none of the first round)
    seen = []
    counts = run_zoo([], zoo, sources=("local",), max_cells=0, log=seen.append)
    assert counts["recorded"] == 0 and counts["done_before"] == 0


def test_cheapest_first_orders_configs_by_the_seconds_they_still_need_on_every_task():
    from autopreset.zoo._run import cheapest_first

    keys = ["t1@0", "t2@0", "t3@0"]
    # resnet50 cells took 100 s, test_resnet cells 2 s; "half" has 2 of 3 resnet50 cells already.
    rows = [_record(t, "half", _flat(0.5), seconds=100 / 27, backbone="resnet50") for t in ("t1", "t2")]
    rows += [_record("t1", "small", _flat(0.5), seconds=2 / 27)]
    for r in rows:
        r["wall_s"] = sum(r["epochs"]["seconds"])
    cand = lambda cid, bb: {"id": cid, "config": {"backbone": bb}}      # noqa: E731
    mine = [(0, cand("big", "resnet50")), (1, cand("half", "resnet50")), (2, cand("small", "test_resnet")),
            (3, cand("small2", "test_resnet")), (4, cand("unseen", "resnet18"))]
    order = [c["id"] for _, c in cheapest_first(mine, rows, keys, 27)]
    # small: 2 cells x 2 s; small2: 3 x 2 s (ties keep rank); half: 1 x 100 s;
    # resnet18 priced from its GMACs against the recorded seconds per GMAC; big: 3 x 100 s.
    assert order[:2] == ["small", "small2"] and order[-1] == "big" and "half" in order[2:4]
    assert cheapest_first(mine, [], keys, 27) == mine                  # nothing recorded: rank order
    assert [c["id"] for _, c in cheapest_first(mine, rows, keys, 9)] == [c["id"] for _, c in mine]


def test_the_shipped_presets_are_greedy_portfolios_of_cells_the_committed_zoo_holds():
    """presets/ against zoo_results/: the cells each shipped preset names are recorded there
    unchanged, and greedy selection on them gives that preset's portfolio, in order."""
    from autopreset.portfolio import load_preset
    from autopreset.zoo import check_preset

    zoo = Path(__file__).resolve().parents[2] / "zoo_results"
    for name in ("latency", "default", "accuracy"):
        assert "same order" in check_preset(load_preset(name), zoo)
