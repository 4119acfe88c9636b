"""Executors behind one interface: local processes and Dask stream reports, survive crashes,
and give the same results."""
import time

import pytest

from autopreset.executors import DaskExecutor, LocalExecutor
from autopreset.executors._base import Job
from autopreset.schedulers import FIFO, SuccessiveHalving
from autopreset.simulator import SyneTuneCurves
from autopreset.space import Float
from autopreset.tuner import Tuner

from _objectives import crashy


def test_local_worker_killed_fails_only_its_trial(tmp_path):
    space = {"x": Float(0.0, 1.0)}
    r = Tuner(crashy, FIFO(space=space, max_resource=3, max_trials=8, random_state=2),
              executor=LocalExecutor(2), run_dir=tmp_path).run()
    crashed = [t for t in r.trials if t.config["x"] < 0.25]
    assert crashed, "seed 2 should draw at least one crashing config"
    for t in crashed:
        assert t.status == "failed" and "worker process died (exit code -9)" in t.reason
    ok = [t for t in r.trials if t.config["x"] >= 0.25]
    assert ok and all(t.status == "completed" and t.resource == 3 for t in ok)
    assert len({t.results[0]["pid"] for t in ok}) >= 2   # really ran in several processes


def _sh(bench):
    return SuccessiveHalving(space=bench.space, max_resource=9, n_configs=9, n_brackets=1, random_state=5)


def _strip(result):
    return [(t.config, [(x["resource"], x["metric"]) for x in t.results], t.status) for t in result.trials]


def test_dask_local_cluster_gives_the_same_results_as_local_processes(tmp_path):
    distributed = pytest.importorskip("distributed")
    bench = SyneTuneCurves(max_resource=9)
    local = Tuner(bench, _sh(bench), executor=LocalExecutor(2), run_dir=tmp_path / "local").run()
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None,
                                  host="127.0.0.1") as cluster, distributed.Client(cluster) as client:
        ex = DaskExecutor(client)
        assert ex.n_workers == 2
        dask = Tuner(bench, _sh(bench), executor=ex, run_dir=tmp_path / "dask").run()
    assert _strip(dask) == _strip(local)
    assert [t.status for t in dask.trials].count("completed") == 1
    assert dask.best.config == local.best.config and dask.best.resource == 9
    # promotions resumed from the checkpoint written by another task: units 4..9 only
    assert [x["resource"] for x in dask.best.results] == list(range(1, 10))


def test_dask_job_whose_worker_is_lost_after_it_ended_counts_as_ended(tmp_path):
    """The end comes on the run's queue, not by gathering the result: a worker lost after its job
    ended (the result gone with it, no worker left to run the job again) holds nothing up."""
    distributed = pytest.importorskip("distributed")
    from _objectives import log_run

    log, done = tmp_path / "runs.log", []
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        ex = DaskExecutor(client)
        ex.start(log_run, on_report=lambda tid, result: True,
                 on_done=lambda tid, error: done.append((tid, error)))
        ex.submit(Job(trial_id=0, config={"log": str(log)}, checkpoint_dir=str(tmp_path / "ck"),
                      target_resource=1, max_resource=1, seed=0))
        end = time.monotonic() + 120
        while not client.who_has() and time.monotonic() < end:   # the job ended, unseen
            time.sleep(0.05)
        assert client.who_has(), "the job did not end"
        (worker,) = cluster.workers.values()
        cluster.sync(worker.close)
        while client.scheduler_info()["workers"] and time.monotonic() < end:
            time.sleep(0.05)
        while not done and time.monotonic() < end:
            ex.wait(1.0)
        assert ex.n_running == 0
    assert done == [(0, None)]
    assert log.read_text().count("\n") == 1


def test_unpicklable_objective_is_a_clear_error():
    space = {"x": Float(0.0, 1.0)}
    with pytest.raises(ValueError, match="module-level"):
        Tuner(lambda c, r: None, FIFO(space=space, max_resource=2, max_trials=1), executor=LocalExecutor(1)).run()


def test_prestarted_workers_are_warmed_up_and_reused_by_the_tuner(tmp_path):
    from _objectives import WarmObjective

    objective = WarmObjective()
    ex = LocalExecutor(2)
    ex.prestart(objective)
    pids = {w.proc.pid for w in ex._workers}
    space = {"x": Float(0.0, 1.0)}
    r = Tuner(objective, FIFO(space=space, max_resource=1, max_trials=6, random_state=0),
              executor=ex, run_dir=tmp_path).run()
    assert [t.status for t in r.trials] == ["completed"] * 6
    assert {t.results[0]["pid"] for t in r.trials} <= pids     # no new processes
    assert all(t.results[0]["warm"] for t in r.trials)         # warm_up ran before the trials
    assert objective.warmed_pid is None                        # ...in the workers, not here


_SCRIPT = """
import sys
sys.path.insert(0, {helpers!r})
with open({mark!r}, "a") as f:          # top-level code, no main guard: must run once
    f.write("ran\\n")

from autopreset.executors import LocalExecutor
from autopreset.schedulers import FIFO
from autopreset.space import Float
from autopreset.tuner import Tuner
{objective}
r = Tuner(objective, FIFO(space={{"x": Float(0.0, 1.0)}}, max_resource=1, max_trials={n}, random_state=0),
          executor=LocalExecutor(1), run_dir={run!r}).run()
for t in r.trials:
    print(t.status, t.reason)
"""


def _run_script(tmp_path, objective, n):
    import os
    import subprocess
    import sys
    from pathlib import Path

    mark, script = tmp_path / "mark.txt", tmp_path / "user_script.py"
    script.write_text(_SCRIPT.format(helpers=str(Path(__file__).parent), mark=str(mark), n=n,
                                     run=str(tmp_path / "run"), objective=objective))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path, env=dict(os.environ))
    return out, mark.read_text().splitlines()


def test_a_script_without_main_guard_runs_once_when_the_objective_is_importable(tmp_path):
    out, mark = _run_script(tmp_path, "from _objectives import WarmObjective\nobjective = WarmObjective()", 3)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["completed", "None"] * 3
    assert mark == ["ran"]                   # the workers did not re-run the script


def test_an_objective_defined_in_an_unguarded_script_fails_with_a_one_line_hint(tmp_path):
    out, _ = _run_script(tmp_path, "def objective(config, reporter):\n"
                                   "    reporter.report(resource=1, metric=config['x'])", 1)
    assert out.returncode == 0, out.stderr
    status, reason = out.stdout.strip().split(" ", 1)
    assert status == "failed" and "worker process failed to start" in reason
    assert 'if __name__ == "__main__":' in reason
