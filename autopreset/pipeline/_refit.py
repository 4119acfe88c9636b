"""Refit on train+validation: the best config trained again on every labelled image.

Planned only when the budget leaves room beside the search (see ``_plan.make_plan``). The
refit run is a one-trial tuner run in ``<run>/refit`` (so it has the same deadline handling and
resumes from its own journal); if the budget cuts it short, the search's model is kept.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from autopreset._faults import fault_point
from autopreset.executors import make_executor, worker_threads
from ._objective import BudgetedObjective

__all__ = ["refit"]


def refit(run, best) -> Path | None:
    """Train ``best``'s config on train+validation for max_resource epochs when ``run``'s plan
    kept time for it; the checkpoint folder, or None (not planned, no time, or cut short)."""
    from autopreset.schedulers import FIFO
    from autopreset.searchers import ListSearcher
    from autopreset.tuner import JOURNAL_NAME, Tuner

    plan = run.state.plan
    if plan.refit_s <= 0 or best is None:
        return None
    left = run.budget.for_refit()
    if left < 0.8 * plan.refit_s:      # the plan's estimate has 10% slack; trials stop in time
        run.say(f"refit skipped: {left:.0f}s left, it needs ~{plan.refit_s / 1.1:.0f}s")
        return None
    run.say(f"refit of trial {best.trial_id}'s config on train+validation, "
            f"{plan.max_resource} epochs")
    data = run.data
    everything = np.sort(np.concatenate([data.train_idx, data.val_idx]))
    task = dataclasses.replace(run.objective.task, train_idx=everything,
                               threads=worker_threads(1, run.options.dask))
    space = {**run.preset.space,
             **{k: v for k, v in plan.constants.items() if k not in run.preset.space}}
    mode = data.kind.mode
    scheduler = FIFO(searcher=ListSearcher(space, [best.config], mode=mode), mode=mode,
                     max_resource=plan.max_resource, max_trials=1)
    run_dir = run.folder / "refit"
    fault_point("refit")
    executor, client = make_executor(1, run.options.dask)
    try:
        result = Tuner(BudgetedObjective(task), scheduler, executor=executor, budget_s=left,
                       run_dir=run_dir, resume=(run_dir / JOURNAL_NAME).exists(),
                       seed=run.state.seed, on_event=run.progress.on_refit_event).run()
    finally:
        executor.close()
        if client is not None:
            client.close()
    run.check_interrupted(result)
    trial = result.trials[0] if result.trials else None
    if trial is None or trial.resource < plan.max_resource:
        run.say("refit cut short by the budget: the search's best checkpoint is kept")
        return None
    return Path(trial.checkpoint_dir)
