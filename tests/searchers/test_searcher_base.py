
import pytest

from autopreset.searchers import RandomSearcher, make_searcher
from autopreset.space import Categorical, Float, Int, validate


SPACE = {"x": Float(-5, 10), "n": Int(1, 8), "c": Categorical(["a", "b"])}


def test_random_suggest_observe_pending():
    s = RandomSearcher(SPACE, random_state=0)
    a, b = s.suggest(), s.suggest()
    assert s.pending == [a, b]
    s.observe(a, 1.0)
    assert s.pending == [b]
    s.observe(b, None)  # failed trial
    assert s.pending == [] and s.history[-1].value is None
    assert s.best() == (a, 1.0)


def test_points_to_evaluate_come_first_and_are_completed():
    s = RandomSearcher(SPACE, random_state=0, points_to_evaluate=[{"x": 1.5}, {"x": 2.0, "c": "b", "n": 3}])
    first, second = s.suggest(), s.suggest()
    assert first == {"x": 1.5, "n": SPACE["n"].default(), "c": "a"}
    assert second == {"x": 2.0, "n": 3, "c": "b"}
    with pytest.raises(ValueError, match="'x'"):
        RandomSearcher(SPACE, points_to_evaluate=[{"x": 99.0}])


def test_mode_max_and_best():
    s = RandomSearcher(SPACE, mode="max", random_state=1)
    cs = [s.suggest() for _ in range(3)]
    for v, c in zip([1.0, 3.0, 2.0], cs):
        s.observe(c, v)
    assert s.best() == (cs[1], 3.0)
    _, ys, _ = s.training_data()
    assert list(ys) == [-1.0, -3.0, -2.0]


def test_bohb_rule_uses_highest_level_with_enough_points():
    s = RandomSearcher(SPACE, random_state=2)
    cs = [s.suggest() for _ in range(6)]
    for c in cs:
        s.observe(c, 1.0, resource=1)
    for c in cs[:2]:
        s.observe(c, 0.5, resource=9)
    configs, ys, level = s.training_data(min_points=3)
    assert level == 1 and len(configs) == 6
    configs, ys, level = s.training_data(min_points=2)
    assert level == 9 and list(ys) == [0.5, 0.5]


def test_discrete_space_never_gives_a_pending_config_and_ends_with_none():
    space = {"c": Categorical(["a", "b", "c"])}
    s = RandomSearcher(space, random_state=0)
    got = [s.suggest() for _ in range(3)]
    assert sorted(c["c"] for c in got) == ["a", "b", "c"]
    assert s.suggest() is None  # every config is pending
    s.observe(got[0], 1.0)
    assert s.suggest() == got[0]  # a repeat is allowed once nothing new is left


def test_bad_input():
    with pytest.raises(ValueError, match="mode"):
        RandomSearcher(SPACE, mode="minimize")
    s = RandomSearcher(SPACE, random_state=0)
    c = s.suggest()
    with pytest.raises(ValueError, match="number"):
        s.observe(c, "0.5")
    with pytest.raises(ValueError, match="resource"):
        s.observe(c, 0.5, resource=-1)
    with pytest.raises(ValueError, match="'x'"):
        s.observe({**c, "x": 100.0}, 0.5)
    with pytest.raises(ValueError, match="random_state"):
        RandomSearcher(SPACE, random_state="seed")
    with pytest.raises(ValueError, match="unknown searcher"):
        make_searcher("hillclimb", SPACE)


def test_nan_is_a_failure():
    s = RandomSearcher(SPACE, random_state=0)
    c = s.suggest()
    s.observe(c, float("nan"))
    assert s.history[-1].value is None and s.best() is None


def test_random_is_seeded_and_valid():
    # Its speed (well under 1 ms per suggestion) is measured in benchmarks/searchers.py.
    a = RandomSearcher(SPACE, random_state=5)
    b = RandomSearcher(SPACE, random_state=5)
    assert [a.suggest() for _ in range(20)] == [b.suggest() for _ in range(20)]
    s = RandomSearcher(SPACE, random_state=0)
    for _ in range(200):
        c = s.suggest()
        validate(SPACE, c)
        s.observe(c, float(c["x"]))
