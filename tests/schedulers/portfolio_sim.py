"""Replayed learning curves for PortfolioHyperband on a simulated clock, and the plans fit made
for them (data/portfolio_plans.json, rebuilt by ``python tests/schedulers/make_portfolio_plans.py``).

Accuracy curves whose ceiling depends on backbone capacity and on the learning rate's distance
from its optimizer's sweet spot; seconds per epoch from fixed training speeds (as fit's cost
model computes them), so the scheduler runs without training and without the product layer.
"""
from __future__ import annotations

import json
import math
import zlib
from pathlib import Path

import numpy as np

from autopreset.schedulers import PortfolioPlan
from autopreset.simulator import CurveBenchmark
from autopreset.space import space_from_json

PLANS = Path(__file__).with_name("data") / "portfolio_plans.json"

# backbone: (training images/s, capacity bonus, batch-1 latency ms)
BACKBONES = {
    "lcnet_050": (900.0, 0.00, 2.3), "mobilenetv3_small_050": (800.0, 0.00, 2.7),
    "resnet10t": (300.0, 0.03, 3.2), "mobilenetv3_small_100": (500.0, 0.01, 3.2),
    "regnetx_002": (400.0, 0.02, 3.5), "convnext_atto": (350.0, 0.02, 3.7),
    "mobilenetv2_100": (300.0, 0.02, 4.1), "resnet14t": (220.0, 0.035, 5.4),
    "resnet18": (200.0, 0.04, 6.4), "efficientnet_b0": (180.0, 0.03, 7.3),
}
LR_OPT = {"sgd": 0.05, "adamw": 0.002}
N_TRAIN, N_VAL, REF_BATCH = 4000, 1000, 64
JOB_S, EPOCH_OVERHEAD_S = 1.0, 0.2
SPEED_MARGIN = 1.25   # fit plans with measured speeds x 1.25: real epochs add augmentation


def epoch_seconds(config: dict) -> float:
    """Seconds of one epoch at the measured speed (fit's CostModel with evaluation 3x faster)."""
    ips, batch = BACKBONES[config["backbone"]][0], int(config.get("batch_size", REF_BATCH))
    train_ips = ips * min(1.0, (max(1, batch) / REF_BATCH) ** 0.25)
    images = (N_TRAIN // max(1, min(batch, N_TRAIN))) * min(batch, N_TRAIN)
    return images / train_ips + N_VAL / (3 * ips) + EPOCH_OVERHEAD_S


def _config_rng(config: dict, seed: int) -> np.random.Generator:
    key = json.dumps(config, sort_keys=True, default=str).encode()
    return np.random.default_rng([zlib.crc32(key), seed])


class ImageCurves(CurveBenchmark):
    """Validation accuracy per epoch; seconds per epoch x the plan's speed margin, +-10% jitter,
    x ``slowdown`` (epochs slower or faster than the plan was told)."""

    mode = "max"

    def __init__(self, space: dict, *, max_resource: int, noise: float = 0.003, seed: int = 0,
                 slowdown: float = 1.0):
        self.space, self.max_resource = space, max_resource
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
        sec = self.slowdown * SPEED_MARGIN * epoch_seconds(config) * rng.uniform(0.9, 1.1, t.shape)
        return acc, sec


def scenario(budget_s: int, workers: int = 1, prefer: str = "balanced"):
    """(space, PortfolioPlan, allowed backbones) of fit's plan for that budget and preference."""
    doc = json.loads(PLANS.read_text())
    entry = doc["plans"][f"{budget_s}/{workers}/{prefer}"]
    return (space_from_json(doc["space"]), PortfolioPlan.from_json(entry["plan"]),
            set(entry["allowed"]))
