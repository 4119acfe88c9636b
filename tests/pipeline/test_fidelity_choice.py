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


# ---------------------------------------------------------------- tail mode
def tail_planner(n_train, budget_s, ips, full=128):
    """(plan at ``full`` px, its cost model, plan_at): plans of PORTFOLIO whose epochs run at
    a smaller ``px`` by the area law, in ``extra_s`` seconds less (a simulated measurement)."""
    def cost_at(px):
        k = (full / px) ** 2
        return CostModel(n_train=n_train, n_val=n_train // 4,
                         train_ips={"a": ips * k, "b": ips / 2 * k},
                         eval_ips={"a": 6 * ips * k, "b": 3 * ips * k}, job_overhead_s=0.5)

    calls = []

    def plan_at(px, extra_s):
        calls.append((px, extra_s))
        cost = cost_at(px)
        return cost, make_plan(budget_s=budget_s, left_s=budget_s - extra_s, reserve_s=10,
                               cost=cost, portfolio=PORTFOLIO)

    cost = cost_at(full)
    plan = make_plan(budget_s=budget_s, left_s=budget_s, reserve_s=10, cost=cost,
                     portfolio=PORTFOLIO)
    return plan, cost, plan_at, calls


def test_tail_mode_searches_smaller_where_the_serving_size_affords_no_hyperband():
    from autopreset.pipeline._fidelity import choose_tail, tail_epochs, tail_seconds
    from autopreset.training._fidelity import resolve_fidelity

    plan, cost, plan_at, calls = tail_planner(1000, 300, ips=40.0)
    assert plan.hyperband is None                 # at 128 px: continue the portfolio only
    found = choose_tail(plan, cost, resolution=128, plan_at=plan_at)
    assert found is not None
    choice, low, tailed = found
    assert choice.px < 128 and choice.tail == tail_epochs(tailed.max_resource, tailed.eta)
    assert tailed.hyperband is not None           # the smaller search has brackets again
    # the largest step that brings them back: the next larger step down did not
    assert all(px >= choice.px for px, _ in calls)
    larger = [px for px, extra in calls if px > choice.px and extra == 0.0]
    assert all(plan_at(px, 0.0)[1].hyperband is None for px in larger)
    # the plan sets the tails' extra seconds aside: fewer seconds than a plan without them
    set_aside = [extra for px, extra in calls if px == choice.px and extra > 0]
    assert set_aside and set_aside[0] > 0
    assert tailed.search_s < plan_at(choice.px, 0.0)[1].search_s
    assert set_aside[0] == pytest.approx(
        tail_seconds(plan_at(choice.px, 0.0)[1], *_epochs(cost, low, plan_at(choice.px, 0.0)[1])))
    # the schedule: every epoch but the last ``tail`` at px, and it reads back so
    sched = choice.schedule(0)
    assert sched == f"-{choice.tail}:{choice.px}:1"
    R = tailed.max_resource
    assert resolve_fidelity(parse_fidelity(sched), R) == [(R - choice.tail, choice.px, 1.0)]
    assert f"at {choice.px}px" in choice.describe() and "serving size" in choice.describe()


def _epochs(cost, low, plan):
    import numpy as np
    full = [cost.epoch_seconds(c) for c in plan.portfolio]
    small = [low.epoch_seconds(c) for c in plan.portfolio]
    return float(np.median(full)), float(np.median(small))


def test_tail_mode_stays_off_where_it_is_not_needed_or_cannot_help():
    from autopreset.pipeline._fidelity import choose_tail

    plan, cost, plan_at, calls = tail_planner(1000, 3600, ips=400.0)
    assert plan.hyperband is not None             # brackets at the serving size already
    assert choose_tail(plan, cost, resolution=128, plan_at=plan_at) is None and not calls
    # a budget so short that no smaller size brings brackets back
    plan, cost, plan_at, calls = tail_planner(1000, 40, ips=5.0)
    assert plan.hyperband is None
    assert choose_tail(plan, cost, resolution=128, plan_at=plan_at) is None and calls
    # nothing below the smallest ladder step
    plan, cost, plan_at, calls = tail_planner(1000, 300, ips=40.0, full=16)
    assert choose_tail(plan, cost, resolution=16, plan_at=plan_at) is None and not calls


def test_tail_seconds_count_the_trials_that_reach_the_top_rung():
    from autopreset.pipeline._fidelity import tail_epochs, tail_seconds

    plan, cost, plan_at, _ = tail_planner(1000, 3600, ips=400.0)
    R, eta = plan.max_resource, plan.eta
    top = 1 + sum(n for rungs in plan.hyperband["brackets"] for n, r in rungs if r >= R)
    assert top >= 2
    k = tail_epochs(R, eta)
    assert k == max(1, R // eta ** 2)
    s = tail_seconds(plan, full_epoch=3.0, low_epoch=1.0)
    assert s > top * k * 2.0 * 0.99 / plan.n_workers
    assert tail_seconds(plan, full_epoch=1.0, low_epoch=1.0) == 0.0
    assert tail_epochs(2, 3) == 1 and tail_epochs(27, 3) == 3
