"""A fixed list of configs: the portfolio phase's searcher, and a way to replay known configs."""
from __future__ import annotations

import numpy as np

from autopreset.searchers._base import Searcher


class ListSearcher(Searcher):
    """Proposes exactly the given configs, in order (after any ``points_to_evaluate``), then
    None. Partial configs are completed with each domain's default; a config that is pending
    to another worker is skipped. ``random_state`` is accepted for the common signature and
    never used: the order is the list's.

        s = ListSearcher(space, [{"backbone": "resnet18", "lr": 0.05}, {"backbone": "lcnet_050"}])
        s.suggest()   # the resnet18 config, completed; then the lcnet_050 one; then None
    """

    def __init__(self, space: dict, configs: list[dict] | None = None, *, mode: str = "min",
                 random_state: int | np.random.Generator | None = None,
                 points_to_evaluate: list[dict] | None = None):
        if configs is None or isinstance(configs, dict) or not all(isinstance(c, dict) for c in configs):
            raise ValueError(f"ListSearcher needs configs=[dict, ...] to propose; got {configs!r}")
        points = [dict(p) for p in points_to_evaluate or []] + [dict(c) for c in configs]
        super().__init__(space, mode=mode, random_state=random_state, points_to_evaluate=points)

    def _suggest(self) -> None:
        return None
