"""Searchers by name, for ``autopreset.optimize`` and the fit pipeline."""
from __future__ import annotations

import importlib

from autopreset.searchers._base import Searcher

_NAMES = {
    "random": ("autopreset.searchers._random", "RandomSearcher", {}),
    "grid": ("autopreset.searchers._grid", "GridSearcher", {}),
    "list": ("autopreset.searchers._list", "ListSearcher", {}),
    "bayesopt": ("autopreset.searchers.bayesopt", "BayesOptSearcher", {}),
    "bayesopt_gp": ("autopreset.searchers.bayesopt", "BayesOptSearcher", {"surrogate": "gp"}),
    "bayesopt_forest": ("autopreset.searchers.bayesopt", "BayesOptSearcher", {"surrogate": "forest"}),
    "annealing": ("autopreset.searchers._annealing", "AnnealingSearcher", {}),
    "evolution": ("autopreset.searchers._evolution", "EvolutionSearcher", {}),
}
_ALIASES = {"bo": "bayesopt", "gp": "bayesopt_gp", "forest": "bayesopt_forest", "rf": "bayesopt_forest",
            "sa": "annealing", "ga": "evolution", "genetic": "evolution"}

SEARCHER_NAMES = tuple(_NAMES)


def make_searcher(name: str, space: dict, **kwargs) -> Searcher:
    """Build a searcher by name: one of SEARCHER_NAMES (or bo, gp, forest, sa, ga).

        s = make_searcher("bayesopt", space, mode="max", random_state=0)
        s = make_searcher("list", space, configs=[{"lr": 0.1}, {"lr": 0.01}])
    """
    key = _ALIASES.get(name, name) if isinstance(name, str) else None
    if key not in _NAMES:
        raise ValueError(f"unknown searcher {name!r}; choose from {sorted(_NAMES) + sorted(_ALIASES)}")
    module, cls, defaults = _NAMES[key]
    return getattr(importlib.import_module(module), cls)(space, **{**defaults, **kwargs})
