"""The executor factory fit uses: local workers started early, or a Dask client; torch threads
per worker from the cores other processes leave free."""
import os

from autopreset.executors import LocalExecutor, make_executor, usable_cores, worker_threads
from autopreset.schedulers import FIFO
from autopreset.space import Float
from autopreset.tuner import Tuner

from _objectives import WarmObjective


def test_local_executor_is_prestarted_with_the_objective(tmp_path):
    objective = WarmObjective()
    ex, client = make_executor(1, None, objective)
    try:
        assert isinstance(ex, LocalExecutor) and ex.n_workers == 1 and client is None
        r = Tuner(objective, FIFO(space={"x": Float(0.0, 1.0)}, max_resource=1, max_trials=2, random_state=0),
                  executor=ex, run_dir=tmp_path).run()
        assert [t.results[0]["warm"] for t in r.trials] == [True, True]   # the prestarted worker ran them
    finally:
        ex.close()
    ex, client = make_executor(2)
    assert isinstance(ex, LocalExecutor) and ex.n_workers == 2 and client is None
    ex.close()


def test_worker_threads_share_the_free_cores(monkeypatch):
    cores = usable_cores()
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert worker_threads(1, None) == cores
    assert worker_threads(2) == max(1, cores // 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (float(cores + 3), 0.0, 0.0))   # a busy machine
    assert worker_threads(1) == 1 and worker_threads(4) == 1
    assert worker_threads(2, "tcp://scheduler:8786") is None    # Dask workers keep torch's default
