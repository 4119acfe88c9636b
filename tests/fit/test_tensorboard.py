"""``fit --tensorboard DIR``: each trial's curves, written from the tuner's events in the main
process, read back with TensorBoard's own EventAccumulator."""
from __future__ import annotations

import importlib.util
import json
import math

import pytest
from click.testing import CliRunner

from autopreset.cli._main import cli
from autopreset.errors import InputError
from autopreset.journal import read_journal
from autopreset.pipeline import FitOptions
from autopreset.pipeline._tensorboard import TrialCurves
from autopreset.schedulers import SuccessiveHalving
from autopreset.space import Categorical, Float
from autopreset.tuner import Tuner


def curves_of(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    scalars = {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
    texts = [t.tensor_proto.string_val[0].decode() for t in acc.Tensors("config/text_summary")]
    return scalars, texts


def learner(config, reporter):
    """A learning curve whose ceiling is the config's, with losses, reported per epoch."""
    for epoch in range(1, reporter.target_resource + 1):
        acc = config["ceiling"] * (1 - math.exp(-epoch))
        if not reporter.report(resource=epoch, metric=acc, val_loss=1 - acc, train_loss=0.5 / epoch,
                               seconds=0.01):
            return


def test_each_trials_curves_are_read_back_by_tensorboard(tmp_path):
    space = {"ceiling": Float(0.5, 0.99), "backbone": Categorical(["net_a", "net_b"])}
    curves = TrialCurves(tmp_path / "tb")
    curves.OPEN = 2                 # writers close and reopen: a trial's curve spans files
    sched = SuccessiveHalving(space=space, mode="max", max_resource=4, n_configs=4, min_resource=1,
                              eta=2, n_brackets=1, random_state=0)
    Tuner(learner, sched, budget_s=60, run_dir=tmp_path / "run", on_event=curves.on_event).run()
    curves.close()
    reports: dict[int, list] = {}
    configs = {}
    for e in read_journal(tmp_path / "run" / "journal.jsonl"):
        if e["event"] == "reported":
            reports.setdefault(e["trial_id"], []).append(e["result"])
        if e["event"] == "started":
            configs[e["trial_id"]] = e["config"]
    assert sorted(p.name for p in (tmp_path / "tb").iterdir()) == [
        f"trial_{t:05d}" for t in sorted(configs)]
    promoted = max(reports, key=lambda t: len(reports[t]))
    assert len(reports[promoted]) == 4          # the winner ran on from its rung to epoch 4
    for tid, results in reports.items():
        scalars, texts = curves_of(tmp_path / "tb" / f"trial_{tid:05d}")
        assert scalars["val_accuracy"] == [(r["resource"], pytest.approx(r["metric"])) for r in results]
        assert scalars["val_loss"] == [(r["resource"], pytest.approx(r["val_loss"])) for r in results]
        assert [s for s, _ in scalars["train_loss"]] == [r["resource"] for r in results]
        assert [json.loads(t) for t in texts][:1] == [configs[tid]]


def test_missing_tensorboard_is_a_one_line_error_before_any_work(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tensorboard" else real(name, *a))
    with pytest.raises(InputError, match=r"--tensorboard needs the tensorboard package: pip "
                                         r"install 'autopreset\[tensorboard\]'"):
        FitOptions(data=str(tmp_path), tensorboard_dir=str(tmp_path / "tb"))
    result = CliRunner().invoke(cli, ["fit", str(tmp_path / "no data"), "--tensorboard",
                                      str(tmp_path / "tb")])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Error: --tensorboard needs the tensorboard package: pip install 'autopreset[tensorboard]'"]


def test_a_tensorboard_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "tb").write_text("not a folder")
    with pytest.raises(InputError, match=r"--tensorboard .*tb: it is a file, not a folder"):
        FitOptions(data=str(tmp_path), tensorboard_dir=str(tmp_path / "tb"))


@pytest.mark.slow
def test_fit_writes_the_trials_curves(tiny_data, tiny_preset_file, tmp_path):
    """A tiny real fit with two local workers: the curves come from the main process."""
    import autopreset
    from autopreset.pipeline import Budget

    autopreset.fit(str(tiny_data), budget=Budget(30, counts_setup=False), prefer="accuracy",
                   out=str(tmp_path / "run"), preset=str(tiny_preset_file), resolution=16,
                   progress=False, tensorboard_dir=tmp_path / "tb", workers=2)
    trials = {e["trial_id"]: [] for e in read_journal(tmp_path / "run" / "journal.jsonl")
              if e["event"] == "started"}
    for e in read_journal(tmp_path / "run" / "journal.jsonl"):
        if e["event"] == "reported":
            trials[e["trial_id"]].append(e["result"])
    ran = {t: r for t, r in trials.items() if r}
    assert ran
    for tid, results in ran.items():
        scalars, _ = curves_of(tmp_path / "tb" / f"trial_{tid:05d}")
        assert [s for s, _ in scalars["val_accuracy"]] == [r["resource"] for r in results]
        assert {"val_loss", "train_loss"} <= set(scalars)
