"""Fine-tuning from a weights file: loading (head re-initialised), what a trial records, the
discriminative learning rates, warm-up and linear probe, bad files, and the folders weights are
found in (plain files, timm tags, a Hugging Face cache)."""
from __future__ import annotations

import dataclasses
import json
import pickle

import pytest
import timm
import torch
from safetensors.torch import load_file, save_file

from autopreset.backbones import check_weights_file, find_weights
from autopreset.errors import InputError
from autopreset.training import RecordingReporter, backbone_factor, lr_factor, resolve_config
from trainer_data import CONFIG

FT = {"backbone_lr_scale": 0.25, "warmup_epochs": 1.0, "lp_epochs": 0}


def weights_file(path, name="test_resnet", num_classes=3, seed=7):
    """A donor backbone's state dict as safetensors (a head of ``num_classes`` outputs)."""
    torch.manual_seed(seed)
    donor = timm.create_model(name, num_classes=num_classes)
    save_file({k: v.contiguous() for k, v in donor.state_dict().items()}, str(path))
    return {k: v.clone() for k, v in donor.state_dict().items()}


@pytest.fixture(scope="module")
def donor(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "test_resnet.safetensors"
    return path, weights_file(path)


def train(task, tmp_path, config, *, epochs=1, max_resource=None, weights=None):
    task = dataclasses.replace(task, weights=weights or {})
    reporter = RecordingReporter(checkpoint_dir=tmp_path / "ck", max_resource=max_resource or epochs,
                                 stop_at=epochs)
    task(config, reporter)
    meta = json.loads((tmp_path / "ck" / "checkpoint.json").read_text())
    tensors = load_file(str(tmp_path / "ck" / meta["tensors"]))
    model = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    return reporter.results, meta, model


def test_a_trial_starts_from_the_file_with_a_fresh_head_and_says_so(task_and_data, donor, tmp_path):
    path, state = donor
    _, task = task_and_data
    config = {**CONFIG, **FT, "lp_epochs": 1}      # epoch 1 is a linear probe: the backbone stays
    results, meta, model = train(task, tmp_path, config, epochs=1, max_resource=3,
                                 weights={"test_resnet": str(path)})
    body = [k for k in state if not k.startswith("fc.")]
    assert all(torch.equal(model[k], state[k]) for k in body)   # frozen, BN statistics included
    # same shape (3 classes) and still re-initialised: the file's classes are not these
    assert model["fc.weight"].shape == state["fc.weight"].shape
    assert not torch.allclose(model["fc.weight"], state["fc.weight"])
    assert results[0]["pretrained"] is True and results[0]["weights"] == f"file:{path}"
    assert meta["pretrained"] is True and meta["weights_source"] == f"file:{path}"
    assert results[0]["backbone_lr"] == 0.0 and results[0]["lr"] > 0     # the probe


def test_discriminative_lr_groups_and_warm_up(task_and_data, donor, tmp_path):
    path, _ = donor
    _, task = task_and_data
    results, meta, _ = train(task, tmp_path, {**CONFIG, **FT, "warmup_epochs": 2.0}, epochs=1,
                             max_resource=4, weights={"test_resnet": str(path)})
    groups = meta["optimizer"]["param_groups"]
    assert {g["role"] for g in groups} == {"head", "backbone"}
    head = [g for g in groups if g["role"] == "head"]
    backbone = [g for g in groups if g["role"] == "backbone"]
    assert all(g["lr_scale"] == 0.25 for g in backbone)
    assert backbone[0]["lr"] == pytest.approx(0.25 * head[0]["lr"])
    assert {g["weight_decay"] for g in groups} == {0.0, CONFIG.get("weight_decay", 5e-5)}
    spe = meta["schedule"]["steps_per_epoch"]
    assert meta["schedule"]["warmup_steps"] == 2 * spe
    assert results[0]["lr"] == pytest.approx(CONFIG["lr"] * spe / (2 * spe))   # half-way up


def test_a_backbone_without_weights_starts_random_and_ignores_the_finetuning_keys(
        task_and_data, donor, tmp_path):
    path, _ = donor
    _, task = task_and_data
    config = {**CONFIG, "backbone": "test_efficientnet", **FT}
    results, meta, _ = train(task, tmp_path, config, weights={"test_resnet": str(path)})
    assert results[0]["pretrained"] is False and results[0]["weights"] == "random"
    assert all("role" not in g for g in meta["optimizer"]["param_groups"])
    assert "backbone_lr" not in results[0]


def test_bad_weights_files_are_one_line_errors_naming_the_file(tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    weights_file(folder / "test_resnet.safetensors", name="test_convnext")     # wrong shapes
    with pytest.raises(InputError) as err:
        find_weights(folder, ["test_resnet"])
    message = str(err.value)
    assert "\n" not in message and str(folder / "test_resnet.safetensors") in message
    assert "does not fit this backbone (test_resnet)" in message and "missing" in message
    (folder / "test_resnet.safetensors").write_bytes(pickle.dumps({"conv1.weight": [1.0]}))
    with pytest.raises(InputError, match=r"test_resnet\.safetensors.*Python pickle.*never unpickles"):
        find_weights(folder, ["test_resnet"])
    state = weights_file(folder / "x.safetensors")
    state["extra.weight"] = torch.zeros(2)
    save_file({k: v.contiguous() for k, v in state.items()}, str(folder / "x.safetensors"))
    with pytest.raises(InputError, match=r"1 unexpected \(e\.g\. 'extra\.weight'\)"):
        check_weights_file("test_resnet", folder / "x.safetensors")
    with pytest.raises(InputError, match="no such folder"):
        find_weights(tmp_path / "nowhere", ["test_resnet"])


def test_weights_are_found_by_name_by_timm_tag_and_in_a_hugging_face_cache(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    weights_file(plain / "test_resnet.safetensors")
    weights_file(plain / "test_efficientnet.r160_in1k.safetensors", name="test_efficientnet")
    (plain / "notes.safetensors").write_bytes(b"unrelated")
    found = find_weights(plain, ["test_resnet", "test_efficientnet", "test_convnext"])
    assert found.files == {"test_resnet": str(plain / "test_resnet.safetensors"),
                           "test_efficientnet": str(plain / "test_efficientnet.r160_in1k.safetensors")}
    assert found.unmatched == ("notes",)
    assert "random init: test_convnext" in found.describe(["test_resnet", "test_convnext"])

    hub = tmp_path / "hub"           # as huggingface_hub leaves it: refs/main names the snapshot
    entry = hub / "models--timm--test_resnet.r160_in1k"
    for rev in ("old", "abc123"):
        (entry / "snapshots" / rev).mkdir(parents=True)
        weights_file(entry / "snapshots" / rev / "model.safetensors", num_classes=1000)
    (entry / "refs").mkdir()
    (entry / "refs" / "main").write_text("abc123")
    found = find_weights(hub, ["test_resnet"])
    assert found.files == {"test_resnet": str(entry / "snapshots" / "abc123" / "model.safetensors")}

    model = tmp_path / "run" / "model"          # a model folder fit saved: model.json names it
    model.mkdir(parents=True)
    weights_file(model / "model.safetensors")
    (model / "model.json").write_text(json.dumps({"backbone": "test_resnet", "classes": ["a", "b"]}))
    assert find_weights(model, ["test_resnet"]).files == {"test_resnet": str(model / "model.safetensors")}

    weights_file(plain / "test_resnet.a1_in1k.safetensors")      # the exact name still wins
    assert find_weights(plain, ["test_resnet"]).files["test_resnet"].endswith("/test_resnet.safetensors")
    (plain / "test_resnet.safetensors").unlink()
    weights_file(plain / "test_resnet.b2_in1k.safetensors")      # two tags, neither the default
    with pytest.raises(InputError, match=r"weights for test_resnet under 2 names .*keep one"):
        find_weights(plain, ["test_resnet"])


def test_finetuning_keys_are_bounded_and_the_backbone_schedule_starts_after_the_probe():
    assert resolve_config(dict(CONFIG))["backbone_lr_scale"] == 1.0      # neutral defaults
    for key, bad in [("backbone_lr_scale", 0.0), ("backbone_lr_scale", 1.5),
                     ("warmup_epochs", -1), ("lp_epochs", 1.5), ("lp_epochs", 11)]:
        with pytest.raises(ValueError, match=f"'{key}'"):
            resolve_config({**CONFIG, key: bad})
    total, warm, lp = 100, 10, 20
    assert backbone_factor(5, total, warm, 0) == lr_factor(5, total, warm)
    assert backbone_factor(19, total, warm, lp) == 0.0
    assert backbone_factor(20, total, warm, lp) == pytest.approx(0.1 * lr_factor(20, total, warm))
    assert backbone_factor(29, total, warm, lp) == pytest.approx(lr_factor(29, total, warm))
