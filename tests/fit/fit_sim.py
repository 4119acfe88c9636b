"""Replayed learning curves for fit's strategy: the real preset space, a cost model, and
accuracy curves whose ceiling depends on backbone capacity and on the learning rate's distance
from its optimizer's sweet spot, on the simulated clock of autopreset.simulator."""
from __future__ import annotations

import math

import numpy as np

from autopreset.pipeline import SPEED_MARGIN, CostModel
from autopreset.simulator import CurveBenchmark, _config_rng

# backbone: (training images/s, capacity bonus, batch-1 latency ms)
BACKBONES = {
    "lcnet_050": (900.0, 0.00, 2.3), "mobilenetv3_small_050": (800.0, 0.00, 2.7),
    "resnet10t": (300.0, 0.03, 3.2), "mobilenetv3_small_100": (500.0, 0.01, 3.2),
    "regnetx_002": (400.0, 0.02, 3.5), "convnext_atto": (350.0, 0.02, 3.7),
    "mobilenetv2_100": (300.0, 0.02, 4.1), "resnet14t": (220.0, 0.035, 5.4),
    "resnet18": (200.0, 0.04, 6.4), "efficientnet_b0": (180.0, 0.03, 7.3),
}
LR_OPT = {"sgd": 0.05, "adamw": 0.002}
# a fixed portfolio (the shipped presets change as they are curated): best-known first
PORTFOLIO = [
    {"backbone": b, "lr": lr, "batch_size": bs, "momentum": 0.9, "weight_decay": 5e-4,
     "optimizer": opt, "label_smoothing": 0.1}
    for b, opt, lr, bs in [("resnet10t", "adamw", 0.003, 64), ("resnet18", "adamw", 0.001, 64),
                           ("mobilenetv3_small_100", "adamw", 0.003, 64),
                           ("regnetx_002", "sgd", 0.1, 128), ("lcnet_050", "sgd", 0.05, 128),
                           ("resnet14t", "sgd", 0.025, 64), ("convnext_atto", "adamw", 0.001, 64),
                           ("mobilenetv2_100", "sgd", 0.025, 128), ("efficientnet_b0", "adamw", 0.002, 64),
                           ("mobilenetv3_small_050", "adamw", 0.005, 32)]]


def cost_model(n_train: int = 4000, n_val: int = 1000) -> CostModel:
    return CostModel(n_train=n_train, n_val=n_val,
                     train_ips={k: v[0] for k, v in BACKBONES.items()},
                     eval_ips={k: 3 * v[0] for k, v in BACKBONES.items()},
                     job_overhead_s=1.0, epoch_overhead_s=0.2)


def latencies() -> dict[str, float]:
    return {k: v[2] for k, v in BACKBONES.items()}


class ImageCurves(CurveBenchmark):
    """Validation accuracy per epoch; seconds per epoch from the cost model (x the plan's speed margin, +-10% jitter)."""

    mode = "max"

    def __init__(self, space: dict, *, max_resource: int, cost: CostModel, noise: float = 0.003,
                 seed: int = 0, slowdown: float = 1.0):
        self.space, self.max_resource, self.cost = space, max_resource, cost
        self.noise, self.seed, self.slowdown = noise, seed, slowdown

    def curve(self, config: dict):
        _, bonus, _ = BACKBONES[config["backbone"]]
        opt = config.get("optimizer", "sgd")
        miss = math.log10(config["lr"] / LR_OPT[opt]) ** 2
        ceiling = min(0.995, 0.95 + bonus - 0.04 * miss)
        tau = 1.0 + 2.0 * miss
        t = np.arange(1, self.max_resource + 1, dtype=float)
        acc = ceiling - (ceiling - 0.1) * (1 + t / tau) ** -1.5
        rng = _config_rng(config, self.seed)
        acc = np.clip(acc + rng.normal(0, self.noise, t.shape), 0, 1)
        # real epochs are slower than the bare steps the cost model measured (augmentation, data)
        sec = (self.slowdown * SPEED_MARGIN * self.cost.epoch_seconds(config)
               * rng.uniform(0.9, 1.1, t.shape))
        return acc, sec
