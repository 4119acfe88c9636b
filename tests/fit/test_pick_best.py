"""The final pick: the best checkpoint, and under --prefer latency the fastest backbone within
one standard error of the best validation accuracy."""
from __future__ import annotations

import json
from types import SimpleNamespace

from autopreset._pipeline._finish import pick_best


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
