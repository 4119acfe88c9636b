"""Backbones: timm models with pretrained weights when available; catalog; latency profiler.

    from autopreset.backbones import create_backbone
    model, source = create_backbone("resnet18", num_classes=10, pretrained="auto")
"""
from ._create import create_backbone, load_weights_file

__all__ = ["create_backbone", "load_weights_file"]
