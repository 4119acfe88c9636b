"""The saved model folder: round trip, no code on load, predict/evaluate/export."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from autopreset.model import MODEL_FORMAT, ModelCard, Predictor, load

BACKBONE = "resnet10t"


@pytest.fixture(scope="module")
def predictor():
    from autopreset.backbones import create_backbone
    import torch

    torch.manual_seed(0)
    module, _ = create_backbone(BACKBONE, num_classes=3, pretrained=False)
    card = ModelCard(backbone=BACKBONE, classes=["cat", "dög", "ému"], input_size=16,
                     mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25], metrics={"val_accuracy": 0.5})
    return Predictor(module, card)


@pytest.fixture()
def images(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "imgs"
    for name in ["cat", "dög", "ému"]:
        (folder / name).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(folder / name / f"{i}.png")
    return folder


def test_round_trip_gives_identical_predictions(predictor, images, tmp_path):
    saved = predictor.save(tmp_path / "model")
    assert sorted(p.name for p in saved.iterdir()) == ["model.json", "model.safetensors"]
    card = json.loads((saved / "model.json").read_text(encoding="utf-8"))
    assert card["format"] == MODEL_FORMAT and card["classes"] == ["cat", "dög", "ému"]
    loaded = load(saved)
    rows_a, _ = predictor.predict_paths([images], top_k=2)
    rows_b, _ = loaded.predict_paths([images], top_k=2)
    assert [r["labels"] for r in rows_a] == [r["labels"] for r in rows_b]
    np.testing.assert_allclose([r["probabilities"] for r in rows_a],
                               [r["probabilities"] for r in rows_b], rtol=1e-5, atol=1e-6)
    assert len(rows_a) == 9 and all(len(r["labels"]) == 2 for r in rows_a)
    assert all(abs(sum(loaded.predict_proba([np.zeros((8, 8, 3), np.uint8)])[0]) - 1) < 1e-5 for _ in [0])


def test_save_replaces_an_existing_model_atomically(predictor, tmp_path):
    target = tmp_path / "model"
    predictor.save(target)
    predictor.save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_predict_skips_non_images_with_reason(predictor, images):
    (images / "cat" / "notes.png").write_text("not an image")
    rows, skipped = predictor.predict_paths([images])
    assert len(rows) == 9
    assert skipped and skipped[0][0].endswith("notes.png") and "not an image" in skipped[0][1]


def test_evaluate_reports_accuracy_and_confusion(predictor, images):
    result = predictor.evaluate(images)
    assert result["n_images"] == 9
    assert np.sum(result["confusion"]) == 9
    assert 0.0 <= result["accuracy"] <= 1.0


@pytest.mark.parametrize("bad, message", [
    ({"format": "other/1"}, "format"),
    ({"surprise": 1}, "unknown key 'surprise'"),
    ({"classes": ["only"]}, "classes"),
])
def test_bad_model_json_is_a_clear_error(predictor, tmp_path, bad, message):
    saved = predictor.save(tmp_path / "model")
    card = json.loads((saved / "model.json").read_text())
    card.update(bad)
    (saved / "model.json").write_text(json.dumps(card))
    with pytest.raises(ValueError, match=message):
        load(saved)


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such model folder"):
        load(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="model.json"):
        load(tmp_path / "empty")


def test_loading_never_unpickles(predictor, tmp_path, monkeypatch):
    import pickle

    saved = predictor.save(tmp_path / "model")

    def refuse(*args, **kwargs):
        raise AssertionError("pickle used while loading a model")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    load(saved)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_matches_pytorch(predictor, tmp_path, fmt):
    predictor.save(tmp_path / "model")
    path, diff = load(tmp_path / "model").export(fmt)
    assert path.exists() and path.parent == tmp_path / "model"
    assert diff <= 1e-3


@pytest.fixture
def umask():
    """``umask(mask)`` sets this process's umask for the test; the old one comes back after."""
    import os

    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("mask, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)])
def test_saved_model_and_exports_get_the_modes_open_and_mkdir_give(predictor, tmp_path, umask,
                                                                   mask, file_mode, dir_mode):
    import stat

    umask(mask)
    saved = predictor.save(tmp_path / "model")
    predictor.save(saved)                                   # replacing keeps the modes too
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)
    assert mode(saved) == dir_mode
    assert {p.name: mode(p) for p in saved.iterdir()} == {"model.json": file_mode,
                                                          "model.safetensors": file_mode}
    for fmt in ("onnx", "torchscript"):
        path, _ = load(saved).export(fmt)
        assert mode(path) == file_mode
    assert sorted(p.name for p in saved.iterdir()) == ["model.json", "model.onnx", "model.safetensors",
                                                       "model.torchscript.pt"]   # no temp files left


def test_a_failed_export_leaves_nothing_behind(predictor, tmp_path, monkeypatch):
    import autopreset._export
    from autopreset.errors import RunError

    saved = predictor.save(tmp_path / "model")
    monkeypatch.setattr(autopreset._export, "TOLERANCE", -1.0)   # no export can match
    with pytest.raises(RunError, match="differs from PyTorch"):
        load(saved).export("torchscript")
    assert sorted(p.name for p in saved.iterdir()) == ["model.json", "model.safetensors"]


def test_predict_cli_fails_when_no_path_is_a_readable_image(predictor, images, tmp_path):
    from click.testing import CliRunner

    from autopreset.cli._main import cli

    saved = predictor.save(tmp_path / "model")
    junk = []
    for name in ("a.txt", "b.png", "c.jpg"):
        junk.append(tmp_path / name)
        junk[-1].write_text("not an image")
    result = CliRunner().invoke(cli, ["predict", str(saved), *map(str, junk)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: none of the 3 path(s) is a readable image: {junk[0]} (not an image (format not recognised))"]
    assert result.stdout == ""

    some = CliRunner().invoke(cli, ["predict", str(saved), str(junk[0]), str(images / "cat")])
    assert some.exit_code == 0, some.output
    assert some.stderr.strip().splitlines() == [f"skipped {junk[0]}: not an image (format not recognised)"]
    assert len(some.stdout.strip().splitlines()) == 1 + 3    # header and the three cat images

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    none = CliRunner().invoke(cli, ["predict", str(saved), str(empty)])
    assert none.exit_code == 1 and "no image file in the 1 path(s) given" in none.stderr


def test_predict_reads_the_csv_fit_reads(predictor, images, tmp_path):
    files = sorted(images.rglob("*.png"))[:2]
    csv = tmp_path / "list.csv"
    csv.write_text("path,label\n" + "".join(f"{p},x\n" for p in files) + "missing.png,x\n",
                   encoding="utf-8")
    rows, skipped = predictor.predict_paths([csv])
    assert [r["path"] for r in rows] == [str(p) for p in files]
    assert [Path(p).name for p, _ in skipped] == ["missing.png"]
    (tmp_path / "paths.csv").write_text(f"{files[0]}\n", encoding="utf-8")   # no label column
    assert [r["path"] for r in predictor.predict_paths([tmp_path / "paths.csv"])[0]] == [str(files[0])]


# ---- the preprocessing record (model.json's "preprocessing") -------------------------------
def _card(saved):
    return json.loads((saved / "model.json").read_text(encoding="utf-8"))


def _write_card(saved, card):
    (saved / "model.json").write_text(json.dumps(card), encoding="utf-8")


def test_model_json_records_the_whole_preprocessing(predictor, tmp_path):
    record = _card(predictor.save(tmp_path / "model"))["preprocessing"]
    assert record == {
        "format": "autopreset.preprocessing/1",
        "read": {"exif_transpose": True, "frame": "first", "mode": "RGB", "alpha": "composite",
                 "grey": "replicate", "high_bit_depth": "scale", "background": [255, 255, 255]},
        "resize": {"size": [16, 16], "interpolation": "bilinear", "antialias": True,
                   "keep_aspect": False, "crop": "none", "library": "Pillow"},
        "divide_by": 255.0, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25],
        "channel_order": "RGB", "layout": "NCHW", "dtype": "float32"}


def test_a_model_json_without_the_record_loads_with_todays_preprocessing(predictor, images, tmp_path):
    saved = predictor.save(tmp_path / "model")
    card = _card(saved)
    del card["preprocessing"]                                 # as written before the record
    _write_card(saved, card)
    old = load(saved)
    assert old.preprocessing == predictor.preprocessing
    files = sorted(images.rglob("*.png"))
    np.testing.assert_array_equal(old.predict_proba(files), predictor.predict_proba(files))
    assert "preprocessing" in _card(old.save(tmp_path / "again"))


def test_prediction_runs_from_the_record(predictor, tmp_path):
    """A record's background and filter reach predict: the record is the one source."""
    from autopreset.data import preprocess

    saved = predictor.save(tmp_path / "model")
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[:, :10] = [200, 40, 10, 255]                         # opaque left third, transparent rest
    image = Image.fromarray(rgba, mode="RGBA")
    card = _card(saved)
    card["preprocessing"]["read"]["background"] = [0, 0, 255]
    card["preprocessing"]["resize"]["interpolation"] = "nearest"
    _write_card(saved, card)
    changed = load(saved)
    on_blue = Image.alpha_composite(Image.new("RGBA", image.size, (0, 0, 255, 255)), image).convert("RGB")
    want = preprocess([np.asarray(on_blue.resize((16, 16), Image.Resampling.NEAREST))], 16,
                      [0.5] * 3, [0.25] * 3)
    np.testing.assert_array_equal(changed.preprocessing([image]).numpy(), want.numpy())
    assert not np.array_equal(predictor.preprocessing([image]).numpy(), want.numpy())
    path = tmp_path / "clear.png"                             # decoding a file: the record's too
    image.save(path)
    assert np.asarray(changed.read_image(path))[0, -1].tolist() == [0, 0, 255]


@pytest.mark.parametrize("edit, pattern", [
    (lambda r: r.update(surprise=1), r"preprocessing: unknown key 'surprise'"),
    (lambda r: r["read"].update(background=[0, 0, 256]),
     r"preprocessing\.read\.background: must be a list of 3 integers in \[0, 255\], got \[0, 0, 256\]"),
    (lambda r: r["read"].update(background=[0.5, 0, 0]), r"preprocessing\.read\.background: must be"),
    (lambda r: r["read"].pop("alpha"), r"preprocessing\.read: missing key 'alpha'"),
    (lambda r: r["read"].update(alpha="ignore"),
     r"preprocessing\.read\.alpha: 'ignore' is not supported \(autopreset reads images one way: 'composite'\)"),
    (lambda r: r["resize"].update(keep_aspect=True), r"preprocessing\.resize\.keep_aspect: True is not supported"),
    (lambda r: r["resize"].update(crop="center"), r"preprocessing\.resize\.crop: 'center' is not supported"),
    (lambda r: r["resize"].update(antialias=1), r"preprocessing\.resize\.antialias: 1 is not supported"),
    (lambda r: r["resize"].update(interpolation="../x"),
     r"preprocessing\.resize\.interpolation: '\.\./x' is not one of nearest, bilinear, bicubic"),
    (lambda r: r["resize"].update(size=[10**9, 16]), r"preprocessing\.resize\.size: must be a list of 2 "
                                                     r"integers in \[8, 4096\] \(height, width in pixels\)"),
    (lambda r: r["resize"].update(size=[32, 32]), r"preprocessing\.resize\.size \[32, 32\] is not input_size 16"),
    (lambda r: r.update(divide_by=0), r"preprocessing\.divide_by: must be a finite number in \[1, 65535\], got 0"),
    (lambda r: r.update(mean=[0.5, 0.5, 99]), r"preprocessing\.mean: must be a list of 3 finite numbers in \[-10, 10\]"),
    (lambda r: r.update(std=[0.3, 0.25, 0.25]), r"preprocessing\.std \[0\.3, 0\.25, 0\.25\] is not the top-level std"),
    (lambda r: r.update(layout="NHWC"), r"preprocessing\.layout: 'NHWC' is not supported"),
    (lambda r: r.update(format="autopreset.preprocessing/2"), r"preprocessing\.format: .* is not"),
    (lambda r: r.clear(), r"preprocessing: missing key"),
])
def test_a_bad_preprocessing_record_is_refused_naming_the_key(predictor, tmp_path, edit, pattern):
    saved = predictor.save(tmp_path / "model")
    card = _card(saved)
    edit(card["preprocessing"])
    _write_card(saved, card)
    with pytest.raises(ValueError, match=pattern) as info:
        load(saved)
    assert str(info.value).startswith(f"{saved / 'model.json'}: ") and "\n" not in str(info.value)


def test_a_record_that_is_not_an_object_is_refused(predictor, tmp_path):
    saved = predictor.save(tmp_path / "model")
    card = _card(saved)
    card["preprocessing"] = "bilinear"
    _write_card(saved, card)
    with pytest.raises(ValueError, match=r"preprocessing: expected a JSON object, got 'bilinear'"):
        load(saved)
