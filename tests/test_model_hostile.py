"""Hostile model folders: tampered model.json, fake or damaged weights. Each is a one-line
InputError naming the file (and the field), no code from the folder ever runs, and the CLI's
predict, evaluate and export exit 2 with ``Error: ...`` and no traceback."""
from __future__ import annotations

import json
import os
import pathlib
import pickle
import re
import shutil
import struct

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from autopreset.errors import InputError
from autopreset.model import ModelCard, Predictor, load

BACKBONE = "test_resnet"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    import torch

    from autopreset.backbones import create_backbone

    torch.manual_seed(0)
    module, _ = create_backbone(BACKBONE, num_classes=3, pretrained=False)
    card = ModelCard(backbone=BACKBONE, classes=["cat", "dog", "emu"], input_size=16,
                     mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25])
    return Predictor(module, card).save(tmp_path_factory.mktemp("m") / "model")


@pytest.fixture()
def folder(saved, tmp_path):
    """A fresh copy of the saved model folder, to tamper with."""
    return pathlib.Path(shutil.copytree(saved, tmp_path / "model"))


def _edit_card(folder, **changes):
    card = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    card.update(changes)
    (folder / "model.json").write_text(json.dumps(card), encoding="utf-8")


def _rejects(folder, pattern, file="model.json"):
    with pytest.raises(InputError, match=pattern) as info:
        load(folder)
    message = str(info.value)
    assert "\n" not in message and len(message) < 1000
    assert message.startswith(str(folder / file)), message
    return message


class _Marker:
    """Unpickling this creates ``path``: the proof that a loader ran code from a file."""

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def __reduce__(self):
        return (pathlib.Path.touch, (self.path,))


def test_the_untouched_copy_loads(folder):
    assert load(folder).classes == ["cat", "dog", "emu"]


# ---- model.json ---------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, pattern", [
    ({"pretrained_cfg_overlay": {"file": "/tmp/weights.pth"}},
     r"model_kwargs\.pretrained_cfg_overlay: not an allowed timm keyword argument \(it could make "
     r"timm load weights or a file\); allowed: drop_path_rate, drop_rate, global_pool"),
    ({"pretrained": True}, r"model_kwargs\.pretrained: not an allowed .*load weights"),
    ({"pretrained_cfg": {"file": "/tmp/w.pth", "hf_hub_id": "someone/repo"}},
     r"model_kwargs\.pretrained_cfg: not an allowed"),
    ({"features_only": True}, r"model_kwargs\.features_only: not an allowed timm keyword argument;"),
    ({"in_chans": 1}, r"model_kwargs\.in_chans: not an allowed"),
    ({"drop_rate": 5}, r"model_kwargs\.drop_rate: 5 is not a number in \[0, 1\)"),
    ({"drop_rate": "0.1"}, r"model_kwargs\.drop_rate: '0\.1' is not a number in \[0, 1\)"),
    ({"global_pool": "../x"}, r"model_kwargs\.global_pool: '\.\./x' is not one of avg, max"),
    ([1, 2], r"model_kwargs: expected an object of timm keyword arguments, got list"),
])
def test_model_kwargs_beyond_the_allow_list_are_refused(folder, kwargs, pattern):
    _edit_card(folder, model_kwargs=kwargs)
    _rejects(folder, pattern)


def test_a_checkpoint_path_pickle_in_model_kwargs_never_runs(folder, tmp_path):
    marker = tmp_path / "marker"
    planted = tmp_path / "weights.pth"
    planted.write_bytes(pickle.dumps(_Marker(marker)))
    _edit_card(folder, model_kwargs={"checkpoint_path": str(planted)})
    _rejects(folder, r"model_kwargs\.checkpoint_path: not an allowed .*load weights or a file")
    assert not marker.exists()


def test_allowed_model_kwargs_load(folder):
    _edit_card(folder, model_kwargs={"drop_rate": 0.2, "drop_path_rate": 0.1, "global_pool": "avg"})
    assert load(folder).card.model_kwargs["drop_rate"] == 0.2


@pytest.mark.parametrize("backbone, pattern", [
    ("hf-hub:someone/repo", r"backbone: 'hf-hub:someone/repo' is not a model name: .*catalog.*timm"),
    ("../x", r"backbone: '\.\./x' is not a model name"),
    ("/tmp/m", r"backbone: '/tmp/m' is not a model name"),
    ("file:model.pth", r"backbone: 'file:model\.pth' is not a model name"),
    ("resnet_9000", r"backbone: 'resnet_9000' is not a known backbone: .*catalog.*timm's registry"),
    (7, r"backbone: 7 is not a model name"),
])
def test_a_backbone_outside_the_catalog_and_timm_is_refused(folder, backbone, pattern):
    _edit_card(folder, backbone=backbone)
    _rejects(folder, pattern)


@pytest.mark.parametrize("changes, pattern", [
    ({"input_size": 10**9}, r"input_size: must be an integer from 8 to 4096 \(pixels\), got 1000000000"),
    ({"input_size": -3}, r"input_size: must be an integer"),
    ({"input_size": True}, r"input_size: must be an integer"),
    ({"std": [0.0, 0.25, 0.25]}, r"std: must be a list of 3 finite numbers in \[1e-06, 10\]"),
    ({"mean": [1e30, 0, 0]}, r"mean: must be a list of 3 finite numbers in \[-10, 10\]"),
    ({"mean": [0.5, 0.5]}, r"mean: must be a list of 3"),
    ({"classes": ["cat", "cat", "emu"]}, r"classes: 'cat' appears twice"),
    ({"classes": ["cat", 3, "emu"]}, r"classes: \[1\]: 3 is not a class name"),
    ({"classes": ["cat", "x" * 1001, "emu"]}, r"classes: \[1\]: .* is not a class name"),
    ({"classes": "cat,dog"}, r"classes: must list at least two class names"),
    ({"config": [1]}, r"config: expected a JSON object"),
    ({"pretrained": {"file": "/tmp/w"}}, r"pretrained: expected a string"),
    ({"versions": {"torch": 2}}, r"versions: expected an object of at most 100 library versions"),
    ({"format": "autopreset.model/9"}, r"format 'autopreset\.model/9' is not 'autopreset\.model/1'"),
])
def test_absurd_card_values_are_refused_naming_the_field(folder, changes, pattern):
    _edit_card(folder, **changes)
    _rejects(folder, pattern)


def test_a_class_list_that_does_not_match_the_classifier_is_named(folder):
    _edit_card(folder, classes=["a", "b", "c", "d", "e"])
    _rejects(folder, r"model\.safetensors: the classifier \(fc\.weight\) has 3 outputs but "
                     r"model\.json lists 5 classes", file="model.safetensors")


def test_weights_of_another_backbone_are_refused(folder):
    _edit_card(folder, backbone="test_efficientnet")
    _rejects(folder, r"weights do not match backbone 'test_efficientnet' \(\d+ missing, \d+ "
                     r"unexpected tensors", file="model.safetensors")


@pytest.mark.parametrize("data, pattern", [
    (b'{"format": "caf\xe9"}', r"model\.json: not UTF-8 text"),
    (b"[" * 200_000 + b"]" * 200_000, r"model\.json: not valid JSON: nested too deeply"),
    (b'{"a":' * 40 + b"1" + b"}" * 40, r"model\.json: not valid JSON: nested more than 32 levels"),
    (b'{"format": NaN}', r"model\.json: not valid JSON: NaN is not allowed"),
    (b'{"input_size": 1e999}', r"model\.json: not valid JSON: 1e999 is not a finite number"),
    (b'{"a": 1, "a": 2}', r"model\.json: not valid JSON: key 'a' appears twice"),
    (b"{", r"model\.json: not valid JSON: Expecting property name"),
])
def test_damaged_model_json_is_a_one_line_error(folder, data, pattern):
    (folder / "model.json").write_bytes(data)
    _rejects(folder, pattern)


def test_a_huge_model_json_is_refused_before_reading(folder):
    with open(folder / "model.json", "r+b") as f:
        f.truncate(16 * 2**20 + 1)               # sparse: nothing to write, nothing read
    _rejects(folder, r"model\.json: 16\.0 MiB is too large for a model\.json \(at most 16\.0 MiB\)")


# ---- model.safetensors --------------------------------------------------------------------
def test_a_pickle_renamed_model_safetensors_never_runs(folder, tmp_path):
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_Marker(control)))      # the payload is live ...
    assert control.exists()
    marker = tmp_path / "marker"
    weights = folder / "model.safetensors"
    for proto, pattern in ((2, "it is a Python pickle"), (5, "it is a Python pickle"),
                           (0, "its header would be")):
        weights.write_bytes(pickle.dumps({"fc.weight": _Marker(marker)}, protocol=proto))
        _rejects(folder, r"model\.safetensors: not a safetensors file \(" + pattern,
                 file="model.safetensors")
    assert not marker.exists()                          # ... and loading never ran it


def test_a_torch_save_archive_never_runs(folder, tmp_path):
    import torch

    marker = tmp_path / "marker"
    torch.save({"fc.weight": _Marker(marker)}, folder / "model.safetensors")
    _rejects(folder, r"not a safetensors file \(it is a zip archive, as torch\.save writes",
             file="model.safetensors")
    assert not marker.exists()


def _header(folder):
    data = (folder / "model.safetensors").read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    return data, n


@pytest.mark.parametrize("damage, pattern", [
    (lambda data, n: os.urandom(4096), r"not a safetensors file \(its header would be \d+ bytes"),
    (lambda data, n: b"", r"not a safetensors file \(0 bytes is too short\)"),
    (lambda data, n: struct.pack("<Q", len(data)) + data[8:],
     r"not a safetensors file \(its header claims \d+ bytes but only \d+ follow its 8-byte length: truncated"),
    (lambda data, n: data[:-100], r"tensor '.*': its data ends at byte \d+ but the file holds \d+ "
                                  r"bytes of tensor data: truncated or damaged"),
    (lambda data, n: data[: 8 + n // 2], r"its header claims \d+ bytes but only \d+ follow"),
    (lambda data, n: data[:8] + b"[" + data[9:], r"safetensors header: not valid JSON"),
    (lambda data, n: data + b"\0" * 64, r"the header describes \d+ bytes of tensor data, the file holds"),
    (lambda data, n: data[:8] + data[8:8 + n].replace(b'"F32"', b'"Q99"', 1) + data[8 + n:],
     r"tensor '.*': unknown dtype 'Q99'"),
])
def test_fake_or_damaged_weights_are_one_line_errors(folder, damage, pattern):
    data, n = _header(folder)
    (folder / "model.safetensors").write_bytes(damage(data, n))
    _rejects(folder, r"model\.safetensors: .*" + pattern, file="model.safetensors")


def test_a_header_whose_shapes_lie_about_the_bytes_is_refused(folder):
    data, n = _header(folder)
    header = json.loads(data[8:8 + n])
    name = next(k for k in header if k != "__metadata__")
    header[name]["shape"] = [10**9, 10**9]
    raw = json.dumps(header).encode()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n:])
    _rejects(folder, rf"tensor '{re.escape(name)}': shape \[1000000000, 1000000000\] of \w+ does "
                     r"not match its \d+ bytes", file="model.safetensors")


def test_a_tensor_of_the_wrong_shape_is_refused(folder):
    from safetensors.torch import load_file, save_file

    state = load_file(str(folder / "model.safetensors"))
    state["conv1.0.weight"] = state["conv1.0.weight"][:, :1].contiguous()
    save_file(state, str(folder / "model.safetensors"))
    _rejects(folder, r"tensor 'conv1\.0\.weight' has shape \[\d+, 1, 3, 3\], backbone 'test_resnet' "
                     r"needs \[\d+, 3, 3, 3\]", file="model.safetensors")


def test_load_weights_file_refuses_a_pickle_without_running_it(tmp_path):
    from autopreset.backbones import create_backbone

    marker = tmp_path / "marker"
    planted = tmp_path / "w.safetensors"
    planted.write_bytes(pickle.dumps(_Marker(marker)))
    with pytest.raises(InputError, match=r"cannot read weights file .*: not a safetensors file "
                                         r"\(it is a Python pickle"):
        create_backbone(BACKBONE, 3, pretrained=planted)
    assert not marker.exists()


@pytest.mark.parametrize("kwargs", [{"checkpoint_path": "/tmp/x.pth"},
                                    {"pretrained_cfg_overlay": {"file": "/tmp/x.pth"}}])
def test_create_backbone_refuses_loading_kwargs_and_hub_names(kwargs):
    from autopreset.backbones import create_backbone

    with pytest.raises(InputError, match=r"create_backbone\.\w+: not an allowed timm keyword"):
        create_backbone(BACKBONE, 3, pretrained=False, **kwargs)
    with pytest.raises(InputError, match=r"unknown timm backbone 'hf-hub:someone/repo': is not a "
                                         r"model name"):
        create_backbone("hf-hub:someone/repo", 3, pretrained=False)


def test_no_loader_in_the_package_unpickles():
    """The source never calls torch.load, pickle.load(s), an Unpickler or np.load with
    allow_pickle: weights are safetensors, everything else JSON."""
    root = pathlib.Path(__file__).resolve().parents[1] / "autopreset"
    pattern = re.compile(r"torch\.load\(|pickle\.loads?\(|Unpickler|allow_pickle\s*=\s*True")
    found = [f"{p.relative_to(root)}:{i}" for p in sorted(root.rglob("*.py"))
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line)]
    assert not found, found


# ---- the command line ---------------------------------------------------------------------
@pytest.fixture()
def images(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "imgs"
    for name in ("cat", "dog", "emu"):
        (root / name).mkdir(parents=True)
        Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(root / name / "0.png")
    return root


@pytest.mark.parametrize("tamper, message", [
    (lambda f: (f / "model.safetensors").write_bytes(pickle.dumps({"a": 1})), "it is a Python pickle"),
    (lambda f: _edit_card(f, model_kwargs={"pretrained_cfg_overlay": {"file": "x"}}),
     "not an allowed timm keyword argument"),
    (lambda f: _edit_card(f, classes=["a", "b"]), "has 3 outputs but model.json lists 2 classes"),
    (lambda f: (f / "model.json").write_bytes(b"\xff\xfe"), "not UTF-8 text"),
])
def test_predict_evaluate_and_export_exit_2_in_one_line(folder, images, tamper, message):
    from autopreset.cli._main import cli

    tamper(folder)
    for args in (["predict", str(folder), str(images)], ["evaluate", str(folder), str(images)],
                 ["export", str(folder)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"Error: {folder}") and message in lines[0]
        assert "Traceback" not in result.output and result.stdout == ""
    assert sorted(p.name for p in folder.iterdir()) == ["model.json", "model.safetensors"]


def test_a_metric_that_is_nan_is_saved_as_null_and_loads(saved, tmp_path):
    """The loader refuses NaN, so the saver never writes it."""
    model = load(saved)
    model.card.metrics["val_accuracy"] = float("nan")
    model.card.latency_ms["p50"] = float("inf")
    again = load(model.save(tmp_path / "again"))
    assert again.card.metrics["val_accuracy"] is None and again.card.latency_ms["p50"] is None
