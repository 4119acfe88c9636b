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


def run(space, plan, allowed, workers=1, run_dir=None, resume=False, seed=0, slowdown=1.0):
    sched = PortfolioHyperband(space=space, plan=plan, allowed=allowed, mode="max", random_state=seed)
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
