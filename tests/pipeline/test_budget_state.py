"""The Budget (one owner of the time left, on a simulated clock) and RunState (run.json)."""
from __future__ import annotations

import json

import pytest

from autopreset.errors import InputError
from autopreset.pipeline import (Budget, CostModel, FitOptions, FitPlan, RunState, choose_backbones,
                                 make_plan)


class FakeClock:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_budget_counts_setup_by_default():
    clock = FakeClock()
    b = Budget("1m", clock=clock)
    clock.t += 10
    assert b.elapsed() == 10 and b.left() == 50
    b.setup_done()
    clock.t += 5
    assert b.left() == 45 and b.deadline == 1060
    assert b.for_search() == pytest.approx(45 - b.reserve_s)
    assert b.for_search(refit_s=20) == pytest.approx(45 - b.reserve_s - 20)
    assert b.for_refit() == pytest.approx(45 - b.reserve_s)


def test_budget_without_setup_starts_when_setup_ends():
    clock = FakeClock()
    b = Budget(30, counts_setup=False, clock=clock)
    clock.t += 100                          # a slow set-up
    assert b.left() == 30 and b.for_plan() == pytest.approx(28)
    b.setup_done()
    clock.t += 12
    assert b.left() == 18 and b.deadline == 1130


def test_budget_charge_and_exhaustion():
    clock = FakeClock()
    b = Budget(20, clock=clock)
    b.charge(15)                            # e.g. a killed run's time
    assert b.left() == 5
    clock.t += 30
    assert b.left() == -25 and b.for_search() == 0.1     # straight to the finish


@pytest.mark.parametrize("bad", ["ten minutes", 0, -5, "", True])
def test_budget_rejects_bad_durations(bad):
    with pytest.raises(ValueError, match="invalid duration"):
        Budget(bad)


def test_budget_of_passes_a_budget_through():
    b = Budget(60)
    assert Budget.of(b) is b and Budget.of("2m").total_s == 120


def _state(**kw) -> RunState:
    cost = CostModel(n_train=400, n_val=100, train_ips={"a": 400.0, "b": 200.0},
                     eval_ips={"a": 1200.0, "b": 600.0})
    portfolio = [{"backbone": "a", "lr": 0.01, "batch_size": 32},
                 {"backbone": "b", "lr": 0.01, "batch_size": 32}]
    plan = make_plan(budget_s=120, left_s=110, reserve_s=10, cost=cost, portfolio=portfolio)
    base = dict(data="/d", fingerprint="f" * 16, budget_s=120.0, prefer="latency",
                max_latency_ms=None, seed=3, resolution=32, device="cpu", latency_device="cpu",
                setup_s=4.5, preset={"name": "p"},
                preference=choose_backbones({"a": 1.0, "b": 2.0}, "latency"), cost=cost,
                plan=plan, mirror_check={"flip": True})
    base.update(kw)
    return RunState(**base)


def test_run_state_round_trips_through_json():
    state = _state()
    again = RunState.from_json(json.loads(json.dumps(state.to_json())))
    assert again == state
    assert again.plan.portfolio == state.plan.portfolio and again.task == "classification"


def test_run_state_says_what_a_resume_keeps():
    state = _state()
    assert state.kept(budget_s=120, prefer="latency", seed=3, max_latency_ms=None,
                      resolution=None) == []
    kept = state.kept(budget_s=60, prefer="accuracy", seed=0, max_latency_ms=None, resolution=64)
    assert kept == ["budget 120s (given 60s)", "preference latency (given accuracy)",
                    "seed 3 (given 0)", "resolution 32px (given 64px)"]


def test_run_state_rejects_foreign_json():
    with pytest.raises(InputError, match="not an autopreset run"):
        RunState.from_json({"format": "other"}, source="x/run.json")
    with pytest.raises(InputError, match="incomplete run record"):
        RunState.from_json({"format": "autopreset.run/1"}, source="x/run.json")


@pytest.mark.parametrize("kw,match", [
    (dict(prefer="fast"), "prefer must be one of"), (dict(workers=0), "workers"),
    (dict(max_latency_ms=0), "max_latency_ms"), (dict(resolution=4), "resolution"),
    (dict(seed="x"), "seed"), (dict(latency_device="tpu"), "latency_device"),
])
def test_fit_options_check_each_argument(kw, match):
    with pytest.raises(InputError, match=match):
        FitOptions(data="d", **kw)


def test_the_plan_says_whether_the_configs_or_the_schedule_set_the_crop_strength():
    cost = CostModel(n_train=400, n_val=100, train_ips={"a": 400.0}, eval_ips={"a": 1200.0})
    kw = dict(budget_s=120, left_s=110, reserve_s=10, cost=cost,
              portfolio=[{"backbone": "a", "lr": 0.01, "batch_size": 32, "crop_scale": 0.6}])
    assert "random crops >= " in make_plan(**kw).describe()
    own = make_plan(**kw, crop_in_configs=True)
    assert "as each config sets them" in own.describe()
    assert FitPlan.from_json(json.loads(json.dumps(own.to_json()))).crop_in_configs


def test_a_restored_epoch_said_again_does_not_count_as_this_jobs_epoch_time():
    """The trainer repeats its restored epoch after a restore; the objective's early stop must
    not take that epoch's seconds (from another job, maybe with warm-up) as this job's."""
    import time
    from types import SimpleNamespace

    from autopreset.pipeline._objective import _StopEarly

    class Reporter(SimpleNamespace):
        def report(self, **kw):
            return True

    inner = Reporter(trial_id=0, checkpoint_dir=".", max_resource=9, target_resource=9, seed=0,
                     deadline=time.time() + 5.0)
    stop = _StopEarly(inner, margin=1.15)
    assert stop.report(resource=1, metric=0.5, seconds=30.0, restored=True)   # goes on
    assert not stop.report(resource=2, metric=0.6, seconds=30.0)              # a real 30 s epoch
