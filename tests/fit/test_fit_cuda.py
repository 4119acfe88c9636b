"""fit with --device cuda end to end (skipped where there is no CUDA device): trials train on the
GPU, latency is still measured on the CPU it will serve on unless --latency-device says cuda, and
the saved model loads, predicts and exports on a machine without a GPU."""
from __future__ import annotations

import json
import time

import pytest
import torch

import autopreset
from test_fit_train import check_run, fit_kwargs

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def test_fit_on_cuda_serves_on_cpu(tiny_data, tiny_preset_file, tmp_path):
    t0 = time.time()
    kw = fit_kwargs(tiny_data, tiny_preset_file, tmp_path / "run", budget=60, device="cuda")
    predictor = autopreset.fit(kw.pop("data"), **kw)
    card = check_run(tmp_path / "run", 60, time.time() - t0)
    assert card["latency_ms"]["device"] == "cpu"
    events = [json.loads(line) for line in (tmp_path / "run" / "journal.jsonl").read_text().splitlines()]
    assert any(e["event"] == "reported" for e in events)
    loaded = autopreset.load(tmp_path / "run" / "model")
    assert next(loaded.module.parameters()).device.type == "cpu"
    assert loaded.evaluate(tiny_data)["accuracy"] > 0.5
    assert predictor.card.backbone == card["backbone"]
    path, max_diff = loaded.export("onnx", tmp_path / "model.onnx")
    assert path.stat().st_size > 0 and max_diff < 1e-3


def test_fit_with_latency_measured_on_cuda(tiny_data, tiny_preset_file, tmp_path):
    kw = fit_kwargs(tiny_data, tiny_preset_file, tmp_path / "run", budget=60, device="cuda",
                    latency_device="cuda")
    autopreset.fit(kw.pop("data"), **kw)
    card = json.loads((tmp_path / "run" / "model" / "model.json").read_text())
    assert card["latency_ms"]["device"] == "cuda" and card["latency_ms"]["p50"] > 0
