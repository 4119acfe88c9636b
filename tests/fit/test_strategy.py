"""fit's plan, preference and final pick around its search scheduler, on replayed curves and a
simulated clock: no training, seconds to run. The scheduler itself (PortfolioHyperband) is
tested in tests/schedulers/test_portfolio.py."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from autopreset.pipeline import FitPlan, WeightPruner, choose_backbones, make_plan, pick_best
from autopreset.portfolio import load_preset
from autopreset.schedulers import PortfolioHyperband, PortfolioPlan
from autopreset.simulator import SimulatedExecutor
from autopreset.tuner import Tuner
from fit_sim import PORTFOLIO, ImageCurves, cost_model, latencies

PRESET = load_preset("default")


def strategy(budget_s, prefer="balanced", workers=1, max_latency_ms=None, seed=0):
    cost = cost_model()
    names = list(dict.fromkeys(c["backbone"] for c in PORTFOLIO))
    pref = choose_backbones({n: latencies()[n] for n in names}, prefer, max_latency_ms)
    allowed = [dict(c) for c in PORTFOLIO if pref.allows(c["backbone"])]
    plan = make_plan(budget_s=budget_s, left_s=budget_s, reserve_s=0.03 * budget_s, cost=cost,
                     portfolio=allowed, n_workers=workers, eta=3, max_resource_cap=27)
    return cost, pref, plan


def run(plan, cost, pref, workers=1, run_dir=None, resume=False, seed=0, slowdown=1.0,
        on_retire=None, on_event=None):
    sched = PortfolioHyperband(space=PRESET.space, plan=plan.schedule(), allowed=set(pref.allowed),
                               mode="max", random_state=seed)
    bench = ImageCurves(PRESET.space, max_resource=int(1.5 * plan.max_resource), cost=cost,
                       slowdown=slowdown)
    tuner = Tuner(bench, sched, executor=SimulatedExecutor(workers, overhead_s=cost.job_overhead_s),
                  budget_s=plan.search_s, run_dir=run_dir, resume=resume, seed=seed,
                  on_retire=on_retire, on_event=on_event)
    return tuner.run(), sched


def test_plan_phases_fit_and_round_trip():
    cost, pref, plan = strategy(1800)
    assert plan.portfolio_s + plan.hyperband_s <= plan.search_s + 1e-6
    assert plan.portfolio_top < plan.max_resource
    assert plan.hyperband is not None
    text = plan.describe()
    assert "portfolio" in text and "Hyperband" in text
    again = FitPlan.from_json(json.loads(json.dumps(plan.to_json())))
    assert again == plan and again.hyperband_plan().brackets == plan.hyperband_plan().brackets
    assert again.schedule() == plan.schedule()


def test_schedule_holds_what_the_scheduler_follows():
    cost, pref, plan = strategy(1800, workers=2)
    s = plan.schedule()
    assert isinstance(s, PortfolioPlan)
    assert [list(r) for r in s.portfolio_rungs] == plan.portfolio_rungs
    assert list(s.portfolio) == plan.portfolio and s.constants == plan.constants
    assert (s.max_resource, s.eta, s.n_workers) == (plan.max_resource, plan.eta, plan.n_workers)
    assert (s.search_s, s.job_s, s.hyperband_s) == (plan.search_s, plan.job_s, plan.hyperband_s)
    assert s.hyperband == plan.hyperband_plan() and s.portfolio_top == plan.portfolio_top


def test_tiny_budget_plans_one_config_for_all_it_can():
    cost, pref, plan = strategy(40)
    assert len(plan.portfolio) == 1 and plan.hyperband is None
    assert plan.portfolio_rungs == [[1, plan.max_resource]]
    assert plan.max_resource * cost.epoch_seconds(plan.portfolio[0]) <= plan.search_s


@pytest.mark.parametrize("prefer", ["latency", "balanced", "accuracy"])
def test_every_trial_meets_the_preference(prefer):
    cost, pref, plan = strategy(1800, prefer=prefer)
    result, _ = run(plan, cost, pref)
    used = {t.config["backbone"] for t in result.trials}
    assert used <= set(pref.allowed)
    bound = max(latencies()[n] for n in pref.allowed)
    assert latencies()[result.best.config["backbone"]] <= bound


def test_latency_preference_allows_only_the_fastest():
    _, fast, _ = strategy(600, prefer="latency")
    _, every, _ = strategy(600, prefer="accuracy")
    assert max(fast.latency_ms[n] for n in fast.allowed) <= min(
        every.latency_ms[n] for n in every.allowed if n not in fast.allowed)
    assert set(fast.allowed) < set(every.allowed)
    _, bounded, _ = strategy(600, max_latency_ms=3.3)
    assert set(bounded.allowed) == {n for n, ms in bounded.latency_ms.items() if ms <= 3.3}
    with pytest.raises(ValueError, match="max-latency-ms"):
        strategy(600, max_latency_ms=0.5)


def test_refit_is_planned_only_when_it_fits_beside_the_search():
    cost, pref, short = strategy(600)
    assert short.refit_s == 0 and "no refit" in short.describe()
    cost, pref, long = strategy(7200)
    assert long.refit_s > 0 and "refit the best config" in long.describe()
    assert long.search_s + long.refit_s <= 7200 - long.reserve_s + 1e-6
    assert long.refit_s <= 0.2 * (long.search_s + long.refit_s)


class CheckpointWriter:
    """``on_event`` that leaves, at every reported epoch, what the trainer leaves in a trial's
    folder: a checkpoint record (history, best epoch) and a stand-in tensor file."""

    def __init__(self):
        self.folders = {}

    def __call__(self, e):
        from autopreset.training._checkpoint import FORMAT

        if e["event"] in ("started", "carried"):
            self.folders[e["trial_id"]] = Path(e["checkpoint_dir"])
        if e["event"] != "reported":
            return
        folder, r = self.folders[e["trial_id"]], e["result"]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "checkpoint.json"
        meta = json.loads(path.read_text()) if path.exists() else {"history": []}
        assert not meta.get("weights_dropped"), "a trial trained on after its weights were deleted"
        for old in folder.glob("state-*.safetensors"):
            old.unlink()
        (folder / f"state-{r['resource']}.safetensors").write_bytes(b"x" * 1000)
        meta["history"].append({"epoch": r["resource"], "metric": r["metric"]})
        meta.update(format=FORMAT, tensors=f"state-{r['resource']}.safetensors", best_tensors=None,
                    best=max(meta["history"], key=lambda h: h["metric"]))
        path.write_text(json.dumps(meta))


@pytest.mark.parametrize("prefer,workers", [("accuracy", 1), ("latency", 1), ("balanced", 2)])
def test_retired_trials_lose_their_weights_and_the_pick_is_unchanged(tmp_path, prefer, workers):
    """fit's WeightPruner deletes, during the search, the weights of trials that ended or were
    not promoted unless they are their backbone's best; the final pick is the one every weight
    kept would give."""
    cost, pref, plan = strategy(1800, prefer=prefer, workers=workers)
    latency = dict(pref.latency_ms) if prefer == "latency" else None
    n_val = 300
    kept, _ = run(plan, cost, pref, workers, run_dir=tmp_path / "kept", on_event=CheckpointWriter())
    pruner = WeightPruner(n_val, latency)
    pruned, sched = run(plan, cost, pref, workers, run_dir=tmp_path / "pruned", on_retire=pruner,
                        on_event=CheckpointWriter())
    a, b = pick_best(kept, n_val, latency), pick_best(pruned, n_val, latency)
    assert (a[0].trial_id, a[1]) == (b[0].trial_id, b[1])
    with_weights = [t for t in pruned.trials if list(Path(t.checkpoint_dir).glob("*.safetensors"))]
    assert pruner.freed > 0
    if workers == 1:      # ASHA (several workers) may promote any paused trial later: those stay
        assert len(with_weights) < len(pruned.trials) / 3
    assert b[0] in with_weights
    # the rest are live or resumable, or could still be picked among those that can no longer run
    done = [t for t in with_weights if t.status in ("completed", "stopped")
            or (t.status == "paused" and not sched.may_resume(t))]
    assert len(done) <= (len({t.config["backbone"] for t in done}) if latency else 1)
    for t in pruned.trials:
        if t not in with_weights:
            if not t.results:     # stopped by the deadline before its first epoch: nothing written
                assert t.status == "interrupted" and not Path(t.checkpoint_dir, "checkpoint.json").exists()
                continue
            assert json.loads((Path(t.checkpoint_dir) / "checkpoint.json").read_text())["weights_dropped"]


def test_more_time_never_plans_a_shorter_schedule_without_brackets():
    """Where the search has no room for Hyperband brackets, a few more seconds must not buy a
    shorter schedule for the final model (the portfolio's share alone used to admit a config
    whose continuation then did not fit, and R dropped for it)."""
    for n_train in (1000, 3000):
        cost = cost_model(n_train=n_train, n_val=300)
        prev = None
        for budget in range(60, 1200, 3):
            plan = make_plan(budget_s=budget, left_s=budget, reserve_s=6 + 0.035 * budget,
                             cost=cost, portfolio=PORTFOLIO)
            if plan.hyperband is not None or len(plan.portfolio) == 1:
                prev = None
                continue
            key = (min(len(plan.portfolio), 5), plan.max_resource)
            if prev is not None and prev[0] == key[0]:
                assert key[1] >= prev[1], (n_train, budget, prev, key)
            prev = key
