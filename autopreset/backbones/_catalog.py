"""The backbone catalog: timm names with size tier, parameters and compute, small to large.

Parameters and compute were measured here by :func:`measure_backbone` (feature extractor
only, ``num_classes=0``, at 224 px; compute as multiply-accumulates counted by
``torch.utils.flop_counter``) and stored in :mod:`._catalog_data`; rebuild that file with
``python -m autopreset.backbones._catalog``. For convolutional nets compute scales with the
pixel count, so at S px it is about ``gmacs * (S / 224) ** 2``.

The lecture's list is here in timm names (MobileNetV2 0.25 is not in timm; the nearest,
``mobilenetv2_035``, stands in for it), plus modern small networks, plus timm's
test-sized nets, which train in seconds at 8-32 px on a CPU.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ._catalog_data import MEASURED

__all__ = ["BackboneSpec", "CATALOG", "catalog", "get_spec", "measure_backbone", "TIERS", "tier_of"]

TIERS = ("tiny", "small", "medium", "large")

#: (timm name, why it is here); measured numbers come from _catalog_data.
#: Tier by parameters (without classifier): tiny < 1M <= small < 6M <= medium < 30M <= large.
TIER_LIMITS_M = (1.0, 6.0, 30.0)
_ENTRIES = (
    ("test_resnet", "timm test-sized ResNet; seconds per epoch on a CPU"),
    ("test_efficientnet", "timm test-sized EfficientNet"),
    ("test_convnext", "timm test-sized ConvNeXt"),
    ("lcnet_035", "PP-LCNet x0.35, CPU-oriented"),
    ("mobilenetv3_small_050", "MobileNetV3 small x0.5"),
    ("mobilenetv2_035", "MobileNetV2 0.35 (nearest timm model to the lecture's 0.25)"),
    ("lcnet_050", "PP-LCNet x0.5"),
    ("mobilenetv3_small_100", "MobileNetV3 small (lecture)"),
    ("regnetx_002", "RegNetX 200MF"),
    ("mobilenetv2_050", "MobileNetV2 0.5"),
    ("convnext_atto", "ConvNeXt atto"),
    ("mobilenetv3_large_100", "MobileNetV3 large (lecture)"),
    ("resnet10t", "ResNet-10-T, a fast small ResNet"),
    ("efficientnet_b0", "EfficientNet-B0"),
    ("resnet18", "ResNet-18 (lecture)"),
    ("resnet34", "ResNet-34 (lecture)"),
    ("resnet50", "ResNet-50 (lecture)"),
    ("seresnext50_32x4d", "SE-ResNeXt-50 32x4d (lecture)"),
    ("resnest50d", "ResNeSt-50 (lecture)"),
    ("resnet101", "ResNet-101 (lecture)"),
    ("vgg16_bn", "VGG-16 with batch norm (lecture)"),
    ("resnest200e", "ResNeSt-200 (lecture)"),
)


@dataclass(frozen=True)
class BackboneSpec:
    """One catalog entry. ``params_m``: millions of parameters without the classifier;
    ``gmacs_224``: billions of multiply-accumulates per 224 px image (forward)."""

    name: str
    tier: str
    params_m: float
    gmacs_224: float
    note: str = ""

    def gmacs_at(self, input_size: int) -> float:
        return self.gmacs_224 * (input_size / 224.0) ** 2

    def to_dict(self) -> dict:
        return asdict(self)


def tier_of(params_m: float) -> str:
    """Size tier from millions of parameters (see TIER_LIMITS_M)."""
    for tier, limit in zip(TIERS, TIER_LIMITS_M):
        if params_m < limit:
            return tier
    return TIERS[-1]


def _build() -> tuple[BackboneSpec, ...]:
    specs = []
    for name, note in _ENTRIES:
        params, gmacs = MEASURED[name]
        specs.append(BackboneSpec(name, tier_of(params), params, gmacs, note))
    return tuple(sorted(specs, key=lambda s: (TIERS.index(s.tier), s.gmacs_224)))


CATALOG: tuple[BackboneSpec, ...] = _build()


def catalog(tiers=None, *, include_test_nets: bool = True) -> list[BackboneSpec]:
    """Catalog entries, small to large; optionally only some ``tiers``."""
    if tiers is not None:
        tiers = (tiers,) if isinstance(tiers, str) else tuple(tiers)
        bad = [t for t in tiers if t not in TIERS]
        if bad:
            raise ValueError(f"unknown tier {bad[0]!r}; tiers are {TIERS}")
    return [s for s in CATALOG if (tiers is None or s.tier in tiers)
            and (include_test_nets or not s.name.startswith("test_"))]


def get_spec(name: str) -> BackboneSpec:
    for spec in CATALOG:
        if spec.name == name:
            return spec
    raise ValueError(f"backbone {name!r} is not in the catalog; known: "
                     f"{', '.join(s.name for s in CATALOG)}")


def measure_backbone(name: str, input_size: int = 224) -> tuple[float, float]:
    """(millions of parameters, GMACs at ``input_size``) of ``name`` without its classifier."""
    import timm
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    model = timm.create_model(name, pretrained=False, num_classes=0).eval()
    params = sum(p.numel() for p in model.parameters()) / 1e6
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        model(torch.zeros(1, 3, input_size, input_size))
    return params, counter.get_total_flops() / 2e9


def _rebuild_data_file() -> None:  # pragma: no cover - run by hand
    import datetime
    import pathlib

    import timm
    import torch

    lines = []
    for name, _ in _ENTRIES:
        params, gmacs = measure_backbone(name)
        lines.append(f"    {name!r}: ({params:.4f}, {gmacs:.5f}),")
        print(name, round(params, 3), round(gmacs, 4), flush=True)
    text = (f'"""Measured by `python -m autopreset.backbones._catalog` on '
            f'{datetime.date.today()} (timm {timm.__version__}, torch {torch.__version__}).\n\n'
            '(params in millions, GMACs at 224 px), feature extractor without classifier.\n"""\n'
            "MEASURED = {\n" + "\n".join(lines) + "\n}\n")
    path = pathlib.Path(__file__).with_name("_catalog_data.py")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


if __name__ == "__main__":  # pragma: no cover
    _rebuild_data_file()
