import json
import math

import pytest

from autopreset.space import (LECTURE_BACKBONES, Categorical, Float, Int, Ordinal, lecture_space, narrow,
                              space_from_json, space_to_json, validate)


def test_json_round_trip_keeps_types_and_order():
    space = {"lr": Float(1e-5, 1e-1, log=True), "d": Int(2, 64, log=True), "o": Categorical(["a", 1, 2.5, True]),
             "bs": Ordinal([8, 16]), "const": "x", "n": 3, "flag": False}
    text = json.dumps(space_to_json(space))
    back = space_from_json(text)
    assert back == space and list(back) == list(space)
    assert type(back["n"]) is int and back["flag"] is False


def test_json_errors_are_clear():
    with pytest.raises(ValueError, match="format"):
        space_from_json({"params": {}})
    with pytest.raises(ValueError, match="'lr'"):
        space_from_json({"format": "autopreset.space/1", "params": {"lr": {"type": "float", "low": 1}}})
    with pytest.raises(ValueError, match="unknown keys"):
        space_from_json({"format": "autopreset.space/1",
                         "params": {"lr": {"type": "float", "low": 0, "high": 1, "log": False, "step": 2}}})
    with pytest.raises(ValueError, match="not JSON"):
        space_to_json({"f": object()})


def test_narrow_restricts_and_widens_on_log_scale():
    space = lecture_space()
    configs = [
        {"backbone": "resnet18", "lr": 1e-3, "batch_size": 32, "momentum": 0.9, "weight_decay": 1e-4},
        {"backbone": "resnet50", "lr": 1e-2, "batch_size": 128, "momentum": 0.975, "weight_decay": 1e-4},
    ]
    small = narrow(space, configs, margin=0.1)
    assert small["backbone"].values == ("resnet18", "resnet34", "resnet50")
    assert small["batch_size"].values == (32, 64, 128)
    # lr spans 1e-6..1e-1 = 5 decades; margin 0.1 = half a decade on each side
    assert math.isclose(small["lr"].low, 1e-3 / 10 ** 0.5) and math.isclose(small["lr"].high, 1e-2 * 10 ** 0.5)
    assert small["lr"].log
    assert math.isclose(small["momentum"].low, 0.9 - 0.013) and small["momentum"].high == 0.98  # clipped
    for c in configs:
        validate(small, c)
    wider = narrow(space, configs[:1], ordinal_neighbours=1, margin=0.0)
    assert wider["backbone"].values == ("mobilenetv3_large_100", "resnet18", "resnet34")
    assert wider["lr"] == 1e-3  # a single value becomes a constant


def test_narrow_categorical_and_int():
    space = {"opt": Categorical(["sgd", "adam", "rms"]), "d": Int(1, 100), "k": "c"}
    small = narrow(space, [{"opt": "rms", "d": 10, "k": "c"}, {"opt": "sgd", "d": 20, "k": "c"}], margin=0.05)
    assert small["opt"].choices == ("sgd", "rms")
    assert small["d"].low <= 10 - 4 and small["d"].high >= 20 + 4 and small["d"].low >= 1
    assert small["k"] == "c"
    with pytest.raises(ValueError, match="margin"):
        narrow(space, [{"opt": "rms", "d": 10, "k": "c"}], margin=-1)
    with pytest.raises(ValueError):
        narrow(space, [{"opt": "lbfgs", "d": 10, "k": "c"}])


def test_lecture_space():
    space = lecture_space()
    assert set(space) == {"backbone", "lr", "batch_size", "momentum", "weight_decay"}
    assert space["batch_size"].values == (8, 16, 32, 64, 128, 256, 512)
    assert (space["lr"].low, space["lr"].high, space["lr"].log) == (1e-6, 1e-1, True)
    assert (space["weight_decay"].low, space["weight_decay"].high) == (1e-6, 1e-2)
    assert (space["momentum"].low, space["momentum"].high, space["momentum"].log) == (0.85, 0.98, False)
    assert len(LECTURE_BACKBONES) == 11


@pytest.mark.slow  # importing timm takes seconds
def test_lecture_backbones_exist_in_timm():
    timm = pytest.importorskip("timm")
    available = set(timm.list_models())
    assert [b for b in LECTURE_BACKBONES if b not in available] == []
