"""Fixtures for fit's tests: a tiny generated image folder and a preset of test-sized backbones."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

TINY_BACKBONES = ["test_resnet", "test_efficientnet", "test_convnext"]


def make_folder(root, *, n_per_class: int = 24, size: int = 12, seed: int = 0):
    """Three classes a small CNN separates in an epoch or two: a bright square in different
    corners, on noise."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for c, name in enumerate(["ne", "sw", "center"]):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(n_per_class):
            img = rng.integers(0, 80, (size, size, 3), dtype=np.uint8)
            h = size // 2
            y, x = [(0, h), (h, 0), (h // 2, h // 2)][c]
            img[y:y + h, x:x + h] = 230
            Image.fromarray(img).save(folder / f"{i:03d}.png")
    return root


def tiny_preset(path):
    from autopreset.portfolio import load_preset

    obj = load_preset("default").to_json()
    obj["space"]["params"].pop("crop_scale", None)   # fit sets the crop from the schedule
    obj["name"] = "tiny-test"
    obj["space"]["params"]["backbone"]["values"] = TINY_BACKBONES
    obj["space"]["params"]["batch_size"]["values"] = [8, 16, 32]
    obj["tiers"] = {n: "tiny" for n in TINY_BACKBONES}
    obj["portfolio"] = [
        {"config": {"backbone": b, "lr": lr, "batch_size": 16, "momentum": 0.9,
                    "weight_decay": 1e-4, "optimizer": opt, "label_smoothing": 0.0},
         "reason": "test-sized backbone for fast tests"}
        for b, lr, opt in [("test_resnet", 0.003, "adamw"), ("test_efficientnet", 0.003, "adamw"),
                           ("test_convnext", 0.002, "adamw"), ("test_resnet", 0.05, "sgd")]]
    obj["hyperband"]["max_resource"] = 9
    path.write_text(json.dumps(obj))
    return path


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    return make_folder(tmp_path_factory.mktemp("tiny") / "data")


@pytest.fixture(scope="session")
def tiny_preset_file(tmp_path_factory):
    return tiny_preset(tmp_path_factory.mktemp("preset") / "tiny.json")


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path_factory):
    """No network probes; caches in a per-session folder (latency and speed stay cached)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("AUTOPRESET_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    os.environ.setdefault("OMP_NUM_THREADS", "1")
