"""preset_from_run: a finished run's best configs become a preset that fit --preset accepts."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from autopreset.portfolio import load_preset, preset_from_run, save_preset
from autopreset.space import Float, narrow, sample


def _run(base, n=14, seed=0):
    """Synthetic trials over the base space: metric from a known function of the config."""
    rng = np.random.default_rng(seed)
    trials = []
    for tid in range(n):
        config = sample(base.space, random_state=rng)
        quality = 1.0 - abs(np.log10(config["lr"]) + 2.5) / 5  # best near lr = 3e-3
        results = [{"resource": r, "metric": float(quality * (1 - 0.5 ** r)), "time": 10.0 * tid + r}
                   for r in range(1, 1 + int(rng.integers(1, 4)))]
        trials.append({"trial_id": tid, "config": {**config, "seed": tid}, "status": "completed",
                       "results": results, "phase": "hyperband"})
    return trials


def _best_metric(t):
    return max(r["metric"] for r in t["results"])


def test_card_holds_the_best_distinct_configs_best_first(tmp_path):
    base = load_preset("default")
    trials = _run(base)
    trials.append({**trials[3], "trial_id": 100, "phase": "portfolio"})  # same config run again
    trials.append({"trial_id": 101, "config": trials[0]["config"], "status": "failed", "results": []})
    card = preset_from_run(trials, base=base, name="mnist-card", dataset="mnist-5k", run="r1",
                           top_k=5)
    assert len(card.portfolio) == 5
    expected = sorted((t for t in trials if t["results"]), key=lambda t: -_best_metric(t))
    got = [e.config for e in card.portfolio]
    want = []
    for t in expected:
        c = {k: v for k, v in t["config"].items() if k != "seed"}
        if c not in want:
            want.append(c)
    assert got == want[:5]
    assert all("seed" not in c for c in got)  # bookkeeping keys are dropped
    assert "rank 1 of" in card.portfolio[0].reason and "run r1" in card.portfolio[0].reason
    assert card.portfolio[0].tier == base.tiers[got[0]["backbone"]]
    assert card.provenance.sources[0] == "run:r1" and card.provenance.datasets == ["mnist-5k"]
    assert card.provenance.date == dt.date.today().isoformat()
    assert card.hyperband == base.hyperband and card.space == base.space

    path = save_preset(card, tmp_path / "card.json")
    assert load_preset(str(path)) == card  # what `fit --preset card.json` does


def test_card_in_min_mode_and_with_a_narrowed_space():
    base = load_preset("latency")
    trials = _run(base, seed=1)
    for t in trials:  # a loss: lower is better
        for r in t["results"]:
            r["metric"] = 1.0 - r["metric"]
    card = preset_from_run(trials, base=base, name="loss-card", dataset="d", run="r", mode="min", top_k=3)
    losses = sorted(min(r["metric"] for r in t["results"]) for t in trials)
    assert f"{losses[0]:.4g}" in card.portfolio[0].reason

    top = [{k: v for k, v in t["config"].items() if k != "seed"} for t in trials]
    narrowed = narrow(base.space, top[:4])
    card2 = preset_from_run(trials[:4], base=base, name="n", dataset="d", run="r", space=narrowed)
    assert card2.space == narrowed
    assert set(card2.tiers) == set(narrowed["backbone"].values)


def test_card_errors():
    base = load_preset("default")
    trials = _run(base, n=3)
    with pytest.raises(ValueError, match="no trial reported a finite metric"):
        preset_from_run([{"trial_id": 0, "config": trials[0]["config"], "status": "failed", "results": []}],
                        base=base, name="x", dataset="d", run="r9")
    with pytest.raises(ValueError, match="top_k"):
        preset_from_run(trials, base=base, name="x", dataset="d", run="r", top_k=0)
    bad = [{**trials[0], "config": {**trials[0]["config"], "lr": 5.0}}]
    with pytest.raises(ValueError, match=r"run r: trial 0 config\.lr: 5\.0 is outside"):
        preset_from_run(bad, base=base, name="x", dataset="d", run="r")
    tight = {**base.space, "lr": Float(0.5, 0.6)}
    with pytest.raises(ValueError, match=r"config\.lr: .* is outside \[0\.5, 0\.6\]"):
        preset_from_run(trials, base=base, name="x", dataset="d", run="r", space=tight)


# ---- a card is ready to share: the data described, never named -----------------------------
def _details(n_classes=3):
    from autopreset.portfolio import dataset_summary

    labels = [i % n_classes for i in range(60)]
    sizes = [(28, 28)] * 50 + [(40, 30)] * 9 + [(640, 480)]
    summary = dataset_summary(classes=[f"class_{i}" for i in range(n_classes)], labels=labels,
                              sizes=sizes, fingerprint="ab" * 32, n_train=48, n_val=12,
                              skipped=2, colour="greyscale")
    return {"task": "classification", "dataset": summary, "resolution": 28,
            "augmentation": {"flip": False, "crop_scale": 0.25, "mirror_check": {
                "accuracy": 0.9, "mirrored_accuracy": 0.4, "chance": 0.34}},
            "prefer": "latency", "budget_s": 600.0, "seed": 0}


def test_dataset_summary_counts_classes_and_image_sizes():
    summary = _details()["dataset"]
    assert summary["images"] == 60 and summary["skipped"] == 2
    assert summary["classes"] == [{"name": f"class_{i}", "images": 20} for i in range(3)]
    assert summary["split"] == {"train": 48, "validation": 12}
    assert summary["width"] == {"min": 28, "median": 28, "max": 640}
    assert summary["height"] == {"min": 28, "median": 28, "max": 480}
    assert summary["colour"] == "greyscale"


def test_a_card_records_the_data_resolution_and_augmentation(tmp_path):
    from autopreset.portfolio import sharing_problems

    base = load_preset("default")
    card = preset_from_run(_run(base), base=base, name="run-20261203-abababab",
                           run="20261203-abababab", details=_details(),
                           command="autopreset fit DATA --budget 600s --prefer latency")
    run = card.provenance.run
    assert run["resolution"] == 28 and run["augmentation"]["flip"] is False
    assert run["dataset"]["fingerprint"] == "ab" * 32 and run["trials"] == 14
    assert card.provenance.datasets == ["3 classes (class_0, class_1, class_2), 60 images (48 train "
                                        "/ 12 validation), 28x28 px median, greyscale; data "
                                        "fingerprint abababababab"]
    path = save_preset(card, tmp_path / "card.json")
    again = load_preset(path)
    assert again == card and again.provenance.run == run          # JSON round trip
    assert sharing_problems(again.to_json()) == []


def test_a_card_refuses_a_path_for_its_run_label():
    base = load_preset("default")
    for label in ("/home/me/runs/r1", "runs/r1", "C:\\runs\\r1", "~/r1", " "):
        with pytest.raises(ValueError, match="run must be a label, not a path"):
            preset_from_run(_run(base, n=3), base=base, name="x", dataset="d", run=label)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["dataset"].update(images=61), r"provenance\.run\.dataset\.images: 61 differs from the 60"),
    (lambda d: d["dataset"]["classes"][1].update(name="class_0"), r"class \"class_0\" is listed twice"),
    (lambda d: d["dataset"]["split"].update(train=47), r"provenance\.run\.dataset\.split: 47 \+ 12"),
    (lambda d: d["dataset"].update(colour="sepia"), r"provenance\.run\.dataset\.colour: \"sepia\" is not one of"),
    (lambda d: d.update(resolution=0), r"provenance\.run\.resolution: 0 is below the minimum 1"),
    (lambda d: d["augmentation"].pop("flip"), r"provenance\.run\.augmentation: missing required key \"flip\""),
    (lambda d: d.update(path="/data/cats"), r"provenance\.run\.path: unknown key"),
])
def test_a_card_with_a_wrong_run_record_is_refused(edit, message):
    details = _details()
    edit(details)
    base = load_preset("default")
    with pytest.raises(ValueError, match=message):
        preset_from_run(_run(base, n=3), base=base, name="x", run="r", details=details)


def test_sharing_problems_finds_paths_and_machine_names():
    from autopreset.portfolio import sharing_problems

    doc = {"provenance": {"sources": ["run:/srv/runs/r1", "preset:default", "on buildhost-7 today"],
                          "command": "autopreset fit ~/photos", "datasets": ["D:\\data\\cats (3 classes)"]},
           "description": "120 train / 30 validation, lr 0.1 x batch/256, https://example.org/x"}
    found = sharing_problems(doc, words=["buildhost-7"])
    assert found == ['provenance.sources[0]: a local path ("run:/srv/runs/r1")',
                     "provenance.sources[2]: this machine's user or host name 'buildhost-7'",
                     'provenance.command: a local path ("autopreset fit ~/photos")',
                     'provenance.datasets[0]: a local path ("D:\\data\\cats (3 classes)")']
    for name in ("default", "latency", "accuracy"):
        assert sharing_problems(load_preset(name).to_json(), words=[]) == []
