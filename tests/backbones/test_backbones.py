"""Catalog, weights loading (local file, HF cache, offline fallback), the latency and
training-speed profilers."""
from __future__ import annotations

import logging

import pytest
import timm
import torch
from safetensors.torch import save_file

from autopreset.backbones import (TIERS, TrainSpeed, catalog, create_backbone, get_spec, machine_key,
                                  measure_train_speed, profile_latency, register_backbone, tier_of)

LECTURE = ["mobilenetv2_035", "mobilenetv3_small_100", "mobilenetv3_large_100", "resnet18",
           "resnet34", "resnet50", "resnet101", "vgg16_bn", "seresnext50_32x4d", "resnest50d",
           "resnest200e"]


def test_catalog_holds_the_lecture_list_ordered_small_to_large():
    specs = catalog()
    names = [s.name for s in specs]
    assert set(LECTURE) <= set(names)
    assert {"efficientnet_b0", "convnext_atto", "regnetx_002", "lcnet_050"} <= set(names)
    assert all(timm.is_model(n) for n in names)
    ranks = [TIERS.index(s.tier) for s in specs]
    assert ranks == sorted(ranks)
    assert all(s.tier == tier_of(s.params_m) for s in specs)
    assert get_spec("resnet18").params_m == pytest.approx(11.18, abs=0.05)
    assert get_spec("resnest200e").tier == "large" and catalog("tiny")[0].tier == "tiny"
    assert not any(s.name.startswith("test_") for s in catalog(include_test_nets=False))
    with pytest.raises(ValueError, match="unknown tier 'huge'"):
        catalog("huge")
    with pytest.raises(ValueError, match="'nope' is not in the catalog"):
        get_spec("nope")


def test_shipped_presets_backbones_are_catalog_entries():
    for name in ["resnet14t", "resnet26", "lcnet_100", "mobilenetv2_100", "convnext_femto",
                 "convnext_pico", "convnext_nano", "efficientnet_lite0"]:
        spec = get_spec(name)
        assert spec.params_m > 0 and spec.gmacs_224 > 0 and spec.note


def test_register_backbone_adds_a_timm_model_to_the_catalog():
    spec = register_backbone("test_vit", note="timm's test-sized ViT", replace=True)   # measured
    model = timm.create_model("test_vit", num_classes=0)
    assert spec.params_m == pytest.approx(sum(p.numel() for p in model.parameters()) / 1e6)
    assert spec.gmacs_224 > 0 and spec.tier == tier_of(spec.params_m) == "tiny"
    assert get_spec("test_vit") == spec and spec in catalog("tiny")
    assert "test_vit" not in {s.name for s in catalog(include_test_nets=False)}
    ranks = [(TIERS.index(s.tier), s.gmacs_224) for s in catalog()]
    assert ranks == sorted(ranks)                                   # still small to large
    given = register_backbone("test_byobnet", params_m=7.5, gmacs_224=0.2, replace=True)
    assert (given.params_m, given.tier) == (7.5, "medium")          # numbers given: not measured
    try:
        assert register_backbone("test_byobnet", params_m=7.5, gmacs_224=0.2, tier="large",
                                 replace=True).tier == "large"       # a tier may be overridden
    finally:
        register_backbone("test_byobnet", params_m=7.5, gmacs_224=0.2, replace=True)
    with pytest.raises(ValueError, match="'test_vit' is already in the catalog .pass replace=True"):
        register_backbone("test_vit")
    with pytest.raises(ValueError, match="'resnet18' is already in the catalog$"):
        register_backbone("resnet18", replace=True)                 # shipped entries stay
    with pytest.raises(ValueError, match="'my_net' is not a timm model"):
        register_backbone("my_net")
    with pytest.raises(ValueError, match="unknown tier 'huge'"):
        register_backbone("test_coatnet", params_m=1.0, gmacs_224=1.0, tier="huge")
    with pytest.raises(ValueError, match="params_m must be a positive number"):
        register_backbone("test_coatnet", params_m=-1.0, gmacs_224=1.0)


def _weights_file(path, name="test_resnet", num_classes=5):
    torch.manual_seed(123)
    donor = timm.create_model(name, num_classes=num_classes)
    save_file({k: v.contiguous() for k, v in donor.state_dict().items()}, str(path))
    return donor


def test_local_weights_file_is_loaded_except_a_mismatched_head(tmp_path):
    donor = _weights_file(tmp_path / "w.safetensors", num_classes=5)
    model, source = create_backbone("test_resnet", 3, pretrained=tmp_path / "w.safetensors")
    assert source == f"file:{tmp_path / 'w.safetensors'}"
    own, ref = model.state_dict(), donor.state_dict()
    assert own["fc.weight"].shape == (3, own["fc.weight"].shape[1])
    for key in ref:
        if not key.startswith("fc."):
            assert torch.equal(own[key], ref[key]), key


def test_bad_weights_files_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="weights file not found: .*missing"):
        create_backbone("test_resnet", 3, pretrained=tmp_path / "missing.safetensors")
    _weights_file(tmp_path / "other.safetensors", name="test_convnext")
    with pytest.raises(ValueError, match="does not fit this backbone"):
        create_backbone("test_resnet", 3, pretrained=tmp_path / "other.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    with pytest.raises(ValueError, match="cannot read weights file"):
        create_backbone("test_resnet", 3, pretrained=tmp_path / "junk.safetensors")
    with pytest.raises(ValueError, match="unknown timm backbone 'resnet_9000'"):
        create_backbone("resnet_9000", 3)


def test_hugging_face_cache_is_used_when_it_holds_the_weights(tmp_path, monkeypatch):
    repo = timm.models.get_pretrained_cfg("test_resnet").hf_hub_id
    snap = tmp_path / f"models--{repo.replace('/', '--')}" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap.parents[1] / "refs").mkdir()
    (snap.parents[1] / "refs" / "main").write_text("abc123")
    donor = _weights_file(snap / "model.safetensors", num_classes=1000)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    model, source = create_backbone("test_resnet", 4, pretrained="auto")
    assert source == "hf-cache"
    assert torch.equal(model.state_dict()["conv1.0.weight"], donor.state_dict()["conv1.0.weight"])


def test_offline_auto_falls_back_to_random_with_a_notice(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("AUTOPRESET_OFFLINE", "1")
    with caplog.at_level(logging.WARNING, logger="autopreset"):
        _, source = create_backbone("test_resnet", 3, pretrained="auto")
    assert source == "random"
    assert "test_resnet starts from random init" in caplog.text
    with pytest.raises(ValueError, match="pretrained weights for 'test_resnet' are not available"):
        create_backbone("test_resnet", 3, pretrained=True)


def test_latency_profile_is_measured_once_per_machine_and_size(tmp_path):
    first = profile_latency(["test_efficientnet"], 16, cache_dir=tmp_path, max_seconds=0.3)
    r = first["test_efficientnet"]
    assert 0 < r.p50_ms <= r.p95_ms and r.throughput > 0 and r.n_runs >= 5
    again = profile_latency(["test_efficientnet"], 16, cache_dir=tmp_path)
    assert again["test_efficientnet"] == r                       # read back, not re-measured
    files = list((tmp_path / "latency").glob("*.json"))
    assert len(files) == 1 and "test_efficientnet|16|cpu|" in files[0].read_text()
    with pytest.raises(ValueError, match="input_size"):
        profile_latency(["test_efficientnet"], 3, cache_dir=tmp_path)


def test_train_speed_is_measured_once_per_machine_and_kept_beside_other_entries(tmp_path):
    import json

    kw = dict(batch_size=4, steps=1, cache_dir=tmp_path, threads=1)
    first = measure_train_speed(["test_resnet"], 32, **kw)["test_resnet"]
    assert isinstance(first, TrainSpeed) and first.train_ips > 0 and first.eval_ips > 0
    assert (first.name, first.input_size, first.batch_size, first.device) == ("test_resnet", 32, 4, "cpu")
    path = tmp_path / "speed" / f"{machine_key('cpu')}.json"
    stored = json.loads(path.read_text())
    assert list(stored) == ["test_resnet|32|4|cpu|1"]          # name|size|batch|device|threads
    assert measure_train_speed("test_resnet", 32, **kw)["test_resnet"] == first   # read back
    # another process wrote meanwhile: its entries stay when fresh ones are merged in
    path.write_text(json.dumps({**stored, "other|8|2|cpu|1": {**stored["test_resnet|32|4|cpu|1"], "name": "other"}}))
    both = measure_train_speed(["test_resnet", "test_convnext"], 32, **kw)
    assert both["test_resnet"] == first and both["test_convnext"].name == "test_convnext"
    assert set(json.loads(path.read_text())) == {"test_resnet|32|4|cpu|1", "other|8|2|cpu|1",
                                                 "test_convnext|32|4|cpu|1"}
    again = measure_train_speed(["test_resnet"], 32, refresh=True, **kw)["test_resnet"]
    assert again.name == "test_resnet" and again != first          # measured afresh


def test_catalog_numbers_are_what_measure_backbone_measures_here():
    from autopreset.backbones import measure_backbone

    params, gmacs = measure_backbone("test_efficientnet", 224)
    spec = get_spec("test_efficientnet")
    assert params == pytest.approx(spec.params_m, rel=1e-3)
    assert gmacs == pytest.approx(spec.gmacs_224, rel=1e-3)
    assert spec.gmacs_at(112) == pytest.approx(spec.gmacs_224 / 4)
