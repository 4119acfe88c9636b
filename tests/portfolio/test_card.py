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
    card = preset_from_run(trials, base=base, name="mnist-card", dataset="mnist-5k", run="runs/r1",
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
    assert "rank 1 of" in card.portfolio[0].reason and "runs/r1" in card.portfolio[0].reason
    assert card.portfolio[0].tier == base.tiers[got[0]["backbone"]]
    assert card.provenance.sources[0] == "run:runs/r1" and card.provenance.datasets == ["mnist-5k"]
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
                        base=base, name="x", dataset="d", run="runs/r9")
    with pytest.raises(ValueError, match="top_k"):
        preset_from_run(trials, base=base, name="x", dataset="d", run="r", top_k=0)
    bad = [{**trials[0], "config": {**trials[0]["config"], "lr": 5.0}}]
    with pytest.raises(ValueError, match=r"run r: trial 0 config\.lr: 5\.0 is outside"):
        preset_from_run(bad, base=base, name="x", dataset="d", run="r")
    tight = {**base.space, "lr": Float(0.5, 0.6)}
    with pytest.raises(ValueError, match=r"config\.lr: .* is outside \[0\.5, 0\.6\]"):
        preset_from_run(trials, base=base, name="x", dataset="d", run="r", space=tight)
