"""Schedulers fed reports by hand, with no tuner and no model (as Optuna tests its pruners)."""
import numpy as np
import pytest

from autopreset.schedulers import ASHA, CONTINUE, PAUSE, STOP, CurveStopping, FIFO, SuccessiveHalving, Trial
from autopreset.space import Float

SPACE = {"x": Float(0.0, 1.0)}


def _start(s, tid):
    job = s.suggest(tid)
    assert job is not None and not job.resume and job.trial_id == tid
    return Trial(tid, job.config, target_resource=job.target_resource), job


def _report(s, trial, resource, metric):
    result = {"resource": resource, "metric": metric}
    trial.results.append(result)
    return s.on_trial_result(trial, result)


def test_asha_promotes_the_top_third_of_a_rung_asynchronously():
    s = ASHA(space=SPACE, max_resource=9, eta=3, random_state=0)
    assert s.rung_levels == [1, 3, 9]
    trials = []
    for tid, metric in enumerate([3.0, 1.0, 2.0]):
        trial, job = _start(s, tid)
        assert job.target_resource == 1
        assert _report(s, trial, 1, metric) == PAUSE
        trial.status = "paused"
        trials.append(trial)
    job = s.suggest(3)
    assert job.resume and job.trial_id == 1 and job.target_resource == 3   # the best of three
    job = s.suggest(3)
    assert not job.resume and job.trial_id == 3   # nothing else promotable: a new config
    trials[1].status = "running"
    assert _report(s, trials[1], 2, 0.9) == CONTINUE
    assert _report(s, trials[1], 3, 0.8) == PAUSE


def test_asha_does_not_promote_a_trial_still_running():
    s = ASHA(space=SPACE, max_resource=9, eta=3, random_state=0)
    for tid, metric in enumerate([3.0, 1.0, 2.0]):
        trial, _ = _start(s, tid)
        _report(s, trial, 1, metric)
        trial.status = "running" if tid == 1 else "paused"   # trial 1 is still saving its checkpoint
    job = s.suggest(3)
    assert not job.resume


def test_sh_waits_for_the_whole_rung_then_promotes_the_best_third():
    s = SuccessiveHalving(space=SPACE, max_resource=9, n_configs=9, eta=3, n_brackets=1, random_state=0)
    trials = [_start(s, tid)[0] for tid in range(9)]
    assert s.suggest(9) is None   # all of rung 0 handed out; the bracket waits
    metrics = [5, 3, 8, 1, 9, 2, 7, 6, 4]
    for t, m in zip(trials[:-1], metrics[:-1]):
        assert _report(s, t, 1, float(m)) == PAUSE
        t.status = "paused"
        assert s.suggest(9) is None   # synchronous: no promotion before the last result
    s.on_trial_error(trials[-1])   # the ninth fails: it counts, never promoted
    trials[-1].status = "failed"
    promoted = [s.suggest(9) for _ in range(3)]
    assert [p.trial_id for p in promoted] == [3, 5, 1] and all(p.resume and p.target_resource == 3 for p in promoted)
    assert s.suggest(9) is None
    for p, m in zip(promoted, [0.5, 0.7, 0.6]):
        trials[p.trial_id].status = "running"
        assert _report(s, trials[p.trial_id], 3, m) == PAUSE
        trials[p.trial_id].status = "paused"
    final = s.suggest(9)
    assert final.trial_id == 3 and final.target_resource == 9
    trials[3].status = "running"
    assert _report(s, trials[3], 9, 0.1) == CONTINUE
    assert s.suggest(9) is None   # n_brackets=1: done


def test_curve_stopping_stops_a_hopeless_curve_and_keeps_a_promising_one():
    s = CurveStopping(space=SPACE, max_resource=32, grace=4, random_state=0)
    assert s.checkpoints == [4, 8, 16]
    r = np.arange(1, 33)
    best, _ = _start(s, 0)
    for i in r:   # the incumbent: ends at 0.20
        d = _report(s, best, int(i), float(0.2 + 0.6 / i))
    assert d == CONTINUE
    bad, _ = _start(s, 1)
    decisions = [_report(s, bad, int(i), float(0.6 + 0.3 / i)) for i in r[:4]]
    assert decisions[-1] == STOP   # plateaus near 0.6 >> 0.2
    good, _ = _start(s, 2)
    decisions = [_report(s, good, int(i), float(0.05 + 0.6 / i)) for i in r[:8]]
    assert STOP not in decisions


def test_curve_stopping_needs_an_incumbent_before_stopping():
    s = CurveStopping(space=SPACE, max_resource=32, grace=4, random_state=0)
    t, _ = _start(s, 0)
    assert all(_report(s, t, i, 0.9) == CONTINUE for i in range(1, 32))


def test_fifo_caps_trials_and_resumes_carried_first():
    s = FIFO(space=SPACE, max_resource=5, max_trials=2, random_state=0)
    carried = Trial(0, {"x": 0.5}, results=[{"resource": 2, "metric": 0.3}], status="paused", carried=True)
    s.on_trial_add(carried)
    job = s.suggest(1)
    assert job.resume and job.trial_id == 0 and job.target_resource == 5
    assert not s.suggest(1).resume and not s.suggest(2).resume
    assert s.suggest(3) is None


@pytest.mark.parametrize("kwargs", [dict(max_resource=0), dict(max_resource=9, mode="best"),
                                    dict(max_resource=9, random_state="x")])
def test_bad_arguments_are_value_errors(kwargs):
    with pytest.raises(ValueError):
        ASHA(space=SPACE, **kwargs)


def test_searcher_mode_must_match():
    from autopreset.searchers import RandomSearcher
    with pytest.raises(ValueError, match="mode"):
        FIFO(searcher=RandomSearcher(SPACE, mode="max"), mode="min", max_resource=3)
