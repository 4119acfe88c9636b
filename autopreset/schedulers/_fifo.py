"""FIFO: every trial runs to max_resource, in the order the searcher proposes them."""
from __future__ import annotations

from typing import Any

import numpy as np

from autopreset.schedulers._base import CONTINUE, Suggestion, Trial, TrialScheduler, check_positive_int


class FIFO(TrialScheduler):
    """No early stopping: each config is trained to ``max_resource`` (plain random search or
    Bayesian optimization when driven by the matching searcher).

        fifo = FIFO(space=space, max_resource=81, max_trials=50)

    ``max_trials`` caps the number of new trials (None: until the budget or searcher runs out).
    Trials carried from an earlier run are continued to max_resource first.
    """

    def __init__(self, *, space: dict | None = None, searcher: Any = None, mode: str = "min",
                 max_resource: int, max_trials: int | None = None,
                 random_state: int | np.random.Generator | None = None):
        super().__init__(space=space, searcher=searcher, mode=mode, max_resource=max_resource,
                         random_state=random_state)
        self.max_trials = None if max_trials is None else check_positive_int("max_trials", max_trials)
        self._started = 0

    def suggest(self, trial_id: int) -> Suggestion | None:
        job = self._pop_carried(trial_id)
        if job is not None:
            return job
        if self.max_trials is not None and self._started >= self.max_trials:
            return None
        config = self._new_config()
        if config is None:
            return None
        self._started += 1
        return Suggestion(trial_id, config, self.max_resource)

    def on_trial_result(self, trial: Trial, result: dict) -> str:
        return CONTINUE

    def may_resume(self, trial: Trial) -> bool:
        """Only carried trials not yet continued are resumed (FIFO's own run to the end)."""
        return any(t.trial_id == trial.trial_id for t in self._carried)
