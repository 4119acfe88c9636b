"""Behaviour of the pieces inside the searchers: moves, acquisitions, surrogates, schedules."""
import numpy as np
import pytest

from autopreset.searchers import AnnealingSearcher, EvolutionSearcher, GridSearcher
from autopreset.searchers._moves import crossover, neighbour
from autopreset.searchers.bayesopt import (ForestSurrogate, GPSurrogate, expected_improvement,
                                           lower_confidence_bound)
from autopreset.space import Categorical, Float, Int, Ordinal, validate

SPACE = {"x": Float(0.0, 1.0), "n": Int(1, 5), "c": Categorical(["a", "b", "c"]), "o": Ordinal([1, 2, 4]),
         "k": "const"}


def test_neighbour_changes_something_and_stays_valid():
    rng = np.random.default_rng(0)
    base = {"x": 0.5, "n": 3, "c": "a", "o": 2, "k": "const"}
    changed = 0
    for _ in range(200):
        nb = neighbour(SPACE, base, rng, scale=0.05)
        validate(SPACE, nb)
        diff = [k for k in base if nb[k] != base[k]]
        assert diff and "k" not in diff
        changed += len(diff)
    assert changed / 200 < 2.5  # a few parameters at a time, not a fresh sample
    nb = neighbour(SPACE, base, rng, n_changes=1)
    assert sum(nb[k] != base[k] for k in base) == 1


def test_crossover_takes_each_value_from_a_parent():
    rng = np.random.default_rng(1)
    a = {"x": 0.1, "n": 1, "c": "a", "o": 1, "k": "const"}
    b = {"x": 0.9, "n": 5, "c": "c", "o": 4, "k": "const"}
    kids = [crossover(SPACE, a, b, rng) for _ in range(50)]
    assert all(all(kid[k] in (a[k], b[k]) for k in a) for kid in kids)
    assert any(kid["x"] == 0.1 for kid in kids) and any(kid["x"] == 0.9 for kid in kids)


def test_acquisitions():
    mu, sd = np.array([0.0, 0.0, 1.0]), np.array([0.1, 1.0, 1.0])
    ei = expected_improvement(mu, sd, best=0.0)
    assert np.all(ei > 0) and ei[1] > ei[0] > 0 and ei[1] > ei[2]
    assert np.isclose(ei[1], 1 / np.sqrt(2 * np.pi))  # E[max(-Z, 0)] for Z ~ N(0, 1)
    assert np.allclose(lower_confidence_bound(mu, sd, kappa=2.0), -(mu - 2 * sd))


@pytest.mark.parametrize("make", [lambda r: GPSurrogate(random_state=r), lambda r: ForestSurrogate(random_state=r)])
def test_surrogates_fit_and_are_unsure_away_from_data(make):
    rng = np.random.default_rng(0)
    X = rng.random((30, 1)) * 0.5  # data only on the left half
    y = np.sin(6 * X[:, 0])
    model = make(np.random.default_rng(0)).fit(X, y)
    mu, sd = model.predict(X)
    assert np.max(np.abs(mu - y)) < 0.2
    _, sd_far = model.predict(np.array([[0.95]]))
    assert sd_far[0] >= np.median(sd)


def test_grid_length_and_order():
    s = GridSearcher({"a": Ordinal([1, 2]), "b": Float(0.0, 1.0)}, k=3)
    assert len(s) == 6
    got = [s.suggest() for _ in range(7)]
    assert got[-1] is None and [c["b"] for c in got[:3]] == [0.0, 0.5, 1.0]


def test_annealing_cools_and_restarts():
    space = {"x": Float(0.0, 1.0)}
    s = AnnealingSearcher(space, n_initial=2, initial_temperature=0.5, cooling=0.5, min_temperature=0.01,
                          patience=100, random_state=0)
    for _ in range(2):
        c = s.suggest()
        s.observe(c, c["x"])
    temps = []
    for _ in range(6):
        c = s.suggest()
        s.observe(c, c["x"])
        temps.append(s.temperature)
    # geometric cooling by 0.5 per result; below min_temperature the chain restarts, reheated
    assert np.allclose(temps[:5], [0.25, 0.125, 0.0625, 0.03125, 0.015625])
    assert s.restarts == 1 and temps[5] == 0.5


def test_annealing_accepts_worse_moves_only_when_hot():
    space = {"x": Float(0.0, 1.0)}

    def accepted_worse(t0):
        count = 0
        for seed in range(40):
            s = AnnealingSearcher(space, n_initial=2, initial_temperature=t0, min_temperature=t0 / 100,
                                  random_state=seed)
            s.observe({"x": 0.0}, 0.0)  # the chain starts at the better of the two
            s.observe({"x": 0.3}, 0.1)
            nb = s.suggest()
            assert s.current == ({"x": 0.0}, 0.0)
            s.observe(nb, 0.05)  # about 1.2 standard deviations worse than the chain's state
            count += s.current[0] == nb
        return count
    hot, cold = accepted_worse(50.0), accepted_worse(0.05)
    assert hot > 30 and cold < 3


def test_evolution_population_ages():
    space = {"x": Float(0.0, 1.0)}
    s = EvolutionSearcher(space, population_size=4, tournament_size=2, random_state=0)
    values = [0.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    for v in values:
        c = s.suggest()
        s.observe(c, v)
    configs, ys = s.population()
    assert list(ys) == [6.0, 7.0, 8.0, 9.0]  # the best (0.0) was oldest and has died
