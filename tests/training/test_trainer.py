"""The trainer objective: exact resume in a new process, failures as reasons, export."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from autopreset.data import preprocess
from autopreset.pipeline import pick_best
from autopreset.training import (RecordingReporter, TrialFailedError, drop_weights,
                                 load_model_from_checkpoint, lr_factor, resolve_config)
from autopreset.training._checkpoint import read_checkpoint

from trainer_data import CONFIG

COMPARED = ("resource", "metric", "val_loss", "train_loss", "lr")


def _curve(results):
    """Per-epoch results in order; a resumed trial says its restored epoch again first (the
    tuner skips a report it already has), so a repeat must equal the first."""
    seen = {}
    for r in results:
        row = {k: r[k] for k in COMPARED}
        assert seen.setdefault(r["resource"], row) == row, f"epoch {r['resource']} differs on restore"
    return [seen[k] for k in sorted(seen)]


@pytest.fixture(scope="module")
def uninterrupted(task_and_data, tmp_path_factory):
    _, task = task_and_data
    reporter = RecordingReporter(checkpoint_dir=tmp_path_factory.mktemp("full"),
                                 max_resource=3, seed=11)
    task(dict(CONFIG), reporter)
    return reporter


def test_reports_every_epoch_with_the_contract_keys(uninterrupted):
    assert [r["resource"] for r in uninterrupted.results] == [1, 2, 3]
    for r in uninterrupted.results:
        assert 0.0 <= r["metric"] <= 1.0
        for key in ("val_loss", "train_loss", "seconds", "data_seconds", "images_per_second"):
            assert np.isfinite(r[key]) and r[key] >= 0
    assert uninterrupted.results[-1]["metric"] > 0.6       # colour classes are easy


def test_paused_trial_resumed_in_a_new_process_matches(folder, task_and_data, uninterrupted,
                                                       tmp_path):
    _, task = task_and_data
    ckpt = tmp_path / "trial"
    paused = RecordingReporter(checkpoint_dir=ckpt, max_resource=3, seed=11, stop_at=1)
    task(dict(CONFIG), paused)
    assert len(paused.results) == 1
    assert {p.suffix for p in ckpt.iterdir()} == {".json", ".safetensors"}   # no pickle
    out = tmp_path / "resumed.json"
    worker = Path(__file__).with_name("_resume_worker.py")
    subprocess.run([sys.executable, str(worker), str(folder), str(Path(task.cache.path).parents[1]),
                    str(ckpt), "3", str(out)], check=True, timeout=120)
    resumed = json.loads(out.read_text())
    assert _curve(paused.results + resumed) == _curve(uninterrupted.results)


def test_target_resource_stops_and_promotion_continues(task_and_data, uninterrupted, tmp_path):
    _, task = task_and_data
    first = RecordingReporter(checkpoint_dir=tmp_path, max_resource=3, target_resource=2, seed=11)
    caller_state = torch.get_rng_state()
    task(dict(CONFIG), first)
    assert torch.equal(torch.get_rng_state(), caller_state)     # the caller's RNG is untouched
    assert json.loads((tmp_path / "checkpoint.json").read_text())["epoch"] == 2
    promoted = RecordingReporter(checkpoint_dir=tmp_path, max_resource=3, seed=11)
    as_numpy = dict(CONFIG, lr=np.float64(CONFIG["lr"]), batch_size=np.int64(16))
    task(as_numpy, promoted)                  # a searcher's numpy values resume the same trial
    assert _curve(first.results + promoted.results) == _curve(uninterrupted.results)
    with pytest.raises(ValueError, match="checkpoint .* is for config"):
        task(dict(CONFIG, lr=0.1), RecordingReporter(checkpoint_dir=tmp_path, max_resource=3))


def test_exported_model_reproduces_the_best_metric_through_preprocess(task_and_data,
                                                                      uninterrupted):
    ds, task = task_and_data
    model, meta = load_model_from_checkpoint(uninterrupted.checkpoint_dir)
    assert meta["classes"] == list(ds.classes) and meta["input_size"] == 12
    assert meta["weights_source"] == "random"
    assert meta["metric"] == max(r["metric"] for r in uninterrupted.results)
    val_paths = [ds.paths[i] for i in task.val_idx]
    with torch.inference_mode():
        pred = model(preprocess(val_paths, meta["input_size"], meta["mean"], meta["std"]))
    accuracy = float((pred.argmax(1).numpy() == ds.labels[task.val_idx]).mean())
    assert accuracy == pytest.approx(meta["metric"])


def test_nan_loss_fails_the_trial_at_once(task_and_data, tmp_path):
    _, task = task_and_data
    reporter = RecordingReporter(checkpoint_dir=tmp_path, max_resource=2, seed=0)
    with pytest.raises(TrialFailedError, match="NaN/inf at epoch 1, step [12] "):
        task(dict(CONFIG, lr=1e30, augment="none"), reporter)
    assert reporter.results == []


def test_out_of_memory_is_a_failed_config(task_and_data, tmp_path, monkeypatch):
    _, task = task_and_data

    def oom(self, *args):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(torch.nn.CrossEntropyLoss, "forward", oom)
    with pytest.raises(TrialFailedError, match="out of memory .*batch_size=16"):
        task(dict(CONFIG), RecordingReporter(checkpoint_dir=tmp_path, max_resource=1))


@pytest.mark.parametrize("config, message", [
    ({"lr": 0.1, "batch_size": 8}, "missing 'backbone'"),
    ({"backbone": "x", "lr": -1, "batch_size": 8}, "'lr' must be a number in \\(0"),
    ({"backbone": "x", "lr": 0.1, "batch_size": 0}, "'batch_size' must be a positive integer"),
    ({"backbone": "x", "lr": 0.1, "batch_size": 8, "optimizer": "lion"}, "'optimizer' must be"),
    ({"backbone": "x", "lr": 0.1, "batch_size": 8, "augment": "mixup"}, "'augment' must be"),
    ({"backbone": "x", "lr": 0.1, "batch_size": 8, "momentum": 1.5}, "'momentum'"),
])
def test_bad_configs_are_one_line_errors(config, message):
    with pytest.raises(ValueError, match=message):
        resolve_config(config)


def test_schedule_warms_up_then_decays_to_the_floor():
    total, warm = 100, 5
    f = [lr_factor(s, total, warm) for s in range(total)]
    assert f[0] == pytest.approx(0.2) and f[4] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(f[5:], f[6:]))
    assert lr_factor(total, total, warm) == pytest.approx(0.01)


def test_memory_mapped_batches_train_exactly_like_in_memory_ones(task_and_data, tmp_path):
    import dataclasses

    _, task = task_and_data
    config = dict(CONFIG, augment="crop")
    runs = []
    for limit in (task.in_memory_limit, 0):            # 0: gather every batch from the memmap
        reporter = RecordingReporter(checkpoint_dir=tmp_path / str(limit), max_resource=1, seed=5)
        dataclasses.replace(task, in_memory_limit=limit)(config, reporter)
        runs.append(_curve(reporter.results))
    assert runs[0] == runs[1]


def test_dropped_weights_keep_the_record_and_read_as_no_checkpoint(uninterrupted, tmp_path):
    ckpt = tmp_path / "trial"
    shutil.copytree(uninterrupted.checkpoint_dir, ckpt)
    assert pick_best(SimpleNamespace(trials=[SimpleNamespace(
        trial_id=0, status="completed", checkpoint_dir=str(ckpt), config=dict(CONFIG))]), 100)
    before = json.loads((ckpt / "checkpoint.json").read_text())
    size = sum(p.stat().st_size for p in ckpt.glob("*.safetensors"))
    assert drop_weights(ckpt) == size > 0
    assert not list(ckpt.glob("*.safetensors"))
    after = json.loads((ckpt / "checkpoint.json").read_text())
    for key in ("history", "best", "config", "epoch"):
        assert after[key] == before[key]
    assert read_checkpoint(ckpt) is None               # a resumed trial would start afresh
    with pytest.raises(ValueError, match="deleted when its fit finished"):
        load_model_from_checkpoint(ckpt)
    assert pick_best(SimpleNamespace(trials=[SimpleNamespace(
        trial_id=0, status="completed", checkpoint_dir=str(ckpt), config=dict(CONFIG))]), 100) is None
    assert drop_weights(ckpt) == 0


def test_a_trial_killed_mid_run_resumes_at_its_last_finished_epoch(folder, task_and_data,
                                                                   uninterrupted, tmp_path):
    """Checkpoints at every epoch boundary: SIGKILL after the third epoch's training (before its
    checkpoint) leaves epoch 2's checkpoint whole, and the trial goes on from there."""
    import os

    _, task = task_and_data
    ckpt = tmp_path / "trial"
    worker = Path(__file__).with_name("_resume_worker.py")
    env = dict(os.environ, AUTOPRESET_FAULT="epoch:3")
    proc = subprocess.run([sys.executable, str(worker), str(folder),
                           str(Path(task.cache.path).parents[1]), str(ckpt), "3",
                           str(tmp_path / "never.json")], env=env, timeout=120)
    assert proc.returncode == -9 and not (tmp_path / "never.json").exists()
    assert json.loads((ckpt / "checkpoint.json").read_text())["epoch"] == 2
    assert not [p for p in ckpt.iterdir() if p.suffix == ".tmp"]
    resumed = RecordingReporter(checkpoint_dir=ckpt, max_resource=3, seed=11)
    task(dict(CONFIG), resumed)
    assert [r["resource"] for r in resumed.results] == [2, 3]     # epoch 2 said again, then 3
    assert _curve(resumed.results) == _curve(uninterrupted.results)[1:]


def test_a_batch_that_does_not_fit_is_split_into_micro_batches_not_lost(task_and_data, tmp_path,
                                                                        monkeypatch):
    """Out of memory above 8 images: the trial goes on with micro-batches of 8 whose gradients
    add up to the batch's (same steps, same config), and says so in its results."""
    import timm

    create = timm.create_model

    def small_memory(*args, **kwargs):
        model = create(*args, **kwargs)
        forward = model.forward

        def guarded(x):
            if model.training and x.shape[0] > 8:
                raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to "
                                   "allocate 123456789 bytes")
            return forward(x)

        model.forward = guarded
        return model

    monkeypatch.setattr(timm, "create_model", small_memory)
    _, task = task_and_data
    reporter = RecordingReporter(checkpoint_dir=tmp_path, max_resource=2, seed=11)
    task(dict(CONFIG), reporter)          # CONFIG trains at batch 16
    assert [r["resource"] for r in reporter.results] == [1, 2]
    assert all(r["micro_batch"] == 8 for r in reporter.results)
    assert json.loads((tmp_path / "checkpoint.json").read_text())["config"]["batch_size"] == 16
