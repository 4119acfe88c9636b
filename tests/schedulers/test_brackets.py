"""Hyperband's bracket arithmetic (Li et al., 2018) and budget-aware planning."""
import math

import numpy as np
import pytest

from autopreset.schedulers import Bracket, hyperband_brackets, plan_hyperband, sh_bracket
from autopreset.space import Float


def test_hyperband_brackets_r81_eta3_match_the_paper():
    got = [b.rungs for b in hyperband_brackets(81, eta=3)]
    assert got == [
        ((81, 1), (27, 3), (9, 9), (3, 27), (1, 81)),
        ((34, 3), (11, 9), (3, 27), (1, 81)),
        ((15, 9), (5, 27), (1, 81)),
        ((8, 27), (2, 81)),
        ((5, 81),),
    ]


def test_hyperband_brackets_follow_algorithm_1_for_other_settings():
    for R, eta in [(27, 3), (16, 2), (100, 4), (9, 3)]:
        s_max = int(math.floor(math.log(R) / math.log(eta) + 1e-9))
        brackets = hyperband_brackets(R, eta)
        assert len(brackets) == s_max + 1
        for b, s in zip(brackets, range(s_max, -1, -1)):
            n = math.ceil((s_max + 1) / (s + 1) * eta ** s)
            assert b.rungs[0][0] == n
            assert [r[0] for r in b.rungs] == [max(1, n // eta ** i) for i in range(s + 1)]
            assert b.rungs[-1][1] == R
            assert all(r2 > r1 for (_, r1), (_, r2) in zip(b.rungs, b.rungs[1:]))


def test_min_resource_scales_the_rungs():
    assert [b.rungs for b in hyperband_brackets(18, eta=3, min_resource=2)] == [
        ((9, 2), (3, 6), (1, 18)), ((5, 6), (1, 18)), ((3, 18),)]


def test_sh_bracket_and_units():
    b = sh_bracket(27, 1, 27, 3)
    assert b.rungs == ((27, 1), (9, 3), (3, 9), (1, 27))
    assert b.units() == 27 * 1 + 9 * 2 + 3 * 6 + 1 * 18
    assert b.wall_units(4) == 7 * 1 + 3 * 2 + 1 * 6 + 1 * 18
    assert sh_bracket(10, 2, 20, 3).rungs == ((10, 2), (3, 6), (1, 18), (1, 20))


@pytest.mark.parametrize("bad", [dict(max_resource=0), dict(max_resource=9, eta=1), dict(max_resource=9, min_resource=10)])
def test_bad_bracket_settings_are_clear_errors(bad):
    with pytest.raises(ValueError):
        hyperband_brackets(**bad)


def test_plan_fits_the_budget_for_many_settings():
    rng = np.random.default_rng(0)
    for _ in range(40):
        budget = float(rng.uniform(30, 20000))
        cost = float(rng.uniform(0.1, 20))
        R = int(rng.choice([9, 27, 81, 50]))
        workers = int(rng.integers(1, 5))
        plan = plan_hyperband(budget, cost, R, n_workers=workers, overhead_s=float(rng.uniform(0, 3)))
        assert plan.estimated_s <= 0.9 * budget + 1e-9
        total = sum(plan.bracket_seconds(b) for b in plan.brackets)
        assert total == pytest.approx(plan.estimated_s)
        assert all(b.rungs[-1][1] == plan.max_resource for b in plan.brackets)
        assert plan.max_resource <= R


def test_plan_uses_full_brackets_when_they_fit_and_describes_itself():
    plan = plan_hyperband(3600, 2.0, 81, n_workers=2)
    assert [b.rungs for b in plan.brackets[:5]] == [b.rungs for b in hyperband_brackets(81, 3)]
    text = plan.describe()
    assert "81@1" in text and "budget 3600s" in text and "2 worker(s)" in text


def test_small_budget_shrinks_configs_or_max_resource():
    small = plan_hyperband(300, 2.0, 81)
    assert len(small.brackets) == 1 and small.brackets[0].n_configs < 81
    tiny = plan_hyperband(100, 2.0, 81)
    assert tiny.max_resource == 45 and "lowered" in tiny.describe()


def test_callable_cost_model_averages_over_the_space():
    space = {"w": Float(1.0, 3.0)}
    plan = plan_hyperband(1000, lambda c: c["w"], 27, space=space)
    assert 1.7 < plan.seconds_per_unit < 2.3
    with pytest.raises(ValueError, match="space"):
        plan_hyperband(1000, lambda c: 1.0, 27)
    with pytest.raises(ValueError, match="budget_s"):
        plan_hyperband(-5, 1.0, 27)
    with pytest.raises(ValueError, match="cost_model"):
        plan_hyperband(100, "fast", 27)


def test_bracket_describe():
    assert Bracket(((3, 1), (1, 3))).describe() == "3@1  1@3"


@pytest.mark.parametrize("workers", [1, 3])
def test_a_planned_hyperband_run_finishes_its_brackets_within_the_budget(workers):
    from autopreset.schedulers import Hyperband
    from autopreset.simulator import SimulatedExecutor, SyneTuneCurves
    from autopreset.tuner import Tuner

    bench = SyneTuneCurves(max_resource=27, seconds_per_unit=2.5)
    plan = plan_hyperband(900, 2.5, 27, n_workers=workers, overhead_s=1.0)
    assert len(plan.brackets) >= 2
    sched = Hyperband(space=bench.space, plan=plan, n_brackets=len(plan.brackets), random_state=0)
    r = Tuner(bench, sched, executor=SimulatedExecutor(workers, overhead_s=1.0), budget_s=900).run()
    assert not r.deadline_hit and r.spent_s <= plan.estimated_s + 1e-6
    assert sum(t.carried is False for t in r.trials) == plan.n_configs
    assert sum(t.status == "completed" for t in r.trials) == sum(b.rungs[-1][0] for b in plan.brackets)
