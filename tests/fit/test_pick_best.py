"""The final pick: the best checkpoint, and under --prefer latency the fastest backbone within
one standard error of the best validation accuracy."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from autopreset.pipeline import WeightPruner, pick_best


def _trial(tmp_path, tid, backbone, curve):
    folder = tmp_path / f"t{tid}"
    folder.mkdir()
    history = [{"epoch": i + 1, "metric": m} for i, m in enumerate(curve)]
    best = max(history, key=lambda h: h["metric"])
    (folder / "checkpoint.json").write_text(json.dumps({"best": best, "history": history}))
    return SimpleNamespace(trial_id=tid, status="completed", checkpoint_dir=str(folder),
                           config={"backbone": backbone})


def test_latency_preference_takes_the_fastest_within_one_standard_error(tmp_path):
    trials = [_trial(tmp_path, 0, "resnet10t", [0.95, 0.993]),
              _trial(tmp_path, 1, "test_resnet", [0.97, 0.990]),     # within 1 SE on 300 images
              _trial(tmp_path, 2, "tiny_fast", [0.90, 0.950])]       # fastest, but clearly worse
    result = SimpleNamespace(trials=trials)
    latency = {"resnet10t": 2.6, "test_resnet": 0.6, "tiny_fast": 0.1}
    assert pick_best(result, 300)[0].trial_id == 0                   # accuracy: the best
    trial, which = pick_best(result, 300, latency)
    assert trial.trial_id == 1 and which == "last"
    assert pick_best(result, 30_000, latency)[0].trial_id == 0       # a large validation set resolves it


def _checkpoint(tmp_path, tid, backbone, curve, status="completed"):
    """A trial folder as the trainer leaves it: checkpoint record plus a tensor file."""
    from autopreset.training._checkpoint import FORMAT

    folder = tmp_path / f"t{tid}"
    folder.mkdir()
    history = [{"epoch": i + 1, "metric": m} for i, m in enumerate(curve)]
    (folder / f"state-{len(curve)}.safetensors").write_bytes(b"x" * 100)
    (folder / "checkpoint.json").write_text(json.dumps({
        "format": FORMAT, "tensors": f"state-{len(curve)}.safetensors", "best_tensors": None,
        "history": history, "best": max(history, key=lambda h: h["metric"])}))
    return SimpleNamespace(trial_id=tid, status=status, checkpoint_dir=str(folder),
                           config={"backbone": backbone})


@pytest.mark.parametrize("with_latency", [False, True])
def test_weight_pruner_never_deletes_what_the_pick_would_take(tmp_path, with_latency):
    """Retire a random part of random trials in random order: the pick over the trials that
    keep weights is the pick over all of them, and only the few that could still be picked
    among the retired ones keep their weights."""
    rng = np.random.default_rng(0)
    latency = {"a": 0.5, "b": 1.0, "c": 2.0, "d": 4.0}
    for case in range(60):
        root = tmp_path / str(case)
        root.mkdir()
        n_val = int(rng.choice([30, 100, 1000]))
        trials = []
        for tid in range(int(rng.integers(2, 14))):
            level = rng.uniform(0.3, 0.99)
            curve = list(np.clip(level + rng.normal(0, 0.02, int(rng.integers(1, 5))), 0, 1).round(3))
            status = "failed" if rng.random() < 0.1 else "completed"
            trials.append(_checkpoint(root, tid, str(rng.choice(list(latency))), curve, status))
        lat = latency if with_latency else None
        before = pick_best(SimpleNamespace(trials=trials), n_val, lat)
        retired = [t for t in trials if rng.random() < 0.7]
        pruner = WeightPruner(n_val, lat)
        for t in rng.permutation(retired):
            pruner(t)
        after = pick_best(SimpleNamespace(trials=trials), n_val, lat)
        assert (before[0].trial_id, before[1]) == (after[0].trial_id, after[1]), case
        kept = [t for t in retired if list(Path(t.checkpoint_dir).glob("*.safetensors"))]
        assert len(kept) <= (len({t.config["backbone"] for t in kept}) if lat else 1)
        assert not any(t.status == "failed" for t in kept)
        assert pruner.freed == 100 * (len(retired) - len(kept))


def test_a_model_no_better_than_the_majority_class_gets_a_warning():
    from types import SimpleNamespace

    import numpy as np

    from autopreset.pipeline._finish import chance_warning

    labels = np.array([0] * 60 + [1] * 20 + [2] * 20)
    data = SimpleNamespace(kind=SimpleNamespace(name="classification"),
                           dataset=SimpleNamespace(labels=labels), val_idx=np.arange(100))
    text = chance_warning(0.6, data)
    assert text and "no better than chance" in text and "0.600" in text and "--budget" in text
    assert chance_warning(0.95, data) is None
    assert chance_warning(0.5, SimpleNamespace(**{**data.__dict__, "kind": SimpleNamespace(name="regression")})) is None
