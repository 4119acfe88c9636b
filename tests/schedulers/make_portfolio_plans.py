"""Rebuild data/portfolio_plans.json: the plans ``autopreset.fit`` makes for the simulated
curves of portfolio_sim.py, so PortfolioHyperband is tested on real plans without the planner.

    .venv/bin/python tests/schedulers/make_portfolio_plans.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from portfolio_sim import (BACKBONES, EPOCH_OVERHEAD_S, JOB_S, N_TRAIN, N_VAL,  # noqa: E402
                           PLANS, REF_BATCH)

from autopreset.pipeline import CostModel, choose_backbones, make_plan  # noqa: E402
from autopreset.portfolio import load_preset  # noqa: E402
from autopreset.space import space_to_json  # noqa: E402

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
SCENARIOS = [(600, 1, "balanced"), (600, 2, "balanced"), (3600, 1, "balanced"), (3600, 4, "balanced"),
             (1800, 1, "balanced"), (1800, 2, "balanced"), (40, 1, "balanced"),
             (1800, 1, "latency"), (1800, 1, "accuracy")]


def main() -> None:
    cost = CostModel(n_train=N_TRAIN, n_val=N_VAL, ref_batch=REF_BATCH,
                     train_ips={k: v[0] for k, v in BACKBONES.items()},
                     eval_ips={k: 3 * v[0] for k, v in BACKBONES.items()},
                     job_overhead_s=JOB_S, epoch_overhead_s=EPOCH_OVERHEAD_S)
    latency = {k: v[2] for k, v in BACKBONES.items()}
    plans = {}
    for budget, workers, prefer in SCENARIOS:
        pref = choose_backbones(latency, prefer)
        allowed = [dict(c) for c in PORTFOLIO if pref.allows(c["backbone"])]
        plan = make_plan(budget_s=budget, left_s=budget, reserve_s=0.03 * budget, cost=cost,
                         portfolio=allowed, n_workers=workers, eta=3, max_resource_cap=27)
        plans[f"{budget}/{workers}/{prefer}"] = {"plan": plan.schedule().to_json(),
                                                 "allowed": sorted(pref.allowed)}
    doc = {"about": "the plans autopreset.fit makes for the curves of portfolio_sim.py; "
                    "rebuilt by make_portfolio_plans.py", "space": space_to_json(load_preset("default").space),
           "plans": plans}
    PLANS.parent.mkdir(exist_ok=True)
    PLANS.write_text(json.dumps(doc, indent=1) + "\n")
    print(PLANS)


if __name__ == "__main__":
    main()
