"""Random search (Bergstra & Bengio, 2012, "Random Search for Hyper-Parameter Optimization")."""
from __future__ import annotations

from autopreset.searchers._base import Searcher
from autopreset.space import sample


class RandomSearcher(Searcher):
    """Independent draws from the space (log-uniform for log domains); the baseline to beat.

        s = RandomSearcher({"x": Float(0, 1)}, random_state=0)
        c = s.suggest(); s.observe(c, c["x"] ** 2)
    """

    def _suggest(self) -> dict:
        return sample(self.space, self._rng)
