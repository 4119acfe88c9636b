"""Contract tests run against every scheduler on synthetic curves (Syne Tune's test metric)."""
import json

import pytest

from autopreset.executors import InlineExecutor
from autopreset.schedulers import CONTINUE, PAUSE, STOP
from autopreset.simulator import SimulatedExecutor, SyneTuneCurves
from autopreset.tuner import Tuner

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
