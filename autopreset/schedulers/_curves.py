"""Parametric learning-curve families, fitted to a partial curve, extrapolated with uncertainty.

After Domhan, Springenberg & Hutter (2015), "Speeding up Automatic Hyperparameter Optimization of
Deep Neural Networks by Extrapolation of Learning Curves" (IJCAI): a weighted combination of
saturating curve families predicts the value at the final resource. Where the paper samples the
combination by MCMC, we fit each family by least squares, weight families by their BIC, and
sample each family's parameters from the Gaussian (Laplace) approximation around the fit plus
the residual noise: a cheap predictive distribution, good enough to decide whether a trial can
still beat the incumbent.

Every family is z = c + a g(x; theta) with a >= 0 and a decreasing basis g, so for each theta on
a grid (c, a) is a closed-form linear least-squares fit (variable projection, Golub & Pereyra
1973); the best theta wins. All curves are in "lower is better" form, x = resource / max_resource.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.linalg import pinvh


def _grid(*axes: np.ndarray) -> np.ndarray:
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)   # (n_theta, dim)


# name -> (basis g(x[None, :], theta[:, k] ...), theta grid)
FAMILIES = {
    "pow3": (lambda x, t: np.power(x, -t[:, :1]), _grid(np.logspace(-2, math.log10(3.0), 48))),
    "exp3": (lambda x, t: np.exp(-t[:, :1] * x), _grid(np.logspace(-2, 2, 48))),
    "vapor": (lambda x, t: 1.0 / (x + t[:, :1]), _grid(np.logspace(-3, 1, 48))),
    "logpower": (lambda x, t: 1.0 / (1.0 + np.power(x / np.exp(t[:, :1]), t[:, 1:2])),
                 _grid(np.linspace(-8.0, 2.0, 24), np.logspace(math.log10(0.1), 1, 16))),
}


def _fit(basis, grid: np.ndarray, x: np.ndarray, z: np.ndarray):
    """Least squares over the grid; returns (theta, c, a, rss)."""
    g = basis(x[None, :], grid)                        # (n_theta, n)
    gm = g.mean(axis=1, keepdims=True)
    zm = z.mean()
    gc = g - gm
    var = (gc ** 2).sum(axis=1)
    a = np.where(var > 1e-12, (gc @ (z - zm)) / np.maximum(var, 1e-12), 0.0)
    a = np.maximum(a, 0.0)
    c = zm - a * gm[:, 0]
    rss = ((c[:, None] + a[:, None] * g - z[None, :]) ** 2).sum(axis=1)
    rss = np.where(np.isfinite(rss), rss, np.inf)
    i = int(np.argmin(rss))
    return grid[i], float(c[i]), float(a[i]), float(rss[i])


def _jacobian(basis, theta: np.ndarray, c: float, a: float, x: np.ndarray) -> np.ndarray:
    cols = [np.ones_like(x), basis(x[None, :], theta[None, :])[0]]
    for j in range(len(theta)):
        h = 1e-5 * max(1.0, abs(theta[j]))
        up, dn = theta.copy(), theta.copy()
        up[j] += h
        dn[j] -= h
        cols.append(a * (basis(x[None, :], up[None, :])[0] - basis(x[None, :], dn[None, :])[0]) / (2 * h))
    return np.stack(cols, axis=1)


def predict_final(x: np.ndarray, z: np.ndarray, *, families=("pow3", "exp3", "logpower"),
                  n_samples: int = 200, random_state: np.random.Generator | None = None) -> np.ndarray | None:
    """Samples of z at x = 1 from the BIC-weighted mixture of the families fitted to (x, z).

    Returns None when there are too few points for any family (it needs more points than
    parameters).
    """
    rng = random_state if random_state is not None else np.random.default_rng(0)
    x = np.asarray(x, dtype=float)
    z = np.asarray(z, dtype=float)
    mu, scale = float(z.mean()), float(z.std()) or 1.0
    zs = (z - mu) / scale
    n = len(x)
    fits = []
    for name in families:
        basis, grid = FAMILIES[name]
        k = 2 + grid.shape[1]
        if n <= k:
            continue
        theta, c, a, rss = _fit(basis, grid, x, zs)
        if not math.isfinite(rss):
            continue
        sigma2 = max(rss / (n - k), 1e-6)
        jac = _jacobian(basis, theta, c, a, x)
        cov = sigma2 * pinvh(jac.T @ jac)
        bic = n * math.log(max(rss / n, 1e-12)) + k * math.log(n)
        fits.append((bic, basis, np.concatenate([[c, a], theta]), cov, sigma2, grid))
    if not fits:
        return None
    bics = np.array([f[0] for f in fits])
    weights = np.exp(-0.5 * (bics - bics.min()))
    counts = rng.multinomial(n_samples, weights / weights.sum())
    out = []
    for (_, basis, popt, cov, sigma2, grid), m in zip(fits, counts):
        if m == 0:
            continue
        cov = (cov + cov.T) / 2
        params = rng.multivariate_normal(popt, cov, size=m, check_valid="ignore", method="eigh") \
            if np.all(np.isfinite(cov)) else np.tile(popt, (m, 1))
        params[:, 1] = np.maximum(params[:, 1], 0.0)
        params[:, 2:] = np.clip(params[:, 2:], grid.min(axis=0), grid.max(axis=0))
        with np.errstate(all="ignore"):
            g1 = basis(np.ones((1, 1)), params[:, 2:])[:, 0]
            pred = params[:, 0] + params[:, 1] * g1 + rng.normal(0.0, math.sqrt(sigma2), size=m)
        out.append(pred[np.isfinite(pred)])
    samples = np.concatenate(out) if out else np.zeros(0)
    if samples.size == 0:
        return None
    return samples * scale + mu
