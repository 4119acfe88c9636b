"""Simulated annealing as an ask/tell searcher (Kirkpatrick et al., 1983, "Optimization by
Simulated Annealing").

A chain walks the space by neighbour moves (Gaussian steps in the unit coordinate of numeric
and ordinal parameters, a switch of choice for categoricals). A worse result is accepted with
probability exp(-delta / T), where delta is measured in standard deviations of the values seen
at that resource level, so one temperature schedule fits any objective scale. T cools
geometrically with each result; step sizes shrink with sqrt(T). When the chain has not improved
for ``patience`` results, or T is spent, it restarts (reheated) from the best config found or,
half of the time, from a fresh random config.
"""
from __future__ import annotations

import math

import numpy as np

from autopreset.searchers._base import Searcher
from autopreset.searchers._moves import neighbour
from autopreset.space import config_key, sample


class AnnealingSearcher(Searcher):
    """Simulated annealing with restarts.

        s = AnnealingSearcher(space, random_state=0)
        c = s.suggest(); s.observe(c, f(c))
    """

    def __init__(self, space: dict, *, mode: str = "min", random_state: int | np.random.Generator | None = None,
                 points_to_evaluate: list[dict] | None = None, n_initial: int = 5,
                 initial_temperature: float = 0.5, cooling: float = 0.95, min_temperature: float = 0.01,
                 patience: int = 25, step: float = 0.15):
        super().__init__(space, mode=mode, random_state=random_state, points_to_evaluate=points_to_evaluate)
        if not 0 < cooling < 1:
            raise ValueError(f"cooling must be in (0, 1); got {cooling!r}")
        if not 0 < min_temperature < initial_temperature:
            raise ValueError(f"need 0 < min_temperature < initial_temperature; got {min_temperature!r}, "
                             f"{initial_temperature!r}")
        if isinstance(n_initial, bool) or not isinstance(n_initial, int) or n_initial < 1:
            raise ValueError(f"n_initial must be an int >= 1; got {n_initial!r}")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be an int >= 1; got {patience!r}")
        self.n_initial, self.t0, self.cooling = n_initial, float(initial_temperature), float(cooling)
        self.t_min, self.patience, self.step = float(min_temperature), patience, float(step)
        self.temperature = self.t0
        self._current: tuple[dict, float, float] | None = None  # config, y, level
        self._chain_best = math.inf
        self._stale = 0
        self._restart_key: str | None = None
        self.restarts = 0

    def _suggest(self) -> dict:
        if self._current is None:
            configs, ys, level = self.training_data(min_points=self.n_initial)
            if len(ys) < self.n_initial:
                return sample(self.space, self._rng)
            i = int(np.argmin(ys))
            self._start(configs[i], float(ys[i]), level)
        if self._restart_key == "":  # a restart from a random config was decided
            config = sample(self.space, self._rng)
            self._restart_key = config_key(config)
            return config
        scale = max(0.02, self.step * math.sqrt(self.temperature / self.t0))
        for attempt in range(32):
            config = neighbour(self.space, self._current[0], self._rng, scale=scale,
                               n_changes=None if attempt < 8 else 1 + attempt // 8)
            if not self.is_taken(config):
                return config
        return sample(self.space, self._rng)

    @property
    def current(self) -> tuple[dict, float] | None:
        """The chain's state: (config, value as reported), or None before the chain starts."""
        if self._current is None:
            return None
        config, y, _ = self._current
        return dict(config), (y if self.mode == "min" else -y)

    def _start(self, config: dict, y: float, level: float) -> None:
        self._current = (config, y, level)
        self._chain_best, self._stale, self.temperature = y, 0, self.t0

    def _on_observe(self, config: dict, y: float, level: float) -> None:
        if self._current is None:
            return
        _, cur_y, cur_level = self._current
        if self._restart_key and config_key(config) == self._restart_key:
            self._restart_key = None
            self._start(config, y, level)
            return
        if level != cur_level:
            configs, ys, best_level = self.training_data(min_points=self.n_initial)
            if best_level is not None and best_level > cur_level and len(ys) >= self.n_initial:
                i = int(np.argmin(ys))  # BOHB rule: move the chain up to the higher level
                self._start(configs[i], float(ys[i]), best_level)
            return
        level_ys = np.array([v for _, v in self._levels[level]])
        spread = float(level_ys.std()) or 1.0
        delta = (y - cur_y) / spread
        if delta <= 0 or self._rng.random() < math.exp(-delta / self.temperature):
            self._current = (config, y, level)
        if y < self._chain_best:
            self._chain_best, self._stale = y, 0
        else:
            self._stale += 1
        self.temperature *= self.cooling
        if self._stale >= self.patience or self.temperature < self.t_min:
            self._restart(level)

    def _restart(self, level: float) -> None:
        self.restarts += 1
        if self._rng.random() < 0.5:
            config, y = min(self._levels[level], key=lambda t: t[1])
            self._start(config, y, level)
        else:
            self._restart_key = ""  # the next suggestion is a random config; its result starts the chain
            self._chain_best, self._stale, self.temperature = math.inf, 0, self.t0
