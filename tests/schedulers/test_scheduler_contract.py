"""Contract tests run against every scheduler on synthetic curves (Syne Tune's test metric)."""
import json

import pytest

import autopreset.schedulers as schedulers
from autopreset.executors import InlineExecutor
from autopreset.schedulers import CONTINUE, FIFO, PAUSE, SCHEDULERS, STOP
from autopreset.simulator import SimulatedExecutor, SyneTuneCurves
from autopreset.tuner import Tuner
from conftest import portfolio_plan

R = 27


def _check_events(events, max_resource, retired=None):
    """Legal decisions only; each job continues its trial's curve; resumes only paused trials,
    never one that was retired (``retired`` collects those)."""
    status, last_r, target = {}, {}, {}
    retired = set() if retired is None else retired
    for e in events:
        kind, tid = e["event"], e.get("trial_id")
        if kind == "started":
            assert tid not in status
            status[tid], last_r[tid], target[tid] = "running", 0, e["target_resource"]
        elif kind == "resumed":
            assert status[tid] == "paused", f"trial {tid} resumed while {status[tid]}"
            assert tid not in retired, f"trial {tid} resumed after it was retired"
            assert e["target_resource"] > last_r[tid]
            status[tid], target[tid] = "running", e["target_resource"]
        elif kind == "reported":
            assert status[tid] == "running"
            r = e["result"]["resource"]
            assert r == last_r[tid] + 1, f"trial {tid} reported {r} after {last_r[tid]}: not continued"
            assert r <= target[tid] <= max_resource
            assert e["decision"] in (CONTINUE, PAUSE, STOP)
            if e["decision"] == PAUSE:
                assert r < max_resource
            last_r[tid] = r
        elif kind in ("paused", "completed", "stopped", "failed", "interrupted"):
            assert status[tid] == "running"
            status[tid] = kind
            if kind == "paused":
                assert last_r[tid] < max_resource
            if kind == "completed":
                assert last_r[tid] == max_resource
        elif kind == "retired":
            assert tid not in retired and status[tid] in ("paused", "completed", "stopped", "failed")
            retired.add(tid)
    return status


@pytest.mark.parametrize("workers", [1, 3])
def test_scheduler_contract_on_the_simulator(make_scheduler, workers):
    bench = SyneTuneCurves(max_resource=R)
    events = []
    result = Tuner(bench, make_scheduler(bench.space, 0), executor=SimulatedExecutor(workers),
                   budget_s=150, on_event=events.append).run()
    status = _check_events(events, R)
    assert result.spent_s <= 150 * 1.02
    assert len(result.trials) >= 5
    assert {t.trial_id: t.status for t in result.trials} == status
    done = [t for t in result.trials if t.resource == R]
    assert done, "no trial reached max_resource"
    assert result.best.metric == min(t.metric for t in done)
    if workers > 1:   # the simulated workers really ran side by side
        starts = [e["spent"] for e in events if e["event"] == "started"]
        assert starts[:workers] == [0.0] * workers


class CountingCurves(SyneTuneCurves):
    """The benchmark as a real objective, logging every unit it trains to its checkpoint folder."""

    def __call__(self, config, reporter):
        import pathlib
        log = pathlib.Path(reporter.checkpoint_dir) / "units.jsonl"
        orig = reporter.report

        def report(resource, metric, **extra):
            with open(log, "a") as f:
                f.write(json.dumps(resource) + "\n")
            return orig(resource=resource, metric=metric, **extra)

        reporter.report = report
        super().__call__(config, reporter)


@pytest.mark.parametrize("workers", [1, 3])
def test_retired_trials_are_never_resumed(make_scheduler, workers):
    """``on_retire`` comes once per trial, after its job ended, when it is finished or the
    scheduler will not resume it; successive halving retires the trials a rung did not promote."""
    bench = SyneTuneCurves(max_resource=R)
    events = []
    scheduler = make_scheduler(bench.space, 0)
    result = Tuner(bench, scheduler, executor=SimulatedExecutor(workers), budget_s=300,
                   on_event=events.append,
                   on_retire=lambda t: events.append({"event": "retired", "trial_id": t.trial_id})).run()
    retired = set()
    _check_events(events, R, retired)
    by_id = {t.trial_id: t for t in result.trials}
    assert {tid for tid in retired if by_id[tid].status != "paused"}, "no finished trial was retired"
    for tid in retired:
        assert by_id[tid].status in ("paused", "completed", "stopped", "failed")
    paused_retired = {tid for tid in retired if by_id[tid].status == "paused"}
    if type(scheduler).__name__ in ("SuccessiveHalving", "Hyperband", "PortfolioHyperband"):
        assert paused_retired, "no trial left behind by a decided rung was retired"
    else:   # FIFO never pauses its own trials; ASHA may promote any paused trial later
        assert not paused_retired
    for tid in paused_retired:
        assert not scheduler.may_resume(by_id[tid])


def test_promotions_continue_from_checkpoints_with_a_real_objective(make_scheduler, tmp_path):
    bench = CountingCurves(max_resource=9)
    result = Tuner(bench, make_scheduler(bench.space, 1, R=9), executor=InlineExecutor(),
                   run_dir=tmp_path, budget_s=1.0).run()
    promoted = 0
    for t in result.trials:
        units = [json.loads(x) for x in (tmp_path / "trials" / f"trial_{t.trial_id:05d}" / "units.jsonl").read_text().split()]
        assert units == list(range(1, t.resource + 1)), f"trial {t.trial_id} retrained: {units}"
        promoted += any(e > 1 for e in units) and t.resource > 1
    assert promoted >= 1


def test_same_seed_same_run(make_scheduler):
    bench = SyneTuneCurves(max_resource=R)
    runs = [Tuner(bench, make_scheduler(bench.space, 3), executor=SimulatedExecutor(2), budget_s=100).run()
            for _ in range(2)]
    assert [(t.config, t.results) for t in runs[0].trials] == [(t.config, t.results) for t in runs[1].trials]


# what each registered scheduler needs besides space, mode and random_state
REGISTERED_KWARGS = {
    "fifo": lambda space: {"max_resource": R}, "hyperband": lambda space: {"max_resource": R},
    "successive_halving": lambda space: {"max_resource": R, "n_configs": 9},
    "asha": lambda space: {"max_resource": R}, "curve_stopping": lambda space: {"max_resource": R},
    "portfolio_hyperband": lambda space: {"plan": portfolio_plan(space, 0)},
}


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_every_registered_scheduler_builds_by_name_and_runs(name):
    assert name in REGISTERED_KWARGS, f"scheduler {name!r} is registered: say here what it needs"
    bench = SyneTuneCurves(max_resource=R)
    scheduler = schedulers.make_scheduler(name, space=bench.space, mode="min", random_state=0,
                                          **REGISTERED_KWARGS[name](bench.space))
    assert isinstance(scheduler, schedulers.TrialScheduler)
    events = []
    result = Tuner(bench, scheduler, executor=SimulatedExecutor(2), budget_s=100, on_event=events.append).run()
    _check_events(events, R)
    assert any(t.resource == R for t in result.trials)


def test_make_scheduler_builds_a_named_searcher_and_rejects_unknown_names():
    bench = SyneTuneCurves(max_resource=9)
    s = schedulers.make_scheduler("hyperband", space=bench.space, searcher="annealing", max_resource=9,
                                  random_state=0)
    assert type(s.searcher).__name__ == "AnnealingSearcher" and s.searcher.mode == "min"
    with pytest.raises(ValueError, match="unknown scheduler 'median'.*asha"):
        schedulers.make_scheduler("median", space=bench.space, max_resource=9)
    with pytest.raises(ValueError, match="needs the space"):
        schedulers.make_scheduler("asha", searcher="random", max_resource=9)


def test_register_scheduler_adds_a_name():
    class CappedFIFO(FIFO):
        """FIFO with at most three trials."""

        def __init__(self, **kw):
            super().__init__(max_trials=3, **kw)

    schedulers.register_scheduler("capped_fifo_for_tests", CappedFIFO, replace=True)
    assert SCHEDULERS["capped_fifo_for_tests"] is CappedFIFO
    bench = SyneTuneCurves(max_resource=3)
    s = schedulers.make_scheduler("capped_fifo_for_tests", space=bench.space, max_resource=3)
    assert len(Tuner(bench, s, executor=SimulatedExecutor(1), budget_s=100).run().trials) == 3
    with pytest.raises(ValueError, match="already registered.*replace=True"):
        schedulers.register_scheduler("capped_fifo_for_tests", CappedFIFO)
    with pytest.raises(ValueError, match="'asha' is already registered$"):
        schedulers.register_scheduler("asha", CappedFIFO, replace=True)
    with pytest.raises(ValueError, match="identifier"):
        schedulers.register_scheduler("my scheduler", CappedFIFO)
    schedulers.register_scheduler("not_a_scheduler_for_tests", lambda **kw: object(), replace=True)
    with pytest.raises(ValueError, match="built a object, not a TrialScheduler"):
        schedulers.make_scheduler("not_a_scheduler_for_tests")
