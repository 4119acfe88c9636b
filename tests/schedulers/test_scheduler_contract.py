"""Contract tests run against every scheduler on synthetic curves (Syne Tune's test metric)."""
import json

import pytest

from autopreset.executors import InlineExecutor
from autopreset.schedulers import CONTINUE, PAUSE, STOP
from autopreset.simulator import SimulatedExecutor, SyneTuneCurves
from autopreset.tuner import Tuner

R = 27


def _check_events(events, max_resource):
    """Legal decisions only; each job continues its trial's curve; resumes only paused trials."""
    status, last_r, target = {}, {}, {}
    for e in events:
        kind, tid = e["event"], e.get("trial_id")
        if kind == "started":
            assert tid not in status
            status[tid], last_r[tid], target[tid] = "running", 0, e["target_resource"]
        elif kind == "resumed":
            assert status[tid] == "paused", f"trial {tid} resumed while {status[tid]}"
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
