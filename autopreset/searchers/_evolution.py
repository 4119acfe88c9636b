"""A genetic algorithm with ageing: regularized evolution (Real et al., 2019, "Regularized
Evolution for Image Classifier Architecture Search") plus uniform crossover.

The population is the most recent ``population_size`` results (at the resource level BOHB's
rule picks); the oldest die first, which keeps the search from resting on lucky old results.
A child is: a tournament winner (best of ``tournament_size`` drawn at random), crossed with a
second winner with probability ``crossover_prob``, then mutated by a neighbour move.
"""
from __future__ import annotations

import numpy as np

from autopreset.searchers._base import Searcher
from autopreset.searchers._moves import crossover, neighbour
from autopreset.space import sample


class EvolutionSearcher(Searcher):
    """Tournament selection, uniform crossover, mutation, ageing.

        s = EvolutionSearcher(space, population_size=20, tournament_size=5, random_state=0)
        c = s.suggest(); s.observe(c, f(c))
    """

    def __init__(self, space: dict, *, mode: str = "min", random_state: int | np.random.Generator | None = None,
                 points_to_evaluate: list[dict] | None = None, population_size: int = 20,
                 tournament_size: int = 5, crossover_prob: float = 0.5, mutation_scale: float = 0.1):
        super().__init__(space, mode=mode, random_state=random_state, points_to_evaluate=points_to_evaluate)
        for name, v, lo in (("population_size", population_size, 2), ("tournament_size", tournament_size, 1)):
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"{name} must be an int >= {lo}; got {v!r}")
        if tournament_size > population_size:
            raise ValueError(f"tournament_size {tournament_size} exceeds population_size {population_size}")
        if not 0 <= crossover_prob <= 1:
            raise ValueError(f"crossover_prob must be in [0, 1]; got {crossover_prob!r}")
        self.population_size, self.tournament_size = population_size, tournament_size
        self.crossover_prob, self.mutation_scale = float(crossover_prob), float(mutation_scale)

    def population(self) -> tuple[list[dict], np.ndarray]:
        """The living population: the newest results at the chosen level (values to minimise)."""
        configs, ys, _ = self.training_data(min_points=self.population_size)
        return configs[-self.population_size:], ys[-self.population_size:]

    def _tournament(self, configs: list[dict], ys: np.ndarray) -> dict:
        idx = self._rng.choice(len(ys), size=min(self.tournament_size, len(ys)), replace=False)
        return configs[int(idx[np.argmin(ys[idx])])]

    def _suggest(self) -> dict:
        configs, ys = self.population()
        n_pending = len(self._pending)
        if len(ys) < self.population_size and (len(ys) + n_pending < self.population_size
                                               or len(ys) < self.tournament_size):
            return sample(self.space, self._rng)  # the initial population
        for attempt in range(32):
            parent = self._tournament(configs, ys)
            if self._rng.random() < self.crossover_prob:
                parent = crossover(self.space, parent, self._tournament(configs, ys), self._rng)
            child = neighbour(self.space, parent, self._rng, scale=self.mutation_scale,
                              n_changes=None if attempt < 8 else 1 + attempt // 8)
            if not self.is_taken(child):
                return child
        return sample(self.space, self._rng)
