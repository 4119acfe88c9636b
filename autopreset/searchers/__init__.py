"""Searchers: propose configs over a search space, ask/tell, with pending trials tracked.

    from autopreset.searchers import BayesOptSearcher
    s = BayesOptSearcher(space, mode="min", random_state=0)
    config = s.suggest(); s.observe(config, loss)

Grid, random, a fixed list, Bayesian optimization (GP or forest), simulated annealing and evolution share
the contract of :class:`Searcher`; ``make_searcher(name, space, **kw)`` builds one by name.
"""
from autopreset.searchers._annealing import AnnealingSearcher
from autopreset.searchers._base import Observation, Searcher
from autopreset.searchers._evolution import EvolutionSearcher
from autopreset.searchers._grid import GridSearcher
from autopreset.searchers._list import ListSearcher
from autopreset.searchers._random import RandomSearcher
from autopreset.searchers._registry import SEARCHER_NAMES, make_searcher


def __getattr__(name: str):
    # BayesOptSearcher imports scikit-learn (about a second): loaded on first use only.
    if name == "BayesOptSearcher":
        from autopreset.searchers.bayesopt import BayesOptSearcher
        return BayesOptSearcher
    raise AttributeError(f"module 'autopreset.searchers' has no attribute {name!r}")

__all__ = ["Searcher", "Observation", "GridSearcher", "RandomSearcher", "ListSearcher", "BayesOptSearcher",
           "AnnealingSearcher", "EvolutionSearcher", "make_searcher", "SEARCHER_NAMES"]
