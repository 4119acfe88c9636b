"""The backbone catalog: timm names with size tier, parameters and compute, small to large.

Parameters and compute were measured here by :func:`measure_backbone` (feature extractor
only, ``num_classes=0``, at 224 px; compute as multiply-accumulates counted by
``torch.utils.flop_counter``) and stored in :mod:`._catalog_data`; rebuild that file with
``python -m autopreset.backbones._catalog``. For convolutional nets compute scales with the
pixel count, so at S px it is about ``gmacs * (S / 224) ** 2``.

The lecture's list is here in timm names (MobileNetV2 0.25 is not in timm; the nearest,
``mobilenetv2_035``, stands in for it), plus modern small networks, plus timm's
test-sized nets, which train in seconds at 8-32 px on a CPU. Every backbone a shipped preset
uses is here: the catalog is the one table of backbones and their tiers (a preset's tiers come
from it unless the preset overrides one).

Any timm model can join at run time (timm's registry is the model):

    register_backbone("efficientnet_b1", note="EfficientNet-B1")   # measures params and GMACs
    get_spec("efficientnet_b1").tier                                # "medium"
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ._catalog_data import MEASURED

__all__ = ["BackboneSpec", "CATALOG", "catalog", "get_spec", "measure_backbone", "register_backbone",
           "TIERS", "tier_of"]

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
    ("lcnet_100", "PP-LCNet x1.0"),
    ("mobilenetv2_100", "MobileNetV2 1.0"),
    ("efficientnet_lite0", "EfficientNet-Lite0 (no squeeze-excitation, ReLU6: mobile-friendly)"),
    ("convnext_femto", "ConvNeXt femto"),
    ("resnet14t", "ResNet-14-T, between resnet10t and resnet18"),
    ("convnext_pico", "ConvNeXt pico"),
    ("resnet26", "ResNet-26"),
    ("convnext_nano", "ConvNeXt nano"),
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


def _order(specs) -> list[BackboneSpec]:
    return sorted(specs, key=lambda s: (TIERS.index(s.tier), s.gmacs_224))


def _build() -> tuple[BackboneSpec, ...]:
    specs = []
    for name, note in _ENTRIES:
        params, gmacs = MEASURED[name]
        specs.append(BackboneSpec(name, tier_of(params), params, gmacs, note))
    return tuple(_order(specs))


#: The shipped entries, small to large; ``catalog()`` adds those registered at run time.
CATALOG: tuple[BackboneSpec, ...] = _build()
_REGISTERED: dict[str, BackboneSpec] = {}


def catalog(tiers=None, *, include_test_nets: bool = True) -> list[BackboneSpec]:
    """Catalog entries (shipped and registered), small to large; optionally only some ``tiers``."""
    if tiers is not None:
        tiers = (tiers,) if isinstance(tiers, str) else tuple(tiers)
        bad = [t for t in tiers if t not in TIERS]
        if bad:
            raise ValueError(f"unknown tier {bad[0]!r}; tiers are {TIERS}")
    specs = _order(CATALOG + tuple(_REGISTERED.values())) if _REGISTERED else CATALOG
    return [s for s in specs if (tiers is None or s.tier in tiers)
            and (include_test_nets or not s.name.startswith("test_"))]


def get_spec(name: str) -> BackboneSpec:
    for spec in CATALOG:
        if spec.name == name:
            return spec
    if name in _REGISTERED:
        return _REGISTERED[name]
    raise ValueError(f"backbone {name!r} is not in the catalog (add it with register_backbone); "
                     f"known: {', '.join(s.name for s in catalog())}")


def register_backbone(name: str, *, note: str = "", params_m: float | None = None,
                      gmacs_224: float | None = None, tier: str | None = None,
                      replace: bool = False) -> BackboneSpec:
    """Add timm model ``name`` to the catalog for this process; its spec.

    ``params_m`` / ``gmacs_224``: millions of parameters without the classifier and GMACs at
    224 px; when either is None both are measured (``measure_backbone``, seconds on a CPU).
    ``tier``: by default the parameter tier (``tier_of``); give one to override it. A shipped
    entry cannot be replaced; a registered one only with ``replace=True``. Worker processes do
    not need the registration: training creates backbones from timm's own registry.

        register_backbone("efficientnet_b1", note="EfficientNet-B1")
        register_backbone("my_vit", params_m=5.7, gmacs_224=1.3, tier="small")
    """
    import timm

    if not isinstance(name, str) or not timm.is_model(name):
        raise ValueError(f"register_backbone: {name!r} is not a timm model (see timm.list_models())")
    if any(s.name == name for s in CATALOG) or (name in _REGISTERED and not replace):
        raise ValueError(f"register_backbone: {name!r} is already in the catalog"
                         + ("" if name not in _REGISTERED else " (pass replace=True to replace it)"))
    if tier is not None and tier not in TIERS:
        raise ValueError(f"register_backbone: unknown tier {tier!r}; tiers are {TIERS}")
    if params_m is None or gmacs_224 is None:
        params_m, gmacs_224 = measure_backbone(name)
    for what, value in (("params_m", params_m), ("gmacs_224", gmacs_224)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"register_backbone: {what} must be a positive number; got {value!r}")
    spec = BackboneSpec(name, tier or tier_of(params_m), float(params_m), float(gmacs_224), note)
    _REGISTERED[name] = spec
    return spec


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
