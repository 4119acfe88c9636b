"""A deployer with only the .onnx file: its metadata says how to read, resize and normalize an
image, and onnxruntime on those inputs gives predict's labels, with and without the
normalization and softmax in the graph.

The deployer side (``deploy``) uses onnxruntime, PIL, numpy and json only: every setting comes
from the file's ``metadata_props``, none from autopreset's code."""
from __future__ import annotations

import json
import warnings

import numpy as np
import onnxruntime as ort
import pytest
from click.testing import CliRunner
from PIL import Image, ImageOps

from autopreset.model import ModelCard, Predictor, load

CLASSES = ["red", "green", "blue"]
SIZE = 16


def _colour_image(rng, colour: int, width: int, height: int) -> np.ndarray:
    img = rng.integers(0, 90, (height, width, 3), dtype=np.uint8)
    img[:, :, colour] = rng.integers(170, 256, (height, width), dtype=np.uint8)
    return img


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """One torch thread: on a shared, loaded machine more only contend (30x slower here)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, _one_thread):
    """A test-sized backbone trained for a dozen steps to tell red, green and blue apart."""
    import torch

    from autopreset.backbones import create_backbone

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    module, _ = create_backbone("test_resnet", num_classes=3, pretrained=False)
    card = ModelCard(backbone="test_resnet", classes=CLASSES, input_size=SIZE,
                     mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    predictor = Predictor(module, card)
    labels = np.arange(30) % 3
    x = predictor.preprocessing([_colour_image(rng, c, 20, 20) for c in labels])
    y = torch.from_numpy(labels)
    optimizer = torch.optim.Adam(module.parameters(), lr=3e-3)
    module.train()
    for _ in range(12):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(module(x), y).backward()
        optimizer.step()
    return predictor.save(tmp_path_factory.mktemp("export") / "model")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Non-square JPEGs of three aspect ratios, an RGBA PNG and a greyscale JPEG."""
    rng = np.random.default_rng(1)
    folder = tmp_path_factory.mktemp("photos")
    files = []
    for i, (width, height) in enumerate([(48, 24), (20, 44), (37, 29), (64, 18), (26, 50), (41, 33)]):
        files.append(folder / f"photo{i}.jpg")
        Image.fromarray(_colour_image(rng, i % 3, width, height)).save(files[-1], quality=90)
    rgba = np.zeros((30, 45, 4), dtype=np.uint8)   # black where transparent: white once composited
    rgba[:, 15:, :3] = _colour_image(rng, 2, 30, 30)
    rgba[:, 15:, 3] = 255
    files.append(folder / "overlay.png")
    Image.fromarray(rgba, mode="RGBA").save(files[-1])
    files.append(folder / "grey.jpg")
    Image.fromarray(rng.integers(0, 256, (22, 35), dtype=np.uint8), mode="L").save(files[-1])
    return files


# ---- the deployer: onnxruntime, PIL, numpy and the file's metadata, nothing else -----------
def deploy(onnx_path, files):
    """(labels, probabilities, the graph's input batch) for ``files``, from the metadata only."""
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    classes = json.loads(meta["autopreset.classes"])
    pre = json.loads(meta["autopreset.preprocessing"])
    graph_in, graph_out = json.loads(meta["autopreset.input"]), json.loads(meta["autopreset.output"])
    height, width = pre["resize"]["size"]
    arrays = []
    for file in files:
        image = Image.open(file)
        if pre["read"]["exif_transpose"]:
            image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            under = Image.new("RGBA", image.size, tuple(pre["read"]["background"]) + (255,))
            image = Image.alpha_composite(under, image.convert("RGBA"))
        image = image.convert(pre["read"]["mode"])
        filter_ = getattr(Image.Resampling, pre["resize"]["interpolation"].upper())
        arrays.append(np.asarray(image.resize((width, height), filter_)))
    batch = np.stack(arrays)                                       # uint8 NHWC, RGB
    if "normalize" not in graph_in["steps_in_graph"]:
        x = batch.astype(np.float32) / np.float32(pre["divide_by"])
        x = (x - np.float32(pre["mean"])) / np.float32(pre["std"])
        batch = np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=np.float32)
    assert str(batch.dtype) == graph_in["dtype"] and graph_in["layout"] in ("NHWC", "NCHW")
    out = session.run([graph_out["name"]], {graph_in["name"]: batch})[0]
    if not graph_out["softmax"]:
        out = np.exp(out - out.max(axis=1, keepdims=True))
        out = out / out.sum(axis=1, keepdims=True)
    return [classes[i] for i in out.argmax(axis=1)], out, batch


def _predicted(model_dir, files):
    rows, skipped = load(model_dir).predict_paths(files)
    assert not skipped
    return [r["labels"][0] for r in rows], np.array([r["probabilities"][0] for r in rows])


def test_onnx_metadata_alone_reproduces_predict(model_dir, images):
    path, diff = load(model_dir).export("onnx")
    assert diff <= 1e-3
    labels, probs, batch = deploy(path, images)
    want_labels, want_top = _predicted(model_dir, images)
    assert labels == want_labels
    assert set(want_labels[:6]) == set(CLASSES)           # trained: the three colours are told apart
    np.testing.assert_allclose(probs.max(axis=1), want_top, atol=1e-4)
    # The deployer's inputs are the model's: reading, alpha, greyscale, resize and scaling.
    np.testing.assert_allclose(batch, load(model_dir).preprocessing(images).numpy(), atol=1e-5)


def test_onnx_with_preprocessing_takes_uint8_pixels_and_returns_probabilities(model_dir, images,
                                                                              tmp_path):
    from autopreset.cli._main import cli

    output = tmp_path / "served.onnx"
    result = CliRunner().invoke(cli, ["export", str(model_dir), "--with-preprocessing",
                                      "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert f"wrote {output}" in result.stdout and "input uint8 NHWC (batch, 16, 16, 3)" in result.stdout
    labels, probs, batch = deploy(output, images)
    assert batch.dtype == np.uint8 and batch.shape == (len(images), SIZE, SIZE, 3)
    ignoring_alpha = np.asarray(Image.open(images[6]).convert("RGB").resize((SIZE, SIZE)))
    assert (batch[6] != ignoring_alpha).any()       # the recorded background was needed
    assert labels == _predicted(model_dir, images)[0]
    np.testing.assert_allclose(probs.max(axis=1), _predicted(model_dir, images)[1], atol=1e-4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_the_metadata_says_what_the_graph_takes_and_what_runs_before_it(model_dir, tmp_path):
    import onnx

    predictor = load(model_dir)
    path, _ = predictor.export("onnx", tmp_path / "m.onnx", with_preprocessing=True)
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta["autopreset.format"] == "autopreset.export/1"
    assert json.loads(meta["autopreset.classes"]) == CLASSES
    assert json.loads(meta["autopreset.preprocessing"]) == json.loads(
        (model_dir / "model.json").read_text(encoding="utf-8"))["preprocessing"]
    model = json.loads(meta["autopreset.model"])
    assert model["backbone"] == "test_resnet" and model["exported_by"].startswith("autopreset ")
    graph_in = json.loads(meta["autopreset.input"])
    assert graph_in["steps_before"] == ["read", "resize"]            # resizing stays outside
    assert graph_in["shape"] == ["batch", SIZE, SIZE, 3]
    plain = json.loads(predictor.export_metadata()["autopreset.input"])
    assert plain["dtype"] == "float32" and plain["steps_in_graph"] == []


def test_torchscript_carries_the_same_metadata(model_dir, tmp_path):
    import torch

    predictor = load(model_dir)
    path, _ = predictor.export("torchscript", tmp_path / "m.pt", with_preprocessing=True)
    extra = dict.fromkeys(predictor.export_metadata(with_preprocessing=True), "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)    # TorchScript is deprecated, still served
        served = torch.jit.load(str(path), _extra_files=extra)
    assert json.loads(extra["autopreset.classes"]) == CLASSES
    pixels = torch.from_numpy(np.full((1, SIZE, SIZE, 3), 255, dtype=np.uint8))
    with torch.inference_mode():
        assert abs(float(served(pixels).sum()) - 1.0) < 1e-5
