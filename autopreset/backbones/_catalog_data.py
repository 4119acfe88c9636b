"""Measured by `python -m autopreset.backbones._catalog` on 2026-11-27 (timm 1.0.31, torch 2.14.1+cu130);
resnet14t to efficientnet_lite0 (the shipped presets' backbones the catalog lacked) measured the
same way with `measure_backbone` on 2026-12-02 (same versions).

(params in millions, GMACs at 224 px), feature extractor without classifier.
"""
MEASURED = {
    'test_resnet': (0.3727, 0.20080),
    'test_efficientnet': (0.0992, 0.11181),
    'test_convnext': (0.2071, 0.06108),
    'lcnet_035': (0.3634, 0.02608),
    'mobilenetv3_small_050': (0.5682, 0.02316),
    'mobilenetv2_035': (0.3961, 0.05801),
    'lcnet_050': (0.5999, 0.04345),
    'mobilenetv3_small_100': (1.5179, 0.05549),
    'regnetx_002': (2.3158, 0.19867),
    'mobilenetv2_050': (0.6877, 0.09585),
    'convnext_atto': (3.3745, 0.54701),
    'mobilenetv3_large_100': (4.2020, 0.21531),
    'resnet10t': (4.9225, 1.09675),
    'efficientnet_b0': (4.0075, 0.38453),
    'resnet18': (11.1765, 1.81356),
    'resnet34': (21.2847, 3.66325),
    'resnet50': (23.5080, 4.08714),
    'seresnext50_32x4d': (25.5109, 4.23095),
    'resnest50d': (25.4342, 5.36911),
    'resnet101': (42.5002, 7.79936),
    'vgg16_bn': (134.2690, 15.46617),
    'resnest200e': (68.1525, 17.40636),
    'resnet14t': (8.0326, 1.67477),
    'resnet26': (13.9462, 2.34021),
    'lcnet_100': (1.6728, 0.15442),
    'mobilenetv2_100': (2.2239, 0.29949),
    'convnext_femto': (4.8328, 0.77925),
    'convnext_pico': (8.5327, 1.36654),
    'convnext_nano': (14.9526, 2.44489),
    'efficientnet_lite0': (3.3710, 0.38391),
}
