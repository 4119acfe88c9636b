"""The searcher contract, run against every searcher (one parametrized fixture, as Optuna does)."""
import math

import numpy as np
import pytest

from autopreset.searchers import (AnnealingSearcher, BayesOptSearcher, EvolutionSearcher, GridSearcher,
                                  ListSearcher, RandomSearcher, Searcher, make_searcher)
from autopreset.space import (Categorical, Float, Int, Ordinal, config_key, grid, space_from_json,
                              space_to_json, validate)

FACTORIES = {
    "grid": lambda space, **kw: GridSearcher(space, k=4, **kw),
    "random": lambda space, **kw: RandomSearcher(space, **kw),
    "list": lambda space, **kw: ListSearcher(space, grid(space, 2), **kw),
    "bo_gp_ei": lambda space, **kw: BayesOptSearcher(space, n_candidates=32, n_initial=4, **kw),
    "bo_gp_lcb": lambda space, **kw: BayesOptSearcher(space, acquisition="lcb", n_candidates=32, n_initial=4, **kw),
    "bo_forest": lambda space, **kw: BayesOptSearcher(space, surrogate="forest", n_candidates=32, n_initial=4,
                                                      **kw),
    "annealing": lambda space, **kw: AnnealingSearcher(space, n_initial=3, **kw),
    "evolution": lambda space, **kw: EvolutionSearcher(space, population_size=6, tournament_size=3, **kw),
}
MODEL_BASED = ["bo_gp_ei", "bo_gp_lcb", "bo_forest", "annealing", "evolution"]
FIXED_ORDER = {"grid", "list"}   # the same configs whatever the seed

MIXED = {"lr": Float(1e-4, 1e-1, log=True), "x": Float(-2.0, 2.0), "depth": Int(1, 8),
         "width": Int(8, 256, log=True), "opt": Categorical(["sgd", "adam", "rms"]),
         "bs": Ordinal([16, 32, 64, 128]), "epochs": 5}


def objective(c):
    return ((math.log10(c["lr"]) + 2.5) ** 2 + c["x"] ** 2 + abs(c["depth"] - 4) / 4
            + (0.0 if c["opt"] == "adam" else 0.5) + abs(math.log2(c["bs"]) - 5) / 3 + math.log2(c["width"]) / 20)


@pytest.fixture(params=list(FACTORIES))
def name(request):
    return request.param


def run(searcher: Searcher, fn, n: int) -> list[dict]:
    out = []
    for _ in range(n):
        c = searcher.suggest()
        if c is None:
            break
        out.append(c)
        searcher.observe(c, fn(c))
    return out


def test_is_a_searcher(name):
    assert isinstance(FACTORIES[name](MIXED), Searcher)


def test_valid_configs_only(name):
    s = FACTORIES[name](MIXED, random_state=0)
    configs = run(s, objective, 12)
    assert len(configs) == 12
    for c in configs:
        validate(MIXED, c)
        assert list(c) == list(MIXED) and c["epochs"] == 5


def test_deterministic_under_seed(name):
    a = run(FACTORIES[name](MIXED, random_state=7), objective, 10)
    b = run(FACTORIES[name](MIXED, random_state=np.random.default_rng(7)), objective, 10)
    assert a == b
    if name not in FIXED_ORDER:
        assert run(FACTORIES[name](MIXED, random_state=8), objective, 10) != a


def test_space_json_round_trip_gives_same_search(name):
    back = space_from_json(space_to_json(MIXED))
    assert run(FACTORIES[name](back, random_state=3), objective, 8) == \
        run(FACTORIES[name](MIXED, random_state=3), objective, 8)


def test_pending_are_distinct_across_workers(name):
    s = FACTORIES[name](MIXED, random_state=1)
    run(s, objective, 7)  # past any initial design, so the model is in charge
    seen = {config_key(h.config) for h in s.history}
    batch = [s.suggest() for _ in range(5)]
    keys = [config_key(c) for c in batch]
    assert len(set(keys)) == 5 and not set(keys) & seen
    assert [config_key(c) for c in s.pending] == keys
    s.observe(batch[1], objective(batch[1]))
    s.observe(batch[3], None)
    assert [config_key(c) for c in s.pending] == [keys[0], keys[2], keys[4]]


def test_small_discrete_space_never_repeats_pending(name):
    space = {"a": Categorical(["x", "y", "z"]), "b": Ordinal([1, 2])}
    s = FACTORIES[name](space, random_state=0)
    got = []
    for _ in range(6):
        c = s.suggest()
        assert c is not None
        got.append(config_key(c))
    assert len(set(got)) == 6
    assert s.suggest() is None  # every config of the space is pending


def test_points_to_evaluate_first(name):
    pts = [{"opt": "rms", "x": 0.5}, {"lr": 0.01, "depth": 2, "bs": 128}]
    s = FACTORIES[name](MIXED, random_state=0, points_to_evaluate=pts)
    a, b = s.suggest(), s.suggest()
    assert a["opt"] == "rms" and a["x"] == 0.5 and a["bs"] == MIXED["bs"].default()
    assert (b["lr"], b["depth"], b["bs"]) == (0.01, 2, 128)


def test_failed_trials_do_not_break_it(name):
    s = FACTORIES[name](MIXED, random_state=2)
    for i in range(10):
        c = s.suggest()
        s.observe(c, None if i % 3 == 0 else objective(c))
        validate(MIXED, c)
    assert sum(h.value is None for h in s.history) == 4


def test_mode_max_is_mode_min_of_the_negation(name):
    a = run(FACTORIES[name](MIXED, random_state=4, mode="max"), lambda c: -objective(c), 8)
    b = run(FACTORIES[name](MIXED, random_state=4, mode="min"), objective, 8)
    assert a == b


@pytest.mark.parametrize("model", MODEL_BASED)
def test_model_based_beat_random_on_a_smooth_problem(model):
    space = {"x": Float(-3.0, 3.0), "y": Int(-30, 30), "k": Categorical(["a", "b", "c"])}

    def f(c):
        return (c["x"] - 1) ** 2 + (c["y"] / 10 + 0.5) ** 2 + {"a": 1.0, "b": 0.0, "c": 2.0}[c["k"]]
    n = 40 if model == "evolution" else 25  # the GA spends its first generation at random

    def best(factory, seed):
        s = factory(space, random_state=seed)
        run(s, f, n)
        return s.best()[1]
    ours = np.median([best(FACTORIES[model], s) for s in range(5)])
    rnd = np.median([best(FACTORIES["random"], s) for s in range(5)])
    assert ours < rnd


@pytest.mark.parametrize("model", MODEL_BASED)
def test_model_uses_the_highest_resource_with_enough_points(model):
    """Low-fidelity results say small x is good; the top fidelity says large x is. The model
    (BOHB's rule) must follow the top fidelity once it has enough points there."""
    space = {"x": Float(0.0, 1.0), "y": Float(0.0, 1.0)}
    s = FACTORIES[model](space, random_state=0)
    rng = np.random.default_rng(0)
    for x in rng.random(30):
        s.observe({"x": float(x), "y": 0.5}, float(x), resource=1)
    for x in np.linspace(0.05, 0.95, 8):
        s.observe({"x": float(x), "y": 0.5}, float(-x), resource=9)
    xs = [c["x"] for c in run(s, lambda c: -c["x"], 6)]
    assert np.median(xs) > 0.6


def test_make_searcher_names():
    for n in ["random", "grid", "bayesopt", "bayesopt_forest", "annealing", "evolution", "bo", "ga", "sa"]:
        s = make_searcher(n, MIXED, random_state=0)
        validate(MIXED, s.suggest())
    s = make_searcher("list", MIXED, configs=[{"x": 0.5}, {"opt": "rms"}], mode="max")
    assert [c["x"] for c in run(s, objective, 5)] == [0.5, 0.0]
    with pytest.raises(ValueError, match="configs"):
        make_searcher("list", MIXED)
    assert make_searcher("bayesopt_forest", MIXED).surrogate == "forest"
    s = make_searcher("bayesopt", MIXED, surrogate="extra_trees", n_initial=3, n_candidates=16, random_state=0)
    for c in run(s, objective, 5):
        validate(MIXED, c)
    with pytest.raises(ValueError, match="surrogate"):
        make_searcher("bayesopt", MIXED, surrogate="tpe")
