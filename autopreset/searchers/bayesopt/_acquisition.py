"""Acquisition functions, for minimisation: larger is more promising.

- Expected improvement (Jones et al., 1998, "Efficient Global Optimization of Expensive
  Black-Box Functions"): E[max(best - f(x) - xi, 0)] under the surrogate's Gaussian.
- Lower confidence bound (Srinivas et al., 2010, GP-UCB; the upper bound when maximising):
  -(mu - kappa * sigma).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import norm


def expected_improvement(mu: np.ndarray, sigma: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    gap = best - mu - xi
    z = gap / sigma
    return gap * norm.cdf(z) + sigma * norm.pdf(z)


def lower_confidence_bound(mu: np.ndarray, sigma: np.ndarray, kappa: float = 2.0) -> np.ndarray:
    return -(mu - kappa * sigma)
