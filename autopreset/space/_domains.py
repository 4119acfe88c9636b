"""The four domain kinds of a search space, each mapping its values to and from [0, 1).

Model-based searchers work in the unit cube: a Float or Int takes one coordinate (on a log
scale when ``log=True``), an Ordinal one coordinate split into equal bins (so neighbouring
values are neighbours in the cube), a Categorical one coordinate per choice (one-hot), because
an unordered choice has no meaningful position on a line.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

_JSON_SCALARS = (str, int, float, bool)


def _check_json_values(kind: str, values: Any) -> tuple:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{kind} needs a list of values, got {values!r}")
    values = tuple(values)
    if not values:
        raise ValueError(f"{kind} needs at least one value, got an empty list")
    for v in values:
        if v is not None and not isinstance(v, _JSON_SCALARS):
            raise ValueError(f"{kind} values must be str, int, float, bool or None; got {v!r}")
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"{kind} values must be finite; got {v!r}")
    keys = [_value_key(v) for v in values]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{kind} values must be distinct; got {list(values)!r}")
    return values


def _value_key(v: Any) -> tuple:
    """A key that tells True from 1 and 1 from 1.0 (JSON keeps them apart too); numpy scalars
    count as the Python values they hold."""
    if isinstance(v, np.generic):
        v = v.item()
    return (type(v).__name__, v)


class Domain:
    """Base of all domains. ``width`` is the number of unit-cube coordinates it takes."""

    width = 1

    def sample(self, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    def contains(self, value: Any) -> bool:
        raise NotImplementedError

    def default(self) -> Any:
        """The midpoint (numeric, ordinal) or first choice: what fills a partial config."""
        raise NotImplementedError

    def to_unit(self, value: Any) -> np.ndarray:
        raise NotImplementedError

    def from_unit(self, u: np.ndarray) -> Any:
        raise NotImplementedError

    def snap(self, u: np.ndarray) -> np.ndarray:
        """Vectorised encode(decode(u)) for a block of rows ``u`` (n, width)."""
        raise NotImplementedError

    def grid_values(self, k: int) -> list:
        raise NotImplementedError

    def to_json(self) -> dict:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(repr(self))


class Categorical(Domain):
    """Unordered choices (JSON scalars). Encoded one-hot; decoded by arg-max."""

    def __init__(self, choices: Any):
        self.choices = _check_json_values("Categorical", choices)
        self.width = len(self.choices)
        self._keys = [_value_key(v) for v in self.choices]

    def index(self, value: Any) -> int:
        try:
            return self._keys.index(_value_key(value))
        except ValueError:
            raise ValueError(f"{value!r} is not one of {list(self.choices)!r}") from None

    def sample(self, rng: np.random.Generator) -> Any:
        return self.choices[int(rng.integers(len(self.choices)))]

    def contains(self, value: Any) -> bool:
        return _value_key(value) in self._keys

    def default(self) -> Any:
        return self.choices[0]

    def to_unit(self, value: Any) -> np.ndarray:
        u = np.zeros(self.width)
        u[self.index(value)] = 1.0
        return u

    def from_unit(self, u: np.ndarray) -> Any:
        return self.choices[int(np.argmax(u))]

    def snap(self, u: np.ndarray) -> np.ndarray:
        out = np.zeros_like(u)
        out[np.arange(len(u)), np.argmax(u, axis=1)] = 1.0
        return out

    def grid_values(self, k: int) -> list:
        return list(self.choices)

    def to_json(self) -> dict:
        return {"type": "categorical", "choices": list(self.choices)}

    def __repr__(self) -> str:
        return f"Categorical({list(self.choices)!r})"


class Ordinal(Domain):
    """Ordered values (batch sizes, backbones small to large): one coordinate, equal bins."""

    def __init__(self, values: Any):
        self.values = _check_json_values("Ordinal", values)
        self._keys = [_value_key(v) for v in self.values]

    def index(self, value: Any) -> int:
        try:
            return self._keys.index(_value_key(value))
        except ValueError:
            raise ValueError(f"{value!r} is not one of {list(self.values)!r}") from None

    def sample(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(len(self.values)))]

    def contains(self, value: Any) -> bool:
        return _value_key(value) in self._keys

    def default(self) -> Any:
        return self.values[(len(self.values) - 1) // 2]

    def to_unit(self, value: Any) -> np.ndarray:
        return np.array([(self.index(value) + 0.5) / len(self.values)])

    def _bin(self, u: np.ndarray) -> np.ndarray:
        n = len(self.values)
        return np.clip(np.floor(np.asarray(u, dtype=float) * n), 0, n - 1).astype(int)

    def from_unit(self, u: np.ndarray) -> Any:
        return self.values[int(self._bin(np.asarray(u).reshape(-1)[0]))]

    def snap(self, u: np.ndarray) -> np.ndarray:
        return (self._bin(u) + 0.5) / len(self.values)

    def grid_values(self, k: int) -> list:
        return list(self.values)

    def to_json(self) -> dict:
        return {"type": "ordinal", "values": list(self.values)}

    def __repr__(self) -> str:
        return f"Ordinal({list(self.values)!r})"


class _Numeric(Domain):
    kind = ""

    def __init__(self, low: float, high: float, *, log: bool = False):
        name = type(self).__name__
        for v in (low, high):
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                    or not math.isfinite(v):
                raise ValueError(f"{name} bounds must be finite numbers; got low={low!r}, high={high!r}")
        if not low < high:
            raise ValueError(f"{name} needs low < high; got low={low!r}, high={high!r}")
        if log and low <= 0:
            raise ValueError(f"{name} with log=True needs low > 0; got low={low!r}")
        self.low, self.high, self.log = low, high, bool(log)

    def to_json(self) -> dict:
        return {"type": self.kind, "low": self.low, "high": self.high, "log": self.log}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.low!r}, {self.high!r}, log={self.log})"


class Float(_Numeric):
    """A real interval [low, high], uniform or log-uniform."""

    kind = "float"

    def __init__(self, low: float, high: float, *, log: bool = False):
        super().__init__(float(low) if not isinstance(low, bool) else low,
                         float(high) if not isinstance(high, bool) else high, log=log)
        self._a, self._b = (math.log(self.low), math.log(self.high)) if self.log else (self.low, self.high)

    def sample(self, rng: np.random.Generator) -> float:
        return self.from_unit(np.array([rng.random()]))

    def contains(self, value: Any) -> bool:
        return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
                and math.isfinite(value) and self.low <= value <= self.high)

    def default(self) -> float:
        return self.from_unit(np.array([0.5]))

    def to_unit(self, value: Any) -> np.ndarray:
        t = math.log(value) if self.log else float(value)
        return np.array([min(max((t - self._a) / (self._b - self._a), 0.0), 1.0)])

    def from_unit(self, u: np.ndarray) -> float:
        t = self._a + float(np.clip(np.asarray(u).reshape(-1)[0], 0.0, 1.0)) * (self._b - self._a)
        return float(min(max(math.exp(t) if self.log else t, self.low), self.high))

    def snap(self, u: np.ndarray) -> np.ndarray:
        return np.clip(u, 0.0, 1.0)

    def grid_values(self, k: int) -> list:
        if k == 1:
            return [self.default()]
        return [self.from_unit(np.array([i / (k - 1)])) for i in range(k)]


class Int(_Numeric):
    """Integers low..high (both included), uniform or log-uniform.

    The unit interval is cut into one bin per integer (on the log scale when ``log=True``, over
    [low - 0.5, high + 0.5]) so every integer is reachable with a fair share of the cube.
    """

    kind = "int"

    def __init__(self, low: int, high: int, *, log: bool = False):
        for v in (low, high):
            if isinstance(v, bool) or not float(v).is_integer():
                raise ValueError(f"Int bounds must be integers; got low={low!r}, high={high!r}")
        super().__init__(int(low), int(high), log=log)
        if self.log:
            self._a, self._b = math.log(self.low - 0.5 if self.low >= 1 else self.low), math.log(self.high + 0.5)
        else:
            self._a, self._b = self.low - 0.5, self.high + 0.5

    def sample(self, rng: np.random.Generator) -> int:
        return self.from_unit(np.array([rng.random()]))

    def contains(self, value: Any) -> bool:
        return (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
                and self.low <= value <= self.high)

    def default(self) -> int:
        return self.from_unit(np.array([0.5]))

    def _pos(self, value: float) -> float:
        t = math.log(value) if self.log else float(value)
        return min(max((t - self._a) / (self._b - self._a), 0.0), 1.0)

    def to_unit(self, value: Any) -> np.ndarray:
        return np.array([self._pos(value)])

    def _value(self, u: float) -> int:
        t = self._a + min(max(u, 0.0), 1.0) * (self._b - self._a)
        return int(min(max(round(math.exp(t) if self.log else t), self.low), self.high))

    def from_unit(self, u: np.ndarray) -> int:
        return self._value(float(np.asarray(u).reshape(-1)[0]))

    def snap(self, u: np.ndarray) -> np.ndarray:
        t = self._a + np.clip(u, 0.0, 1.0) * (self._b - self._a)
        v = np.clip(np.round(np.exp(t) if self.log else t), self.low, self.high)
        t = np.log(v) if self.log else v
        return np.clip((t - self._a) / (self._b - self._a), 0.0, 1.0)

    def grid_values(self, k: int) -> list:
        n = self.high - self.low + 1
        if n <= k:
            return list(range(self.low, self.high + 1))
        if k == 1:
            return [self.default()]
        # k points evenly spread on the (log) scale between the two bounds, both included.
        a, b = (math.log(self.low), math.log(self.high)) if self.log else (self.low, self.high)
        vals = [round(math.exp(a + i * (b - a) / (k - 1)) if self.log else a + i * (b - a) / (k - 1))
                for i in range(k)]
        return sorted(set(int(v) for v in vals))
