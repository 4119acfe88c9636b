"""When fit's first rung trains on fewer images or smaller inputs: the cost model decides.

Plans are made from synthetic cost models (no training); the smaller input's speed comes from a
simulated measurement.
"""
from __future__ import annotations

import dataclasses

import pytest

from autopreset.pipeline._cost import CostModel
from autopreset.pipeline._fidelity import LARGE_FOLDER, choose_fidelity
from autopreset.pipeline._plan import make_plan
from autopreset.schedulers._portfolio import _full_seconds
from autopreset.training._fidelity import parse_fidelity

PORTFOLIO = [{"backbone": "a", "lr": 0.01, "batch_size": 64},
             {"backbone": "b", "lr": 0.1, "batch_size": 64},
             {"backbone": "a", "lr": 0.003, "batch_size": 64},
             {"backbone": "b", "lr": 0.03, "batch_size": 64}]


def plan_for(n_train, budget_s, ips=400.0):
    cost = CostModel(n_train=n_train, n_val=n_train // 4, train_ips={"a": ips, "b": ips / 2},
                     eval_ips={"a": 6 * ips, "b": 3 * ips}, job_overhead_s=0.5)
    plan = make_plan(budget_s=budget_s, left_s=budget_s, reserve_s=10, cost=cost,
                     portfolio=PORTFOLIO)
    return plan, cost


def area(ips=400.0, gain=None):
    """Simulated speeds at a smaller size ``px``: ``gain`` times the full size's (default: the
    area law, (128 / px) ** 2)."""
    def measure(names, px, full=128):
        k = (full / px) ** 2 if gain is None else gain
        return {"a": (ips * k, 6 * ips * k), "b": (ips / 2 * k, 3 * ips * k)}
    return measure


def test_cheap_full_epochs_keep_full_fidelity():
    plan, cost = plan_for(800, 3600)
    choice = choose_fidelity(plan, cost, resolution=128, measure=area())
    assert not choice.reduced and choice.schedule(1) == "" and "full throughout" in choice.reason


def test_a_large_folder_trains_its_first_rung_on_a_stratified_fraction_and_plans_for_it():
    plan, cost = plan_for(20_000, 900)
    assert len(plan.portfolio) == 1          # at full cost: one config, no rung to rank on
    choice = choose_fidelity(plan, cost, resolution=32, measure=area())
    assert choice.px == 0 and choice.fraction == pytest.approx(1 / 9, abs=1e-3)
    assert 0 < choice.ratio <= 0.7
    again = make_plan(budget_s=900, left_s=900, reserve_s=10, cost=cost, portfolio=PORTFOLIO,
                      first_rung_cost=choice.ratio)
    assert len(again.portfolio) > 1         # the cheap first rung ranks several configs
    assert again.min_resource == again.portfolio_top < again.max_resource   # (a short schedule)
    (until, px, frac), = parse_fidelity(choice.schedule(again.min_resource))
    assert (until, px, frac) == (again.min_resource, 0, pytest.approx(1 / 9, abs=1e-3))
    assert "stratified 11%" in choice.describe(again.min_resource)
    with_f = dataclasses.replace(again, fidelity=choice.schedule(again.min_resource))
    assert with_f.constants["fidelity"] == with_f.fidelity and "fidelity" not in again.constants


def test_a_small_folder_of_large_images_trains_its_first_rung_smaller_where_it_pays():
    plan, cost = plan_for(LARGE_FOLDER // 2, 120, ips=60.0)
    choice = choose_fidelity(plan, cost, resolution=128, measure=area(60.0))
    assert 32 <= choice.px < 128 and choice.fraction == 1.0 and choice.ratio <= 0.7
    assert f"at {choice.px}px" in choice.describe(1)
    # where a smaller input saves little (overheads dominate), it does not pay
    slow = choose_fidelity(plan, cost, resolution=128, measure=area(60.0, gain=1.2))
    assert not slow.reduced and "does not pay" in slow.reason
    tiny = choose_fidelity(plan, cost, resolution=32, measure=area())
    assert not tiny.reduced and "too small" in tiny.reason


def test_the_switch_replans_from_full_fidelity_seconds():
    results = [{"seconds": 1.0, "full_fidelity": False}, {"seconds": 9.0, "full_fidelity": True},
               {"seconds": 8.0}]
    assert _full_seconds(results) == [9.0, 8.0]
    assert _full_seconds(results[:1]) == [1.0]           # none at full fidelity yet ...
    assert _full_seconds(results[:1], 0.25) == [4.0]     # ... scaled by the planned share
