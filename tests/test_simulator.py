"""The simulated backend: curves, clock, N workers."""
import math

import numpy as np
import pytest

from autopreset.schedulers import FIFO
from autopreset.simulator import (AugmentedBranin, AugmentedHartmann, LearningCurves, SimulatedExecutor,
                                  SyneTuneCurves, TabularBenchmark)
from autopreset.tuner import Tuner


def test_known_optima_of_the_botorch_functions():
    b = AugmentedBranin(max_resource=10)
    for x1, x2 in [(-math.pi, 12.275), (math.pi, 2.275), (9.42478, 2.475)]:
        assert b.final({"x1": x1, "x2": x2}) == pytest.approx(0.397887, abs=1e-5)
    low = b.curve({"x1": math.pi, "x2": 2.275})[0][0]
    assert low != pytest.approx(0.397887, abs=1e-3)   # the fidelity changes the function
    h = AugmentedHartmann(max_resource=10)
    xopt = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]
    assert h.final({f"x{i + 1}": v for i, v in enumerate(xopt)}) == pytest.approx(-3.32237, abs=1e-4)


def test_syne_tune_metric():
    b = SyneTuneCurves(max_resource=5)
    metrics, seconds = b.curve({"width": 2.0, "height": 10.0})
    assert metrics == pytest.approx([100 / (10 + 2 * s) + 1.0 for s in range(1, 6)])
    assert list(seconds) == [1.0] * 5


def test_learning_curves_have_realistic_shapes_and_costs():
    power = LearningCurves(shape="power", max_resource=81, seed=0)
    over = LearningCurves(shape="overfit", max_resource=81, seed=0)
    c = {"lr": 0.03, "width": 256, "batch_size": 64, "weight_decay": 1e-6, "momentum": 0.9}
    p, sec = power.curve(c)
    o, _ = over.curve(c)
    assert p[-1] < p[10] < p[0]                      # learns
    assert o[-1] > o.min() + 0.02                    # validation error turns up late
    small = {**c, "width": 16}
    assert power.curve(small)[1].mean() < sec.mean() / 4   # wide nets cost more per epoch
    assert power.final(small) > power.final(c)              # but end better
    assert power.curve(small)[0][2] < p[2]                  # while starting faster: curves cross
    assert np.isnan(power.curve({**c, "lr": 0.9})[0][-1])  # diverged
    assert power.curve(c)[0] == pytest.approx(p)            # reproducible per config and seed
    assert 0 < power.optimum < 0.2


def test_simulated_workers_run_in_parallel_on_the_simulated_clock():
    rows = [{"config": {}, "metrics": [0.5, 0.4, 0.3], "seconds": 10.0} for _ in range(8)]
    bench = TabularBenchmark(rows)
    for workers, expected in [(1, 240.0), (4, 60.0)]:
        r = Tuner(bench, FIFO(space=bench.space, max_resource=3, max_trials=8, random_state=0),
                  executor=SimulatedExecutor(workers)).run()
        assert r.spent_s == pytest.approx(expected)
        assert all(t.status == "completed" for t in r.trials) and len(r.trials) == 8


def test_overhead_and_bad_input():
    rows = [{"config": {}, "metrics": [1.0, 0.5], "seconds": [1.0, 2.0]}]
    bench = TabularBenchmark(rows)
    r = Tuner(bench, FIFO(space=bench.space, max_resource=2, max_trials=1), executor=SimulatedExecutor(1, overhead_s=5.0)).run()
    assert r.spent_s == pytest.approx(8.0)
    with pytest.raises(ValueError, match="same length"):
        TabularBenchmark([{"metrics": [1.0]}, {"metrics": [1.0, 2.0]}])
    with pytest.raises(ValueError, match="n_workers"):
        SimulatedExecutor(0)
    with pytest.raises(ValueError, match="CurveBenchmark"):
        Tuner(lambda c, r: None, FIFO(space=bench.space, max_resource=2), executor=SimulatedExecutor()).run()
