import math

import pytest

import autopreset
from autopreset.searchers import GridSearcher, RandomSearcher
from autopreset.space import Categorical, Float, Int, Ordinal


SPACE = {"x": Float(-5.0, 5.0), "k": Categorical(["a", "b"]), "n": Int(1, 4)}


def f(c):
    return (c["x"] - 1.0) ** 2 + (0.0 if c["k"] == "b" else 2.0) + abs(c["n"] - 3)


SMALL_BO = {"n_candidates": 64}


@pytest.mark.parametrize("name,kw", [("random", {}), ("bayesopt", SMALL_BO), ("bayesopt_forest", SMALL_BO),
                                     ("annealing", {}), ("evolution", {"population_size": 8})])
def test_optimize_finds_a_good_config(name, kw):
    res = autopreset.optimize(f, SPACE, searcher=name, n_trials=30, random_state=0, **kw)
    assert res.n_trials == 30 and len(res.history) == 30
    assert res.best_value == min(h.value for h in res.history)
    assert res.best_value == f(res.best_config)
    if name != "random":
        assert res.best_value < 1.0


def test_model_based_beats_random_on_average():
    bo = [autopreset.optimize(f, SPACE, searcher="bayesopt", n_trials=20, random_state=s, **SMALL_BO).best_value
          for s in range(3)]
    rnd = [autopreset.optimize(f, SPACE, searcher="random", n_trials=20, random_state=s).best_value for s in range(3)]
    assert sum(bo) < sum(rnd)


def test_maximize_and_seeded():
    a = autopreset.optimize(lambda c: -f(c), SPACE, searcher="evolution", n_trials=40, mode="max", random_state=3)
    b = autopreset.optimize(lambda c: -f(c), SPACE, searcher="evolution", n_trials=40, mode="max", random_state=3)
    assert a.best_value == max(h.value for h in a.history) and a.best_config == b.best_config
    assert [h.config for h in a.history] == [h.config for h in b.history]


def test_grid_stops_when_exhausted():
    space = {"bs": Ordinal([16, 32]), "k": Categorical(["a", "b", "c"])}
    res = autopreset.optimize(lambda c: c["bs"], space, searcher="grid", n_trials=100)
    assert res.n_trials == 6 and res.best_value == 16


def test_failed_trials():
    def g(c):
        if c["n"] == 1:
            raise RuntimeError("diverged")
        return float("nan") if c["n"] == 2 else c["x"]
    with pytest.raises(RuntimeError):
        autopreset.optimize(g, SPACE, n_trials=50, random_state=0)
    res = autopreset.optimize(g, SPACE, n_trials=40, random_state=0, catch=(RuntimeError,))
    failed = [h for h in res.history if h.value is None]
    assert failed and all(h.config["n"] in (1, 2) for h in failed)
    assert res.best_config["n"] in (3, 4)
    none = autopreset.optimize(lambda c: math.inf, SPACE, n_trials=3, random_state=0)
    assert none.best_config is None and none.best_value is None


def test_searcher_instance_and_errors():
    s = RandomSearcher(SPACE, random_state=0)
    res = autopreset.optimize(f, SPACE, searcher=s, n_trials=5)
    res2 = autopreset.optimize(f, SPACE, searcher=s, n_trials=5)
    assert res.searcher is s and len(s.history) == 10 and len(res2.history) == 5
    with pytest.raises(ValueError, match="mode"):
        autopreset.optimize(f, SPACE, searcher=s, mode="max")
    with pytest.raises(ValueError, match="different space"):
        autopreset.optimize(f, {"y": Float(0, 1)}, searcher=GridSearcher(SPACE), n_trials=2)
    with pytest.raises(ValueError, match="n_trials"):
        autopreset.optimize(f, SPACE, n_trials=0)
    with pytest.raises(ValueError, match="unknown searcher"):
        autopreset.optimize(f, SPACE, searcher="tpe")
