import math

import numpy as np
import pytest

from autopreset.space import (Categorical, Float, Int, Ordinal, decode, default_config, dimension, encode, grid,
                              grid_size, sample, snap, validate, complete)


def mixed_space():
    return {
        "lr": Float(1e-5, 1e-1, log=True),
        "mom": Float(0.8, 0.99),
        "depth": Int(1, 6),
        "width": Int(16, 1024, log=True),
        "opt": Categorical(["sgd", "adam", "rmsprop"]),
        "bs": Ordinal([8, 16, 32, 64]),
        "epochs": 10,
    }


def test_sample_is_valid_and_seeded():
    space = mixed_space()
    a = [sample(space, np.random.default_rng(3)) for _ in range(1)]
    b = [sample(space, np.random.default_rng(3)) for _ in range(1)]
    assert a == b
    rng = np.random.default_rng(0)
    for _ in range(200):
        c = sample(space, rng)
        validate(space, c)
        assert c["epochs"] == 10 and list(c) == list(space)
        assert isinstance(c["depth"], int) and isinstance(c["lr"], float)


def test_log_sampling_is_log_uniform():
    space = {"lr": Float(1e-6, 1e-1, log=True)}
    rng = np.random.default_rng(0)
    logs = np.array([math.log10(sample(space, rng)["lr"]) for _ in range(4000)])
    # a uniform over [-6, -1] has mean -3.5 and a fifth of its mass in each decade
    assert abs(logs.mean() + 3.5) < 0.1
    assert abs(np.mean(logs < -5) - 0.2) < 0.03


def test_int_covers_every_value_fairly():
    space = {"d": Int(1, 4)}
    rng = np.random.default_rng(1)
    counts = np.bincount([sample(space, rng)["d"] for _ in range(4000)], minlength=5)[1:]
    assert counts.min() > 850 and counts.max() < 1150


def test_encode_decode_round_trip_and_unit_cube():
    space = mixed_space()
    rng = np.random.default_rng(2)
    assert dimension(space) == 1 + 1 + 1 + 1 + 3 + 1
    for _ in range(100):
        c = sample(space, rng)
        x = encode(space, c)
        assert x.shape == (dimension(space),) and np.all((x >= 0) & (x <= 1))
        assert x[4:7].sum() == 1.0  # one-hot block of the categorical
        back = decode(space, x)
        assert back["opt"] == c["opt"] and back["bs"] == c["bs"] and back["depth"] == c["depth"]
        assert back["width"] == c["width"]
        assert math.isclose(back["lr"], c["lr"], rel_tol=1e-9)


def test_decode_any_point_gives_a_valid_config_and_snap_is_idempotent():
    space = mixed_space()
    X = np.random.default_rng(0).random((50, dimension(space)))
    for x in X:
        validate(space, decode(space, x))
    S = snap(space, X)
    assert np.allclose(snap(space, S), S)
    for x, s in zip(X, S):
        assert decode(space, x) == decode(space, s)
        assert np.allclose(encode(space, decode(space, x)), s)


def test_ordinal_neighbours_are_adjacent_in_the_cube():
    dom = {"bs": Ordinal([8, 16, 32, 64, 128])}
    xs = [encode(dom, {"bs": v})[0] for v in [8, 16, 32, 64, 128]]
    assert np.all(np.diff(xs) > 0)


def test_grid_is_exhaustive_and_stable():
    space = {"a": Categorical(["x", "y"]), "b": Ordinal([1, 2, 3]), "c": Float(0, 1), "k": "const"}
    g = grid(space, k=3)
    assert len(g) == 2 * 3 * 3 == grid_size(space, 3)
    assert g[0] == {"a": "x", "b": 1, "c": 0.0, "k": "const"}
    assert g[1]["c"] == 0.5 and g[-1] == {"a": "y", "b": 3, "c": 1.0, "k": "const"}
    assert g == grid(space, k=3)
    assert len({tuple(sorted(c.items())) for c in g}) == len(g)
    assert grid({"d": Int(1, 3)}, k=10) == [{"d": 1}, {"d": 2}, {"d": 3}]
    logs = [c["lr"] for c in grid({"lr": Float(1e-4, 1e-1, log=True)}, k=4)]
    assert np.allclose(logs, [1e-4, 1e-3, 1e-2, 1e-1])


def test_validate_names_the_bad_key():
    space = mixed_space()
    good = default_config(space)
    validate(space, good)
    with pytest.raises(ValueError, match="lr"):
        validate(space, {**good, "lr": 1.0})
    with pytest.raises(ValueError, match="opt"):
        validate(space, {**good, "opt": "lbfgs"})
    with pytest.raises(ValueError, match="depth"):
        validate(space, {**good, "depth": 2.5})
    with pytest.raises(ValueError, match="missing key 'bs'"):
        validate(space, {k: v for k, v in good.items() if k != "bs"})
    with pytest.raises(ValueError, match="'nope'"):
        validate(space, {**good, "nope": 1})
    with pytest.raises(ValueError, match="epochs"):
        validate(space, {**good, "epochs": 11})


def test_defaults_and_complete():
    space = mixed_space()
    d = default_config(space)
    assert math.isclose(d["lr"], 10 ** -3, rel_tol=1e-9)  # geometric midpoint
    assert d["opt"] == "sgd" and d["bs"] == 16 and d["epochs"] == 10
    c = complete(space, {"opt": "adam"})
    assert c["opt"] == "adam" and c["depth"] == d["depth"]
    with pytest.raises(ValueError, match="opt"):
        complete(space, {"opt": "nadam"})


@pytest.mark.parametrize("bad", [
    lambda: Float(1, 1), lambda: Float(0, 1, log=True), lambda: Int(1.5, 3), lambda: Categorical([]),
    lambda: Categorical("abc"), lambda: Ordinal([1, 1]), lambda: Float(0, float("inf")), lambda: Categorical([[1]]),
])
def test_bad_domains_raise(bad):
    with pytest.raises(ValueError):
        bad()


def test_true_and_one_are_different_choices():
    dom = Categorical([1, True])
    assert dom.width == 2
    assert not Ordinal([1, 2]).contains(True)


def test_numpy_scalars_are_their_python_values():
    from autopreset.space import config_key
    space = {"bs": Ordinal([16, 32]), "c": Categorical(["a", "b"]), "n": Int(1, 3)}
    validate(space, {"bs": np.int64(32), "c": np.str_("b"), "n": np.int64(2)})
    assert config_key({"bs": np.int64(32), "x": np.float64(0.5)}) == config_key({"bs": 32, "x": 0.5})
    assert config_key({"bs": 1}) != config_key({"bs": 1.0}) != config_key({"bs": True})


def test_helpers_for_searchers_are_public():
    from autopreset.space import as_rng, check_space, dimension, domains, encoding_layout, sample_unit

    space = {"lr": Float(1e-4, 1e-1, log=True), "opt": Categorical(["sgd", "adam", "rms"]), "epochs": 5,
             "bs": Ordinal([16, 32, 64])}
    assert list(domains(space)) == ["lr", "opt", "bs"]                 # constants dropped, order kept
    lay = encoding_layout(space)
    assert [(n, s.start, s.stop) for n, _, s in lay] == [("lr", 0, 1), ("opt", 1, 4), ("bs", 4, 5)]
    assert lay[-1][2].stop == dimension(space)
    X = sample_unit(space, 8, as_rng(0))
    assert X.shape == (8, 5) and np.array_equal(X, snap(space, X))   # rows are encodings of configs
    assert np.array_equal(X, sample_unit(space, 8, as_rng(np.random.default_rng(0))))
    assert check_space(space) is space
    with pytest.raises(ValueError, match="search space keys must be strings"):
        check_space({1: Float(0.0, 1.0)})
    with pytest.raises(ValueError, match="random_state"):
        as_rng("seed")
