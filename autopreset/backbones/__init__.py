"""Backbones: the catalog of timm models, weights loading, and on-device latency and
training-speed profilers.

    from autopreset.backbones import catalog, create_backbone, profile_latency
    [s.name for s in catalog("tiny")]                 # small to large, measured sizes
    model, source = create_backbone("resnet18", num_classes=10)   # random init ("random")
    find_weights("weights/", ["resnet18", "lcnet_050"]).files     # {"resnet18": "weights/..."}
    profile_latency(["resnet18"], input_size=64)["resnet18"].p50_ms
    measure_train_speed(["resnet18"], input_size=32)["resnet18"].train_ips
    register_backbone("efficientnet_b1")              # any timm model joins the catalog
"""
from ._catalog import (CATALOG, TIERS, BackboneSpec, catalog, get_spec, measure_backbone,
                       register_backbone, tier_of)
from ._create import check_weights_file, classifier_prefixes, create_backbone, load_weights_file
from ._latency import LatencyResult, cpu_model, machine_key, profile_latency
from ._speed import TrainSpeed, measure_train_speed
from ._weights import HUB, WeightsFound, find_weights

__all__ = ["create_backbone", "load_weights_file", "check_weights_file", "find_weights",
           "classifier_prefixes",
           "WeightsFound", "HUB", "CATALOG", "TIERS", "BackboneSpec",
           "catalog", "get_spec", "measure_backbone", "register_backbone", "tier_of", "LatencyResult",
           "cpu_model", "machine_key", "profile_latency", "TrainSpeed", "measure_train_speed"]
