"""The tuner: deadline, failures, resume from the journal, carried trials."""
import json
import math
import time
from pathlib import Path

import pytest

from autopreset.executors import LocalExecutor
from autopreset.schedulers import ASHA, FIFO, Hyperband, SuccessiveHalving
from autopreset.simulator import SimulatedExecutor, SyneTuneCurves, TabularBenchmark
from autopreset.space import Float
from autopreset.tuner import CarriedTrial, Tuner


class LoggedCurves(SyneTuneCurves):
    """The benchmark as an objective that logs each unit it trains (to detect retraining)."""

    def __call__(self, config, reporter):
        orig = reporter.report
        log = Path(reporter.checkpoint_dir) / "units.txt"

        def report(resource, metric, **extra):
            with open(log, "a") as f:
                f.write(f"{resource}\n")
            return orig(resource=resource, metric=metric, **extra)

        reporter.report = report
        super().__call__(config, reporter)


def units(trial):
    path = Path(trial.checkpoint_dir) / "units.txt"
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def flaky(config, reporter):
    """Fails in three ways depending on the config."""
    if config["x"] < 0.2:
        raise RuntimeError("boom")
    for r in range(1, reporter.target_resource + 1):
        metric = math.nan if config["x"] > 0.8 and r == 2 else config["x"] + 1.0 / r
        if not reporter.report(resource=r, metric=metric):
            return


def sleepy(config, reporter):
    """Reports every 0.1 s; for x > 0.5 it ignores the stop and sleeps on (must be killed)."""
    r = 0
    while True:
        r += 1
        time.sleep(0.1)
        go = reporter.report(resource=r, metric=config["x"] + 1.0 / r)
        if not go and config["x"] <= 0.5:
            return
        if not go:
            time.sleep(3600)


def test_deadline_on_the_simulated_clock_with_trials_longer_than_the_budget():
    rows = [{"config": {}, "metrics": [1.0 / (i + 1) + k * 0.01 for i in range(50)], "seconds": 400.0}
            for k in range(20)]
    bench = TabularBenchmark(rows)
    for workers in (1, 4):
        r = Tuner(bench, FIFO(space=bench.space, max_resource=50, random_state=0),
                  executor=SimulatedExecutor(workers), budget_s=1000).run()
        assert r.deadline_hit and r.spent_s <= 1000 * 1.02 + 1
        assert all(t.status == "interrupted" for t in r.trials) and len(r.trials) == workers
        assert r.best.resource == 2   # the best found so far: 2 units of 400 s fit in 1000 s


def test_deadline_budget_is_spent_fully_and_not_exceeded():
    bench = SyneTuneCurves(max_resource=27, seconds_per_unit=7.3)
    for sched in (ASHA(space=bench.space, max_resource=27, random_state=0),
                  Hyperband(space=bench.space, max_resource=27, random_state=0)):
        r = Tuner(bench, sched, executor=SimulatedExecutor(3), budget_s=5000).run()
        assert 5000 - 7.3 <= r.spent_s <= 5000 * 1.02 + 1
        last = max(x["time"] for t in r.trials for x in t.results)
        assert last <= 5000


def test_real_deadline_holds_against_trials_that_ignore_stop(tmp_path):
    space = {"x": Float(0.0, 1.0)}
    t0 = time.monotonic()
    r = Tuner(sleepy, FIFO(space=space, max_resource=1000, random_state=1), executor=LocalExecutor(2),
              budget_s=3.0, run_dir=tmp_path).run()
    elapsed = time.monotonic() - t0
    assert elapsed <= 3.0 * 1.02 + 1, elapsed
    assert r.deadline_hit and r.best is not None and r.best.resource >= 3
    assert {t.status for t in r.trials} <= {"interrupted", "completed"}
    killed = [t for t in r.trials if t.reason and "killed" in t.reason]
    assert killed or all(t.config["x"] <= 0.5 for t in r.trials)


def test_failures_are_recorded_and_the_search_goes_on(tmp_path):
    space = {"x": Float(0.0, 1.0)}
    r = Tuner(flaky, FIFO(space=space, max_resource=3, max_trials=30, random_state=0),
              run_dir=tmp_path).run()
    failed = [t for t in r.trials if t.status == "failed"]
    reasons = {("boom" in t.reason) or ("nan" in t.reason) for t in failed}
    assert len(r.trials) == 30 and failed and reasons == {True}
    assert any("RuntimeError: boom" in t.reason for t in failed)
    assert any("metric is nan at resource 2" in t.reason for t in failed)
    assert r.best.status == "completed" and 0.2 <= r.best.config["x"] <= 0.8
    events = [json.loads(x) for x in (tmp_path / "journal.jsonl").read_text().splitlines()]
    assert sum(e["event"] == "failed" for e in events) == len(failed)


class Interrupt(BaseException):
    pass


def _interrupt_after(n=None, when=None):
    seen = []

    def on_event(e):
        seen.append(e)
        if len(seen) == n or (when is not None and when(e)):
            raise Interrupt

    return on_event


def test_resume_after_a_crash_replays_exactly_and_never_redoes_work(tmp_path):
    bench = LoggedCurves(max_resource=9)

    def scheduler():
        return SuccessiveHalving(space=bench.space, max_resource=9, n_configs=9, n_brackets=2, random_state=4)

    ref = Tuner(bench, scheduler(), run_dir=tmp_path / "ref").run()
    mid = lambda e: e["event"] == "reported" and e["result"]["resource"] == 6   # inside the 3 -> 9 promotion
    with pytest.raises(Interrupt):
        Tuner(bench, scheduler(), run_dir=tmp_path / "run", on_event=_interrupt_after(when=mid)).run()
    with pytest.raises(ValueError, match="resume=True"):
        Tuner(bench, scheduler(), run_dir=tmp_path / "run").run()
    events = []
    res = Tuner(bench, scheduler(), run_dir=tmp_path / "run", resume=True, on_event=events.append).run()
    strip = lambda t: (t.config, [(x["resource"], x["metric"]) for x in t.results], t.status)
    assert [strip(t) for t in res.trials] == [strip(t) for t in ref.trials]
    assert res.best.trial_id == ref.best.trial_id
    assert any(e["event"] == "relaunched" for e in events)
    relaunched = [e["trial_id"] for e in events if e["event"] == "relaunched"]
    for t in res.trials:   # each unit trained once, except the segment lost in flight at the crash
        u = units(t)
        assert set(u) == set(range(1, t.resource + 1))
        if t.trial_id in relaunched:
            assert sorted(u) == [1, 2, 3, 4, 4, 5, 5, 6, 6, 7, 8, 9]
        else:
            assert len(u) == len(set(u))


def test_resume_continues_the_budget_ledger(tmp_path):
    bench = SyneTuneCurves(max_resource=9, seconds_per_unit=10.0)
    mk = lambda: ASHA(space=bench.space, max_resource=9, random_state=0)
    with pytest.raises(Interrupt):
        Tuner(bench, mk(), executor=SimulatedExecutor(2), run_dir=tmp_path, budget_s=1000,
              on_event=_interrupt_after(60)).run()
    spent = max(json.loads(x)["spent"] for x in (tmp_path / "journal.jsonl").read_text().splitlines())
    assert 0 < spent < 1000
    r = Tuner(bench, mk(), executor=SimulatedExecutor(2), run_dir=tmp_path, budget_s=1000, resume=True).run()
    assert r.spent_s == pytest.approx(1000, abs=10)   # the second session only got what was left


def test_carried_trial_is_promoted_and_continues_from_its_checkpoint(tmp_path):
    bench = LoggedCurves(max_resource=9)
    ckpt = tmp_path / "old_trial"
    ckpt.mkdir()
    (ckpt / "sim_checkpoint.json").write_text(json.dumps({"resource": 3}))
    best = {"width": 20.0, "height": -100.0}
    metrics, _ = bench.curve(best)
    carried = CarriedTrial(best, [{"resource": r, "metric": float(metrics[r - 1])} for r in (1, 2, 3)], str(ckpt))
    for sched in (Hyperband(space=bench.space, max_resource=9, n_brackets=1, random_state=0),
                  ASHA(space=bench.space, max_resource=9, random_state=0)):
        (ckpt / "sim_checkpoint.json").write_text(json.dumps({"resource": 3}))
        (ckpt / "units.txt").unlink(missing_ok=True)
        run_dir = tmp_path / type(sched).__name__
        r = Tuner(bench, sched, run_dir=run_dir, budget_s=None if isinstance(sched, Hyperband) else 1.0,
                  carry=[carried]).run()
        t0 = r.trials[0]
        assert t0.carried and t0.checkpoint_dir == str(ckpt)
        assert t0.resource == 9 and r.best.trial_id == 0
        assert units(t0) == list(range(4, 10))   # continued at 4, never retrained 1..3
        # and the carried trial survives a resume of the run
        r2 = Tuner(bench, type(sched)(space=bench.space, max_resource=9, random_state=0), run_dir=run_dir,
                   resume=True, budget_s=0.1, carry=[carried]).run()
        assert sum(t.carried for t in r2.trials) == 1


def test_bad_tuner_arguments():
    bench = SyneTuneCurves()
    sched = FIFO(space=bench.space, max_resource=9)
    with pytest.raises(ValueError, match="budget_s"):
        Tuner(bench, sched, budget_s=0)
    with pytest.raises(ValueError, match="run_dir"):
        Tuner(bench, sched, resume=True)
    with pytest.raises(ValueError, match="callable"):
        Tuner("train.py", sched)


def test_a_scheduler_may_not_resume_a_trial_it_retired():
    class Forgetful(SuccessiveHalving):
        def may_resume(self, trial):
            return False          # wrong: its promoted trials are resumed

    bench = SyneTuneCurves(max_resource=9)
    sched = Forgetful(space=bench.space, max_resource=9, n_configs=9, random_state=0)
    with pytest.raises(RuntimeError, match="it had retired"):
        Tuner(bench, sched, executor=SimulatedExecutor(1), on_retire=lambda t: None).run()


def test_a_resumed_run_retires_again_what_its_journal_retired(tmp_path):
    bench = SyneTuneCurves(max_resource=9, seconds_per_unit=10.0)
    mk = lambda: Hyperband(space=bench.space, max_resource=9, random_state=0)
    before, after = [], []
    with pytest.raises(Interrupt):
        Tuner(bench, mk(), executor=SimulatedExecutor(2), run_dir=tmp_path, budget_s=2000,
              on_event=_interrupt_after(80), on_retire=lambda t: before.append(t.trial_id)).run()
    Tuner(bench, mk(), executor=SimulatedExecutor(2), run_dir=tmp_path, budget_s=2000, resume=True,
          on_event=lambda e: after.append(e["event"]),
          on_retire=lambda t: after.append(t.trial_id)).run()
    first_job = next(i for i, x in enumerate(after) if x in ("started", "resumed", "relaunched"))
    assert before and set(before) <= set(after[:first_job])   # again, before any job runs
    retired = [x for x in after if isinstance(x, int)]
    assert len(retired) == len(set(retired)) > len(before)    # once per trial, then more
