"""The preset card a tiny real fit writes: ready to share (no path, home, user, host or data
folder name anywhere), with the data described, the resolution and the augmentation."""
from __future__ import annotations

import getpass
import json
import os
import socket

import numpy as np
import pytest

pytestmark = pytest.mark.slow
TINY = ["test_resnet", "test_efficientnet"]


def _greyscale_folder(root, n_per_class=16, size=20):
    """Three classes of greyscale PNGs (mode L): a bright square in a different place each."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for c, name in enumerate(["ne", "sw", "center"]):
        (root / name).mkdir(parents=True)
        for i in range(n_per_class):
            img = rng.integers(0, 80, (size, size), dtype=np.uint8)
            y, x = [(0, 10), (10, 0), (5, 5)][c]
            img[y:y + 10, x:x + 10] = 230
            Image.fromarray(img, mode="L").save(root / name / f"{i:03d}.png")
    return root


def _tiny_preset(path):
    from autopreset.portfolio import load_preset

    obj = load_preset("default").to_json()
    obj["space"]["params"].pop("crop_scale", None)   # fit sets the crop from the schedule
    obj["name"] = "tiny-card-test"
    obj["space"]["params"]["backbone"]["values"] = TINY
    obj["space"]["params"]["batch_size"]["values"] = [8, 16]
    obj["tiers"] = {n: "tiny" for n in TINY}
    obj["portfolio"] = [
        {"config": {"backbone": b, "lr": 0.003, "batch_size": 16, "momentum": 0.9,
                    "weight_decay": 1e-4, "optimizer": "adamw", "label_smoothing": 0.0},
         "reason": "test-sized backbone"} for b in TINY]
    obj["hyperband"]["max_resource"] = 3
    path.write_text(json.dumps(obj))
    return path


def test_a_fit_writes_a_card_ready_to_share(tmp_path, monkeypatch):
    import autopreset
    from autopreset.pipeline import Budget
    from autopreset.portfolio import load_preset, sharing_problems

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("AUTOPRESET_CACHE", str(tmp_path / "cache"))
    data = _greyscale_folder(tmp_path / "secret_project" / "zebra_photos_q7")
    preset = _tiny_preset(tmp_path / "secret_project" / "team_q7.json")
    out = tmp_path / "secret_project" / "out"
    autopreset.fit(str(data), budget=Budget(30, counts_setup=False), prefer="accuracy",
                   out=str(out), preset=str(preset), resolution=16, progress=False)

    text = (out / "preset.json").read_text(encoding="utf-8")
    for private in (str(tmp_path), "secret_project", "zebra_photos_q7", "team_q7",
                    os.path.expanduser("~"), "/tmp/"):
        assert private not in text, private
    words = [w for w in (getpass.getuser(), socket.gethostname()) if len(w) >= 3 and w != "root"]
    assert sharing_problems(json.loads(text), words=words) == []

    card = load_preset(out / "preset.json")           # fit --preset accepts it
    run = card.provenance.run
    model = json.loads((out / "model" / "model.json").read_text())
    ds = run["dataset"]
    assert ds["fingerprint"] == model["data_fingerprint"]
    assert ds["classes"] == [{"name": n, "images": 16} for n in ("center", "ne", "sw")]
    assert ds["images"] == 48 and ds["split"]["train"] + ds["split"]["validation"] == 48
    assert ds["width"] == ds["height"] == {"min": 20, "median": 20, "max": 20}
    assert ds["colour"] == "greyscale" and ds["skipped"] == 0
    assert run["resolution"] == 16 == model["input_size"]
    assert isinstance(run["augmentation"]["flip"], bool)
    assert 0 < run["augmentation"]["crop_scale"] <= 1
    assert set(run["augmentation"]["mirror_check"]) == {"accuracy", "mirrored_accuracy", "chance"}
    assert run["prefer"] == "accuracy" and run["trials"] >= 1
    assert card.provenance.command.startswith("autopreset fit DATA --budget 30s --prefer accuracy")
    assert "--resolution 16 --preset PRESET.json" in card.provenance.command
    assert "3 classes (center, ne, sw), 48 images" in card.provenance.datasets[0]
    assert card.name.startswith("run-") and ds["fingerprint"][:8] in card.name
