"""Grid search: every combination, in a stable order, then None."""
from __future__ import annotations

import itertools

import numpy as np

from autopreset.searchers._base import Searcher
from autopreset.space import config_key, domains, grid_size


class GridSearcher(Searcher):
    """Exhaustive search over all values of discrete domains and ``k`` points of numeric ones
    (log-spaced for log domains). The first key of the space varies slowest; the grid is
    walked lazily, so a large grid costs nothing until it is used. ``suggest`` returns None
    once every point was suggested; configs given in ``points_to_evaluate`` are not repeated.

        s = GridSearcher({"bs": Ordinal([16, 32]), "lr": Float(1e-3, 1e-1, log=True)}, k=3)
        len(s)   # 6
    """

    def __init__(self, space: dict, *, mode: str = "min", random_state: int | np.random.Generator | None = None,
                 points_to_evaluate: list[dict] | None = None, k: int = 5):
        super().__init__(space, mode=mode, random_state=random_state, points_to_evaluate=points_to_evaluate)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"GridSearcher needs k >= 1 points per numeric domain; got k={k!r}")
        self.k = int(k)
        names = list(domains(space))
        self._names = names
        self._iter = itertools.product(*[space[n].grid_values(self.k) for n in names])

    def __len__(self) -> int:
        return grid_size(self.space, self.k)

    def _propose(self) -> dict | None:
        for combo in self._iter:
            values = dict(zip(self._names, combo))
            config = {key: (values[key] if key in values else v) for key, v in self.space.items()}
            if config_key(config) not in self._seen:
                return config
        return None
