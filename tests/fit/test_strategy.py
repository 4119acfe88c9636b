"""fit's search strategy on replayed curves and a simulated clock: no training, seconds to run."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from autopreset.pipeline._finish import WeightPruner, pick_best
from autopreset.pipeline._plan import FitPlan, make_plan
from autopreset.pipeline._preference import choose_backbones
from autopreset.pipeline._strategy import PortfolioHyperband
from autopreset.journal import read_journal
from autopreset.portfolio import load_preset
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
    sched = PortfolioHyperband(space=PRESET.space, plan=plan, allowed=set(pref.allowed),
                               mode="max", random_state=seed)
    bench = ImageCurves(PRESET.space, max_resource=int(1.5 * plan.max_resource), cost=cost,
                       slowdown=slowdown)
    tuner = Tuner(bench, sched, executor=SimulatedExecutor(workers, overhead_s=cost.job_overhead_s),
                  budget_s=plan.search_s, run_dir=run_dir, resume=resume, seed=seed,
                  on_retire=on_retire, on_event=on_event)
    return tuner.run(), sched


@pytest.mark.parametrize("budget_s,workers", [(600, 1), (600, 2), (3600, 1), (3600, 4)])
def test_budget_is_respected_and_used(budget_s, workers):
    cost, pref, plan = strategy(budget_s, workers=workers)
    result, sched = run(plan, cost, pref, workers)
    assert result.spent_s <= plan.search_s + 1e-6
    last = max(r["time"] for t in result.trials for r in t.results)
    assert last >= 0.9 * plan.search_s             # the budget is used, not left idle
    assert result.best.resource == sched.max_resource  # the chosen model finished its schedule
    assert sched.phase in ("hyperband", "asha", "continue")
    if plan.hyperband is not None:
        assert len(result.trials) > len(plan.portfolio)


def test_plan_phases_fit_and_round_trip():
    cost, pref, plan = strategy(1800)
    assert plan.portfolio_s + plan.hyperband_s <= plan.search_s + 1e-6
    assert plan.portfolio_top < plan.max_resource
    assert plan.hyperband is not None
    text = plan.describe()
    assert "portfolio" in text and "Hyperband" in text
    again = FitPlan.from_json(json.loads(json.dumps(plan.to_json())))
    assert again == plan and again.hyperband_plan().brackets == plan.hyperband_plan().brackets


def test_tiny_budget_trains_one_config_for_all_it_can():
    cost, pref, plan = strategy(40)
    assert len(plan.portfolio) == 1 and plan.hyperband is None
    assert plan.portfolio_rungs == [[1, plan.max_resource]]
    result, sched = run(plan, cost, pref)
    assert len(result.trials) == 1 and result.best.resource == plan.max_resource


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


def test_portfolio_survivors_continue_from_their_checkpoints(tmp_path):
    cost, pref, plan = strategy(1800)
    result, sched = run(plan, cost, pref, run_dir=tmp_path)
    events = read_journal(tmp_path / "journal.jsonl")
    assert sched.survivors
    top = plan.portfolio_top
    for trial in sched.survivors:
        starts = [e for e in events if e["event"] == "started" and e["trial_id"] == trial.trial_id]
        assert len(starts) == 1                          # never started again
        resources = [r["resource"] for r in trial.results]
        assert resources == list(range(1, len(resources) + 1))  # each epoch trained once
    continued = [e for e in events if e["event"] == "resumed"
                 and e["trial_id"] in {t.trial_id for t in sched.survivors}
                 and e["target_resource"] > top]
    assert continued                                      # carried into Hyperband and resumed
    # new Hyperband configs come from the narrowed space around the survivors
    hb_backbones = {t.config["backbone"] for t in result.trials
                    if t.trial_id not in sched._portfolio_trials}
    assert hb_backbones <= {t.config["backbone"] for t in result.trials
                            if t.trial_id in sched._portfolio_trials}


def test_resume_after_a_kill_redoes_no_finished_work(tmp_path):
    cost, pref, plan = strategy(1800)
    full, _ = run(plan, cost, pref, run_dir=tmp_path / "full")
    lines = (tmp_path / "full" / "journal.jsonl").read_text().splitlines()
    cut = len(lines) // 2                                 # the process died here
    killed = tmp_path / "killed"
    killed.mkdir()
    (killed / "journal.jsonl").write_text("\n".join(lines[:cut]) + "\n")
    before = [json.loads(x) for x in lines[:cut]]
    last = {}
    for e in before:                                      # what the checkpoints held at the kill
        if e["event"] == "reported":
            last[e["trial_id"]] = e["result"]["resource"]
    for tid, r in last.items():
        ck = killed / "trials" / f"trial_{tid:05d}"
        ck.mkdir(parents=True, exist_ok=True)
        (ck / "sim_checkpoint.json").write_text(json.dumps({"resource": r}))
    for e in before:                                      # journal paths point at the killed run
        if "checkpoint_dir" in e:
            e["checkpoint_dir"] = e["checkpoint_dir"].replace(str(tmp_path / "full"), str(killed))
    (killed / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in before))
    resumed, sched = run(plan, cost, pref, run_dir=killed, resume=True)
    after = read_journal(killed / "journal.jsonl")[cut:]
    started_before = {e["trial_id"] for e in before if e["event"] == "started"}
    assert not [e for e in after if e["event"] == "started" and e["trial_id"] in started_before]
    seen = {}
    for e in before + after:                              # no epoch of any trial trained twice
        if e["event"] == "reported":
            key = (e["trial_id"], e["result"]["resource"])
            assert key not in seen
            seen[key] = True
    assert resumed.best is not None and resumed.best.resource == sched.max_resource
    assert resumed.spent_s <= plan.search_s + 1e-6
    assert resumed.best.metric >= full.best.metric - 0.02
    shutil.rmtree(tmp_path / "full")


def test_refit_is_planned_only_when_it_fits_beside_the_search():
    cost, pref, short = strategy(600)
    assert short.refit_s == 0 and "no refit" in short.describe()
    cost, pref, long = strategy(7200)
    assert long.refit_s > 0 and "refit the best config" in long.describe()
    assert long.search_s + long.refit_s <= 7200 - long.reserve_s + 1e-6
    assert long.refit_s <= 0.2 * (long.search_s + long.refit_s)


@pytest.mark.parametrize("slowdown", [1.6, 0.6])
def test_rest_is_replanned_from_measured_epoch_times(slowdown):
    """Epochs slower (or faster) than the measured speeds promised: the best survivor still
    finishes a full schedule within the budget, shorter (or longer) than at the promised speed,
    and that schedule gets at least half of the time left at the switch."""
    from autopreset.pipeline._strategy import EXPLOIT_MIN_SHARE

    for budget in (600, 1800):
        cost, pref, plan = strategy(budget)
        _, as_measured = run(plan, cost, pref)
        result, sched = run(plan, cost, pref, slowdown=slowdown)
        assert sched.replanned is not None
        before, after = sched.replanned["max_resource"]
        assert before == plan.max_resource
        expected = as_measured.replanned["max_resource"][1]
        assert after < expected if slowdown > 1 else after >= expected
        assert result.spent_s <= plan.search_s + 1e-6
        assert result.best.resource == sched.max_resource == after
        if after < int(1.5 * before):              # not held back by the cap
            rp = sched.replanned                   # the lead continues from the portfolio's top rung
            lead_s = rp["epoch_s"] * (after - plan.portfolio_top)
            assert lead_s >= EXPLOIT_MIN_SHARE * rp["left_s"] - rp["epoch_s"] - plan.job_s


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
            assert json.loads((Path(t.checkpoint_dir) / "checkpoint.json").read_text())["weights_dropped"]
