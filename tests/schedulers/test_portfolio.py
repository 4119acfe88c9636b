"""PortfolioHyperband (portfolio successive halving, narrowing, then Hyperband/ASHA) on replayed
curves and a simulated clock, with the plans fit makes: no training, seconds to run."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from autopreset.journal import read_journal
from autopreset.schedulers import HyperbandPlan, PortfolioHyperband, PortfolioPlan, plan_hyperband
from autopreset.simulator import SimulatedExecutor
from autopreset.tuner import Tuner
from portfolio_sim import JOB_S, ImageCurves, scenario


def run(space, plan, allowed, workers=1, run_dir=None, resume=False, seed=0, slowdown=1.0, **options):
    sched = PortfolioHyperband(space=space, plan=plan, allowed=allowed, mode="max", random_state=seed,
                               **options)
    bench = ImageCurves(space, max_resource=int(1.5 * plan.max_resource), slowdown=slowdown)
    tuner = Tuner(bench, sched, executor=SimulatedExecutor(workers, overhead_s=JOB_S),
                  budget_s=plan.search_s, run_dir=run_dir, resume=resume, seed=seed)
    return tuner.run(), sched


@pytest.mark.parametrize("budget_s,workers", [(600, 1), (600, 2), (3600, 1), (3600, 4)])
def test_budget_is_respected_and_used(budget_s, workers):
    space, plan, allowed = scenario(budget_s, workers)
    result, sched = run(space, plan, allowed, workers)
    assert result.spent_s <= plan.search_s + 1e-6
    last = max(r["time"] for t in result.trials for r in t.results)
    assert last >= 0.9 * plan.search_s             # the budget is used, not left idle
    assert result.best.resource == sched.max_resource  # the chosen model finished its schedule
    assert sched.phase in ("hyperband", "asha", "continue")
    if plan.hyperband is not None:
        assert len(result.trials) > len(plan.portfolio)


def test_one_config_plan_trains_it_for_all_it_can():
    space, plan, allowed = scenario(40)
    assert len(plan.portfolio) == 1 and plan.hyperband is None
    assert plan.portfolio_rungs == ((1, plan.max_resource),)
    result, sched = run(space, plan, allowed)
    assert len(result.trials) == 1 and result.best.resource == plan.max_resource
    assert sched.phase == "done"


@pytest.mark.parametrize("prefer", ["latency", "balanced", "accuracy"])
def test_every_trial_uses_an_allowed_backbone(prefer):
    space, plan, allowed = scenario(1800, prefer=prefer)
    result, _ = run(space, plan, allowed)
    assert {t.config["backbone"] for t in result.trials} <= allowed


def test_portfolio_survivors_continue_from_their_checkpoints(tmp_path):
    space, plan, allowed = scenario(1800)
    result, sched = run(space, plan, allowed, run_dir=tmp_path)
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
    ids = sched.portfolio_trial_ids
    assert len(ids) == len(plan.portfolio)
    hb_backbones = {t.config["backbone"] for t in result.trials if t.trial_id not in ids}
    assert hb_backbones <= {t.config["backbone"] for t in result.trials if t.trial_id in ids}


def _cut_journal(full: Path, killed: Path) -> list[dict]:
    """The first half of ``full``'s journal in ``killed``, with the checkpoints the trials held
    at the kill; the events kept."""
    lines = (full / "journal.jsonl").read_text().splitlines()
    before = [json.loads(x) for x in lines[:len(lines) // 2]]
    killed.mkdir()
    last = {}
    for e in before:
        if e["event"] == "reported":
            last[e["trial_id"]] = e["result"]["resource"]
    for tid, r in last.items():
        ck = killed / "trials" / f"trial_{tid:05d}"
        ck.mkdir(parents=True, exist_ok=True)
        (ck / "sim_checkpoint.json").write_text(json.dumps({"resource": r}))
    for e in before:                                      # journal paths point at the killed run
        if "checkpoint_dir" in e:
            e["checkpoint_dir"] = e["checkpoint_dir"].replace(str(full), str(killed))
    (killed / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in before))
    return before


def test_resume_after_a_kill_redoes_no_finished_work(tmp_path):
    space, plan, allowed = scenario(1800)
    full, _ = run(space, plan, allowed, run_dir=tmp_path / "full")
    before = _cut_journal(tmp_path / "full", tmp_path / "killed")
    resumed, sched = run(space, plan, allowed, run_dir=tmp_path / "killed", resume=True)
    after = read_journal(tmp_path / "killed" / "journal.jsonl")[len(before):]
    started_before = {e["trial_id"] for e in before if e["event"] == "started"}
    assert not [e for e in after if e["event"] == "started" and e["trial_id"] in started_before]
    seen = set()
    for e in before + after:                              # no epoch of any trial trained twice
        if e["event"] == "reported":
            key = (e["trial_id"], e["result"]["resource"])
            assert key not in seen
            seen.add(key)
    assert resumed.best is not None and resumed.best.resource == sched.max_resource
    assert resumed.spent_s <= plan.search_s + 1e-6
    assert resumed.best.metric >= full.best.metric - 0.02
    shutil.rmtree(tmp_path / "full")


@pytest.mark.parametrize("slowdown", [1.6, 0.6])
def test_rest_is_replanned_from_measured_epoch_times(slowdown):
    """Epochs slower (or faster) than the plan's speeds promised: the best survivor still
    finishes a full schedule within the budget, shorter (or longer) than at the promised speed,
    and that schedule gets at least EXPLOIT_MIN_SHARE of the time left at the switch."""
    for budget in (600, 1800):
        space, plan, allowed = scenario(budget)
        _, as_measured = run(space, plan, allowed)
        result, sched = run(space, plan, allowed, slowdown=slowdown)
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
            assert lead_s >= PortfolioHyperband.EXPLOIT_MIN_SHARE * rp["left_s"] - rp["epoch_s"] - plan.job_s


def test_same_seed_same_run():
    space, plan, allowed = scenario(1800, 2)
    a, b = (run(space, plan, allowed, workers=2, seed=3)[0] for _ in range(2))
    assert [(t.config, t.results) for t in a.trials] == [(t.config, t.results) for t in b.trials]


def test_plan_json_round_trip():
    for key in [(600, 1), (3600, 4), (40, 1)]:
        _, plan, _ = scenario(*key)
        again = PortfolioPlan.from_json(json.loads(json.dumps(plan.to_json())))
        assert again == plan
        assert again.portfolio_top == plan.portfolio_rungs[-1][1]
    hb = plan_hyperband(600, cost_model=2.0, max_resource=9)
    assert HyperbandPlan.from_json(json.loads(json.dumps(hb.to_json()))) == hb


def test_plan_checks_its_fields():
    good = dict(portfolio=[{"x": 1}], portfolio_rungs=[[3, 1], [1, 3]], max_resource=9, search_s=60.0)
    assert PortfolioPlan(**good).portfolio_rungs == ((3, 1), (1, 3))
    for change, message in [({"portfolio": []}, "portfolio"), ({"portfolio_rungs": [[3, 3], [1, 1]]}, "rising"),
                            ({"search_s": 0}, "search_s"), ({"eta": 1}, "eta"),
                            ({"hyperband": {"brackets": []}}, "HyperbandPlan"), ({"max_resource": 0}, "max_resource")]:
        with pytest.raises(ValueError, match=message):
            PortfolioPlan(**{**good, **change})
    with pytest.raises(ValueError, match="unknown key 'tiers'"):
        PortfolioPlan.from_json({**PortfolioPlan(**good).to_json(), "tiers": {}})
    with pytest.raises(ValueError, match="PortfolioPlan"):
        PortfolioHyperband(space={"x": 1}, plan=good)


def test_constants_join_the_space_and_leave_the_portfolio():
    space, plan, allowed = scenario(600)
    fixed = PortfolioPlan.from_json({**plan.to_json(), "constants": {"crop_scale": 0.4, "lr": 1.0}})
    result, sched = run(space, fixed, allowed)
    assert sched.space["crop_scale"] == 0.4 and sched.space["lr"] == space["lr"]   # the space wins
    assert all(t.config["crop_scale"] == 0.4 for t in result.trials)


# ---------------------------------------------------------------------------- options after the switch

def _runs(result):
    return [(t.config, t.results, t.status) for t in result.trials]


def test_the_options_default_to_fits_search():
    space, plan, allowed = scenario(1800)
    sched = PortfolioHyperband(space=space, plan=plan, allowed=allowed)
    assert (sched.proposals, sched.inner_kind, sched.max_resource_cap) == ("random", "hyperband", None)
    assert repr(sched) == (f"PortfolioHyperband(mode='max', max_resource={plan.max_resource}, "
                           f"portfolio={len(plan.portfolio)}, hyperband=True)")
    plain, _ = run(space, plan, allowed)
    explicit, sched = run(space, plan, allowed, proposals="random", inner="hyperband", max_resource_cap=None)
    assert _runs(explicit) == _runs(plain)
    assert type(sched.inner.searcher).__name__ == "RandomSearcher"


@pytest.mark.parametrize("proposals,searcher", [("bayesopt_forest", "BayesOptSearcher"),
                                                ("evolution", "EvolutionSearcher")])
def test_other_proposals_search_the_narrowed_space_and_learn_from_the_survivors(proposals, searcher):
    space, plan, allowed = scenario(1800)
    result, sched = run(space, plan, allowed, proposals=proposals)
    assert sched.phase == "hyperband" and type(sched.inner.searcher).__name__ == searcher
    assert result.spent_s <= plan.search_s + 1e-6
    assert result.best.resource == sched.max_resource
    ids = sched.portfolio_trial_ids
    new = [t for t in result.trials if t.trial_id not in ids]
    assert new and {t.config["backbone"] for t in new} <= {t.config["backbone"] for t in sched.survivors[:3]} | \
        set(sched.narrowed["backbone"].choices if hasattr(sched.narrowed["backbone"], "choices")
            else [sched.narrowed["backbone"]])
    seen = sched.inner.searcher.history
    survivor_ids = {t.trial_id for t in sched.survivors}
    assert sched.exploit.trial_id in survivor_ids
    # the survivors' portfolio results and the best survivor's whole schedule are observations
    assert any(o.resource == sched.max_resource and o.config["lr"] == sched.exploit.config["lr"] for o in seen)
    assert any(o.resource == plan.portfolio_top for o in seen)
    again, _ = run(space, plan, allowed, proposals=proposals)
    assert _runs(again) == _runs(result)


def test_curve_stopping_after_the_portfolio_stops_hopeless_trials_early():
    space, plan, allowed = scenario(3600)
    result, sched = run(space, plan, allowed, inner="curve_stopping")
    assert sched.phase == "curve_stopping" and type(sched.inner).__name__ == "CurveStopping"
    assert result.spent_s <= plan.search_s + 1e-6
    assert result.best.resource == sched.max_resource
    stopped = [t for t in result.trials if t.status == "stopped"]   # (the portfolio phase pauses)
    assert stopped and all(t.resource < sched.max_resource for t in stopped)
    assert any(t.trial_id not in sched.portfolio_trial_ids for t in stopped)
    # the best survivor's whole schedule is the first incumbent: trials are stopped before any
    # other trial of the phase has finished its schedule
    others = [r["time"] for t in result.trials if t.trial_id != sched.exploit.trial_id
              for r in t.results if r["resource"] >= sched.max_resource]
    first_stop = min(t.results[-1]["time"] for t in stopped)
    assert first_stop > max(r["time"] for r in sched.exploit.results)
    assert not others or first_stop < min(others)


def test_curve_stopping_resumes_after_a_kill(tmp_path):
    space, plan, allowed = scenario(1800)
    full, _ = run(space, plan, allowed, run_dir=tmp_path / "full", inner="curve_stopping")
    before = _cut_journal(tmp_path / "full", tmp_path / "killed")
    resumed, sched = run(space, plan, allowed, run_dir=tmp_path / "killed", resume=True, inner="curve_stopping")
    after = read_journal(tmp_path / "killed" / "journal.jsonl")[len(before):]
    seen = set()
    for e in before + after:                              # no epoch of any trial trained twice
        if e["event"] == "reported":
            assert (e["trial_id"], e["result"]["resource"]) not in seen
            seen.add((e["trial_id"], e["result"]["resource"]))
    assert resumed.best is not None and resumed.spent_s <= plan.search_s + 1e-6
    assert sched.phase == "curve_stopping"


def test_max_resource_cap_bounds_the_replanned_schedule():
    space, plan, allowed = scenario(1800)
    _, free = run(space, plan, allowed, slowdown=0.6)
    assert free.max_resource > plan.max_resource          # faster epochs: a longer schedule
    result, sched = run(space, plan, allowed, slowdown=0.6, max_resource_cap=plan.max_resource)
    assert sched.max_resource == plan.max_resource
    assert max(t.resource for t in result.trials) == plan.max_resource
    assert result.spent_s <= plan.search_s + 1e-6


def test_the_options_are_checked():
    space, plan, allowed = scenario(600)
    for options, message in [({"proposals": "grid"}, "proposals"), ({"proposals": "tpe"}, "proposals"),
                             ({"inner": "asha"}, "inner"), ({"max_resource_cap": 0}, "max_resource_cap"),
                             ({"max_resource_cap": plan.max_resource - 1}, "below")]:
        with pytest.raises(ValueError, match=message):
            PortfolioHyperband(space=space, plan=plan, allowed=allowed, **options)
    sched = PortfolioHyperband(space=space, plan=plan, allowed=allowed, proposals="bayesopt", inner="curve_stopping")
    assert "proposals='bayesopt', inner='curve_stopping'" in repr(sched)
