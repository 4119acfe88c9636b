"""The trainer and the latency profiler on a CUDA device (skipped where there is none).

CI has no GPU; these run on a machine that has one. Mixed precision and cuDNN make GPU training
not bit-exact, so resume is checked for continuation, not equality.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from autopreset.data import preprocess
from autopreset.training import RecordingReporter, load_model_from_checkpoint

CONFIG = {"backbone": "test_resnet", "lr": 0.05, "batch_size": 16, "augment": "crop_flip"}
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(scope="module")
def cuda_task(task_and_data):
    ds, task = task_and_data
    return ds, dataclasses.replace(task, device="cuda")


def test_trains_on_cuda_and_the_checkpoint_serves_on_cpu(cuda_task, tmp_path):
    ds, task = cuda_task
    reporter = RecordingReporter(checkpoint_dir=tmp_path, max_resource=3, seed=3)
    task(dict(CONFIG), reporter)
    assert [r["resource"] for r in reporter.results] == [1, 2, 3]
    assert reporter.results[-1]["metric"] > 0.6
    assert all(np.isfinite(r["train_loss"]) for r in reporter.results)
    model, meta = load_model_from_checkpoint(tmp_path)          # lands on the CPU
    assert next(model.parameters()).device.type == "cpu"
    val_paths = [ds.paths[i] for i in task.val_idx]
    with torch.inference_mode():
        pred = model(preprocess(val_paths, meta["input_size"], meta["mean"], meta["std"]))
    accuracy = float((pred.argmax(1).numpy() == ds.labels[task.val_idx]).mean())
    # validation ran under CUDA autocast; fp32 on the CPU may flip a borderline image
    assert abs(accuracy - meta["metric"]) <= 1.5 / len(val_paths)


def test_paused_cuda_trial_continues_from_its_checkpoint(cuda_task, tmp_path):
    _, task = cuda_task
    first = RecordingReporter(checkpoint_dir=tmp_path, max_resource=3, seed=5, stop_at=1)
    task(dict(CONFIG), first)
    assert [r["resource"] for r in first.results] == [1]
    rest = RecordingReporter(checkpoint_dir=tmp_path, max_resource=3, seed=5)
    task(dict(CONFIG), rest)
    assert [r["resource"] for r in rest.results] == [2, 3]
    assert rest.results[-1]["metric"] > 0.6


def test_latency_profile_on_cuda_is_measured_and_keyed_by_the_gpu(tmp_path):
    from autopreset.backbones import profile_latency

    from autopreset.backbones import machine_key

    result = profile_latency(["test_resnet"], 32, device="cuda", cache_dir=tmp_path, max_seconds=0.5)
    assert result["test_resnet"].p50_ms > 0
    assert machine_key("cuda") != machine_key("cpu")    # GPU figures never stand in for CPU ones
