"""Bayesian optimization over mixed spaces with a GP or forest surrogate.

Each suggestion: fit the surrogate on the observations (BOHB's rule picks the resource level),
with every pending config added at a pessimistic "constant liar" value (Ginsbourger et al., 2010,
"Kriging is well-suited to parallelize optimization") so parallel workers are sent apart; score
random candidates plus local moves around the best points with the acquisition; refine around
the best-scoring candidates; return the best one not yet tried.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import qmc

from autopreset.searchers._base import Searcher
from autopreset.searchers.bayesopt._acquisition import expected_improvement, lower_confidence_bound
from autopreset.searchers.bayesopt._candidates import local_candidates, random_candidates, row_keys
from autopreset.searchers.bayesopt._surrogates import ForestSurrogate, GPSurrogate
from autopreset.space import config_key, decode, dimension, encode, sample, snap


class BayesOptSearcher(Searcher):
    """Model-based search: surrogate ``"gp"``, ``"forest"`` (random forest) or ``"extra_trees"``,
    acquisition ``"ei"`` or ``"lcb"``
    (the confidence bound; "ucb" is accepted as its name when maximising).

    The first ``n_initial`` configs come from a scrambled Sobol sequence (space-filling);
    afterwards every suggestion is the acquisition's best of ``n_candidates`` random points plus
    local moves around the best observations, except that a fraction ``random_fraction`` of
    suggestions are random configs, as SMAC interleaves them (default 0.2 with the forest, whose
    spread across trees alone explores too little; 0 with the GP). EI asks for an improvement of
    at least ``xi`` standard deviations of the observed values, so it does not spend trials on
    gains too small to matter.

        s = BayesOptSearcher(space, surrogate="gp", acquisition="ei", random_state=0)
        for _ in range(30):
            c = s.suggest(); s.observe(c, f(c))
    """

    def __init__(self, space: dict, *, mode: str = "min", random_state: int | np.random.Generator | None = None,
                 points_to_evaluate: list[dict] | None = None, surrogate: str = "gp", acquisition: str = "ei",
                 n_initial: int | None = None, n_candidates: int = 512, kappa: float = 2.0, xi: float = 0.01,
                 random_fraction: float | None = None):
        super().__init__(space, mode=mode, random_state=random_state, points_to_evaluate=points_to_evaluate)
        if surrogate not in ("gp", "forest", "extra_trees"):
            raise ValueError(f"surrogate must be 'gp', 'forest' or 'extra_trees'; got {surrogate!r}")
        acquisition = {"ucb": "lcb"}.get(acquisition, acquisition)
        if acquisition not in ("ei", "lcb"):
            raise ValueError(f"acquisition must be 'ei' or 'lcb' (alias 'ucb'); got {acquisition!r}")
        self.dim = dimension(space)
        if n_initial is None:
            n_initial = min(10, max(5, self.dim + 1))
        if isinstance(n_initial, bool) or not isinstance(n_initial, int) or n_initial < 2:
            raise ValueError(f"n_initial must be an int >= 2; got {n_initial!r}")
        if not isinstance(n_candidates, int) or n_candidates < 1:
            raise ValueError(f"n_candidates must be a positive int; got {n_candidates!r}")
        self.surrogate, self.acquisition = surrogate, acquisition
        self.n_initial, self.n_candidates, self.kappa = n_initial, n_candidates, float(kappa)
        self.xi, self._y_scale = float(xi), 1.0
        if random_fraction is None:  # SMAC's defaults: 0.2 with a forest, none with a GP
            random_fraction = 0.0 if surrogate == "gp" else 0.2
        if not 0.0 <= random_fraction <= 1.0:
            raise ValueError(f"random_fraction must be in [0, 1]; got {random_fraction!r}")
        self.random_fraction = float(random_fraction)
        self._model = (GPSurrogate(random_state=self._rng) if surrogate == "gp" else
                       ForestSurrogate(random_state=self._rng, kind="random" if surrogate == "forest" else "extra"))
        self._design = self._sobol(n_initial) if self.dim else np.zeros((0, 0))
        self._n_design = 0
        self._enc: dict[str, np.ndarray] = {}

    def _sobol(self, n: int) -> np.ndarray:
        m = int(np.ceil(np.log2(max(n, 2))))
        pts = qmc.Sobol(self.dim, scramble=True, seed=self._rng).random_base2(m)
        return snap(self.space, pts)

    def _x(self, key: str, config: dict) -> np.ndarray:
        if key not in self._enc:
            self._enc[key] = encode(self.space, config)
        return self._enc[key]

    def _suggest(self) -> dict:
        if self.dim == 0:
            return sample(self.space, self._rng)
        configs, y, _ = self.training_data(min_points=self.n_initial)
        if len(y) < self.n_initial:
            while self._n_design < len(self._design):
                x = self._design[self._n_design]
                self._n_design += 1
                config = decode(self.space, x)
                if not self.is_taken(config):
                    return config
            return sample(self.space, self._rng)
        if self.random_fraction and self._rng.random() < self.random_fraction:
            return sample(self.space, self._rng)  # interleaved random config (SMAC)
        X = np.array([self._x(config_key(c), c) for c in configs])
        pend = [self._x(k, c) for k, c in self._pending.items()]
        X_fit, y_fit = X, y
        if pend:  # constant liar: pending configs at the worst value seen
            X_fit = np.vstack([X, np.array(pend)])
            y_fit = np.concatenate([y, np.full(len(pend), y.max())])
        self._model.fit(X_fit, y_fit)
        self._y_scale = float(y.std()) or 1.0
        return self._maximize(X, y)

    def _score(self, C: np.ndarray, best: float) -> np.ndarray:
        mu, sd = self._model.predict(C)
        if self.acquisition == "ei":
            return expected_improvement(mu, sd, best, self.xi * self._y_scale)
        return lower_confidence_bound(mu, sd, self.kappa)

    def _maximize(self, X: np.ndarray, y: np.ndarray) -> dict:
        best = float(y.min())
        top = X[np.argsort(y, kind="stable")[:5]]
        C = np.vstack([random_candidates(self.space, self.n_candidates, self._rng),
                       local_candidates(self.space, top, max(8, self.n_candidates // 10), self._rng)])
        a = self._score(C, best)
        order = np.argsort(-a, kind="stable")[:5]
        R = local_candidates(self.space, C[order], max(8, self.n_candidates // 20), self._rng,
                             scales=(0.005, 0.01, 0.02, 0.05))
        C, a = np.vstack([C, R]), np.concatenate([a, self._score(R, best)])
        taken = set(row_keys(np.array([self._x(k, c) for k, c in self._seen.items()]))) if self._seen else set()
        for i in np.argsort(-a, kind="stable"):
            if C[i].round(9).tobytes() not in taken:
                return decode(self.space, C[i])
        return sample(self.space, self._rng)
