"""Surrogate models for Bayesian optimization, both from scikit-learn, both giving mean and spread.

- GPSurrogate: a Gaussian process with an ARD Matern-5/2 kernel times a fitted amplitude, plus a
  WhiteKernel for observation noise, targets normalized (Snoek et al., 2012, "Practical Bayesian
  Optimization of Machine Learning Algorithms").
- ForestSurrogate: a random forest (or extra-trees) whose spread across trees serves as the
  uncertainty, as in SMAC (Hutter et al., 2011, "Sequential Model-Based Optimization for General
  Algorithm Configuration"); robust on discrete and categorical spaces where a GP's smoothness
  assumption is weak.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import minimize
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from threadpoolctl import ThreadpoolController

# One controller, made once: threadpool_limits() rescans the loaded BLAS/OpenMP libraries on
# every call (about 4 ms, half of a GP suggestion); a controller's limit() does not.
_POOLS: ThreadpoolController | None = None


def threadpool_limits(n: int):
    """Limit the BLAS/OpenMP pools to ``n`` threads for a ``with`` block."""
    global _POOLS
    if _POOLS is None:
        _POOLS = ThreadpoolController()
    return _POOLS.limit(limits=n)


def _lbfgs(max_iter: int):
    def optimizer(obj_func, initial_theta, bounds):
        res = minimize(obj_func, initial_theta, method="L-BFGS-B", jac=True, bounds=bounds,
                       options={"maxiter": max_iter})
        return res.x, res.fun
    return optimizer


class GPSurrogate:
    """GP regression, hyperparameters by maximum marginal likelihood (L-BFGS-B).

    To stay fast as data grows, each refit starts from the previous fit's hyperparameters with
    one bounded L-BFGS run; every ``restart_every``-th fit (and the first) adds ``n_restarts``
    random starts, so the fit can still leave a poor local optimum. Length scales live in the
    unit cube, bounded to [0.01, 5]: beyond 5 a parameter is as good as ignored anyway, and the
    bound keeps some uncertainty on parameters the first points did not show to matter.
    """

    def __init__(self, *, random_state: np.random.Generator, n_restarts: int = 2, restart_every: int = 10,
                 max_iter: int = 50, noise_bounds=(1e-6, 0.5)):
        self._rng = random_state
        self.n_restarts, self.restart_every, self.max_iter = n_restarts, restart_every, max_iter
        self.noise_bounds = noise_bounds
        self._kernel = None
        self._fits = 0
        self.model_: GaussianProcessRegressor | None = None

    def _initial_kernel(self, d: int):
        if self._kernel is not None and self._kernel.k1.k2.length_scale.shape == (d,):
            return self._kernel
        return (ConstantKernel(1.0, (1e-2, 1e2)) * Matern(np.full(d, 0.5), (1e-2, 5.0), nu=2.5)
                + WhiteKernel(1e-3, self.noise_bounds))

    def fit(self, X: np.ndarray, y: np.ndarray) -> "GPSurrogate":
        kernel = self._initial_kernel(X.shape[1])
        restarts = self.n_restarts if self._kernel is None or self._fits % self.restart_every == 0 else 0
        gp = GaussianProcessRegressor(kernel, normalize_y=True, optimizer=_lbfgs(self.max_iter),
                                      n_restarts_optimizer=restarts,
                                      random_state=int(self._rng.integers(2**31 - 1)))
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)
            gp.fit(X, y)
        self._kernel = gp.kernel_
        self._fits += 1
        self.model_ = gp
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore", UserWarning)
            mu, sd = self.model_.predict(X, return_std=True)
        return mu, np.maximum(sd, 1e-12)


class ForestSurrogate:
    """Random forest (``kind="random"``, bootstrap) or extra-trees (``kind="extra"``); the mean
    and standard deviation of the per-tree predictions are the surrogate's mean and spread."""

    def __init__(self, *, random_state: np.random.Generator, kind: str = "random", n_trees: int = 16):
        if kind not in ("random", "extra"):
            raise ValueError(f"forest kind must be 'random' or 'extra'; got {kind!r}")
        self._rng = random_state
        self.kind = kind
        self.n_trees = n_trees
        self.model_ = None

    def fit(self, X: np.ndarray, y: np.ndarray) -> "ForestSurrogate":
        cls = RandomForestRegressor if self.kind == "random" else ExtraTreesRegressor
        self.model_ = cls(n_estimators=self.n_trees, min_samples_leaf=1, max_features=0.8,
                          bootstrap=True, random_state=int(self._rng.integers(2**31 - 1))).fit(X, y)
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X32 = np.ascontiguousarray(X, dtype=np.float32)  # the trees' own dtype; skips per-call checks
        per_tree = np.stack([t.tree_.predict(X32).reshape(len(X), -1)[:, 0] for t in self.model_.estimators_])
        return per_tree.mean(axis=0), np.maximum(per_tree.std(axis=0), 1e-12)
