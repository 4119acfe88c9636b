"""The searcher contract: ask/tell over a search space, with pending trials tracked.

    s = RandomSearcher(space, mode="min", random_state=0)
    config = s.suggest()            # dict, or None when exhausted
    s.observe(config, 0.31)         # None (or NaN) for a failed trial
    s.observe(config, 0.28, resource=9)   # multi-fidelity result
    s.pending                       # suggested, not yet observed

The base class owns what every searcher shares: the queue of ``points_to_evaluate`` (suggested
first, in order; partial configs completed with each domain's default), the pending set (a
config pending to one worker is never suggested to another), avoiding repeats of configs already
tried, the signed history (values are minimised internally: mode="max" negates), and the BOHB
rule for multi-fidelity data (Falkner et al., 2018, "BOHB: Robust and Efficient Hyperparameter
Optimization at Scale"): models learn from the highest resource level that has enough points.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
import numpy as np

from autopreset.space import as_rng, check_space, complete, config_key, validate


@dataclass(frozen=True)
class Observation:
    """One result: the config, the value as reported (None = failed), its resource level."""

    config: dict
    value: float | None
    resource: float | None = None


class Searcher:
    """Base class. Subclasses implement ``_suggest()`` and may hook ``_on_observe``.

    ``_suggest`` returns a full config (or None when exhausted); the base class skips configs
    that are pending and, when it can, configs already tried (``max_tries`` attempts).
    """

    max_tries = 64

    def __init__(self, space: dict, *, mode: str = "min", random_state: int | np.random.Generator | None = None,
                 points_to_evaluate: list[dict] | None = None):
        self.space = check_space(space)
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max'; got {mode!r}")
        self.mode = mode
        self._rng = as_rng(random_state)
        self._queue = deque(complete(space, p) for p in (points_to_evaluate or []))
        self._pending: dict[str, dict] = {}
        self._seen: dict[str, dict] = {}
        self.history: list[Observation] = []
        self._levels: dict[float, list[tuple[dict, float]]] = {}

    # ------------------------------------------------------------------ ask
    def suggest(self) -> dict | None:
        """The next config to evaluate, or None when the searcher has nothing new to offer."""
        config = None
        while self._queue and config is None:
            candidate = self._queue.popleft()
            if config_key(candidate) not in self._pending:
                config = candidate
        if config is None:
            config = self._propose()
        if config is None:
            return None
        key = config_key(config)
        self._pending[key] = config
        self._seen[key] = config
        return dict(config)

    def _propose(self) -> dict | None:
        repeat = None
        for _ in range(self.max_tries):
            config = self._suggest()
            if config is None:
                return None
            key = config_key(config)
            if key in self._pending:
                continue
            if key not in self._seen:
                return config
            repeat = repeat or config
        return repeat

    def _suggest(self) -> dict | None:
        raise NotImplementedError

    def is_taken(self, config: dict) -> bool:
        """True when the config is pending or was already suggested or observed."""
        return config_key(config) in self._seen

    # ----------------------------------------------------------------- tell
    def observe(self, config: dict, value: float | None, resource: float | None = None) -> None:
        """Record a result. value None or NaN/inf marks a failed trial (it leaves pending)."""
        validate(self.space, config)
        config = {k: config[k] for k in self.space if k in config}
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise ValueError(f"observed value must be a number or None; got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                value = None
        if resource is not None:
            if isinstance(resource, bool) or not isinstance(resource, (int, float, np.integer, np.floating)) \
                    or not math.isfinite(resource) or resource <= 0:
                raise ValueError(f"resource must be a positive number or None; got {resource!r}")
            resource = float(resource)
        key = config_key(config)
        self._pending.pop(key, None)
        self._seen.setdefault(key, config)
        self.history.append(Observation(config, value, resource))
        if value is None:
            self._on_failure(config, resource)
            return
        y = value if self.mode == "min" else -value
        level = math.inf if resource is None else resource
        self._levels.setdefault(level, []).append((config, y))
        self._on_observe(config, y, level)

    def _on_observe(self, config: dict, y: float, level: float) -> None:
        """Hook: y is the value to minimise; level the resource (inf when none was given)."""

    def _on_failure(self, config: dict, resource: float | None) -> None:
        """Hook for a failed trial."""

    # ------------------------------------------------------------ queries
    @property
    def pending(self) -> list[dict]:
        """Configs suggested and not yet observed, oldest first."""
        return [dict(c) for c in self._pending.values()]

    def training_data(self, min_points: int = 1) -> tuple[list[dict], np.ndarray, float | None]:
        """Observations for a model, by BOHB's rule: the highest resource level with at least
        ``min_points`` results; when none has that many, the level with the most.

        Returns (configs, signed values to minimise, level); level None when there is no data.
        """
        if not self._levels:
            return [], np.zeros(0), None
        enough = [r for r, obs in self._levels.items() if len(obs) >= min_points]
        level = max(enough) if enough else max(self._levels, key=lambda r: (len(self._levels[r]), r))
        obs = self._levels[level]
        return [c for c, _ in obs], np.array([y for _, y in obs], dtype=float), level

    def best(self) -> tuple[dict, float] | None:
        """Best (config, value as reported) at the highest level with data, or None."""
        if not self._levels:
            return None
        level = max(self._levels)
        config, y = min(self._levels[level], key=lambda t: t[1])
        return dict(config), (y if self.mode == "min" else -y)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mode={self.mode!r}, observed={len(self.history)}, pending={len(self._pending)})"

