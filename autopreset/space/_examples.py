"""The lecture's search space, with its backbones mapped to the nearest timm model names."""
from __future__ import annotations

from autopreset.space._domains import Float, Ordinal

# Small to large (compute at 224 px), so Ordinal neighbours are similar in cost.
# MobileNetV2 0.25 has no timm model; mobilenetv2_035 is the nearest width.
LECTURE_BACKBONES = (
    "mobilenetv2_035",       # MobileNetV2 0.25 (nearest width in timm)
    "mobilenetv3_small_100",
    "mobilenetv3_large_100",
    "resnet18",
    "resnet34",
    "resnet50",
    "seresnext50_32x4d",
    "resnest50d",
    "resnet101",
    "vgg16_bn",
    "resnest200e",
)


def lecture_space() -> dict:
    """backbone, lr log-uniform 1e-6..1e-1, batch size 8..512 (powers of two),
    momentum uniform 0.85..0.98, weight decay log-uniform 1e-6..1e-2."""
    return {
        "backbone": Ordinal(list(LECTURE_BACKBONES)),
        "lr": Float(1e-6, 1e-1, log=True),
        "batch_size": Ordinal([8, 16, 32, 64, 128, 256, 512]),
        "momentum": Float(0.85, 0.98),
        "weight_decay": Float(1e-6, 1e-2, log=True),
    }
