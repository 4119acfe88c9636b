"""Searchers: propose configs over a search space, ask/tell, with pending trials tracked.

    from autopreset.searchers import RandomSearcher
    s = RandomSearcher(space, mode="min", random_state=0)
    config = s.suggest(); s.observe(config, loss)
"""
from autopreset.searchers._base import Observation, Searcher
from autopreset.searchers._random import RandomSearcher
from autopreset.searchers._registry import SEARCHER_NAMES, make_searcher

__all__ = ["Searcher", "Observation", "RandomSearcher", "make_searcher", "SEARCHER_NAMES"]
