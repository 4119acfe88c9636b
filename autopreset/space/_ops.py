"""Functions on spaces: a space is a plain ``dict[str, Domain | constant]``.

Every config produced here carries every key of the space, domains and constants alike, in the
space's order, so configs compare and serialise the same way everywhere.
"""
from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np

from autopreset.space._domains import Domain


def as_rng(random_state: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from an int seed, a Generator (shared, not copied) or None."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool)):
        return np.random.default_rng(random_state)
    raise ValueError(f"random_state must be an int, a numpy Generator or None; got {random_state!r}")


def check_space(space: Any) -> dict:
    """The space itself when it is a dict with string keys; else a ValueError saying why."""
    if not isinstance(space, dict):
        raise ValueError(f"a search space is a dict of name -> domain or constant; got {type(space).__name__}")
    for name in space:
        if not isinstance(name, str):
            raise ValueError(f"search space keys must be strings; got {name!r}")
    return space


def domains(space: dict) -> dict[str, Domain]:
    """The searchable part of a space (constants dropped), in order."""
    return {k: v for k, v in check_space(space).items() if isinstance(v, Domain)}


def dimension(space: dict) -> int:
    """Number of unit-cube coordinates of the space's encoding."""
    return sum(d.width for d in domains(space).values())


def encoding_layout(space: dict) -> list[tuple[str, Domain, slice]]:
    """(name, domain, its slice of the unit-cube encoding) for each domain, in order."""
    out, i = [], 0
    for name, dom in domains(space).items():
        out.append((name, dom, slice(i, i + dom.width)))
        i += dom.width
    return out


def sample(space: dict, random_state: int | np.random.Generator | None = None) -> dict:
    """One config drawn independently per domain (log-uniform for log domains)."""
    rng = as_rng(random_state)
    return {k: (v.sample(rng) if isinstance(v, Domain) else v) for k, v in check_space(space).items()}


def default_config(space: dict) -> dict:
    """Every domain at its midpoint (numeric, ordinal) or first choice (categorical)."""
    return {k: (v.default() if isinstance(v, Domain) else v) for k, v in check_space(space).items()}


def complete(space: dict, partial: dict) -> dict:
    """A full config from a partial one: missing keys take the domain's default; then validated."""
    if not isinstance(partial, dict):
        raise ValueError(f"a config is a dict; got {partial!r}")
    config = default_config(space)
    config.update({k: partial[k] for k in partial})
    validate(space, config)
    return {k: config[k] for k in space}


def validate(space: dict, config: Any) -> dict:
    """Raise ValueError naming the first bad key or value; return the config when it fits."""
    check_space(space)
    if not isinstance(config, dict):
        raise ValueError(f"a config is a dict; got {config!r}")
    unknown = [k for k in config if k not in space]
    if unknown:
        raise ValueError(f"config key {unknown[0]!r} is not in the search space {list(space)}")
    for name, dom in space.items():
        if name not in config:
            if isinstance(dom, Domain):
                raise ValueError(f"config is missing key {name!r}")
            continue
        value = config[name]
        if isinstance(dom, Domain):
            if not dom.contains(value):
                raise ValueError(f"config value {name!r}={value!r} is outside {dom!r}")
        elif value != dom or type(value) is not type(dom):
            raise ValueError(f"config value {name!r}={value!r} differs from the constant {dom!r}")
    return config


def encode(space: dict, config: dict) -> np.ndarray:
    """The config as a point of the unit cube (one-hot blocks for categoricals)."""
    validate(space, config)
    parts = [dom.to_unit(config[name]) for name, dom, _ in encoding_layout(space)]
    return np.concatenate(parts) if parts else np.zeros(0)


def decode(space: dict, x: np.ndarray) -> dict:
    """The config at a point of the cube (values clipped; arg-max over one-hot blocks)."""
    x = np.asarray(x, dtype=float).reshape(-1)
    lay = encoding_layout(space)
    if len(x) != sum(d.width for _, d, _ in lay):
        raise ValueError(f"a point of this space has {sum(d.width for _, d, _ in lay)} coordinates; got {len(x)}")
    values = {name: dom.from_unit(x[sl]) for name, dom, sl in lay}
    return {k: (values[k] if k in values else v) for k, v in space.items()}


def snap(space: dict, X: np.ndarray) -> np.ndarray:
    """Vectorised encode(decode(x)) for the rows of X: each row moved to the point of its config."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    out = np.empty_like(X)
    for _, dom, sl in encoding_layout(space):
        out[:, sl] = dom.snap(X[:, sl])
    return out


def sample_unit(space: dict, n: int, rng: np.random.Generator) -> np.ndarray:
    """n random points in the cube, already snapped (so one-hot blocks are one-hot)."""
    return snap(space, rng.random((n, dimension(space))))


def grid(space: dict, k: int = 5) -> list[dict]:
    """Every combination of: all values of discrete domains, k points of numeric ones.

    The order is stable: the first key of the space varies slowest.
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"grid needs k >= 1 points per numeric domain; got k={k!r}")
    names = list(domains(space))
    axes = [space[n].grid_values(int(k)) for n in names]
    out = []
    for combo in itertools.product(*axes):
        values = dict(zip(names, combo))
        out.append({key: (values[key] if key in values else v) for key, v in space.items()})
    return out


def grid_size(space: dict, k: int = 5) -> int:
    return math.prod(len(space[n].grid_values(int(k))) for n in domains(space))


def config_key(config: dict) -> str:
    """A canonical, hashable identity of a config (JSON with sorted keys; 1 and 1.0 kept apart)."""
    items = [(k, v.item() if isinstance(v, np.generic) else v) for k, v in sorted(config.items())]
    return json.dumps([[k, type(v).__name__, v] for k, v in items], default=str)
