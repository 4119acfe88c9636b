"""``--resume``: continue a run from its folder, with a new budget if one is given, and what
happens when its data changed. :meth:`FitRun.setup <autopreset.pipeline.FitRun.setup>` calls
these once the run folder is locked, run.json read and the data scanned:

- :func:`resume`: the run keeps its preference, seed and resolution (saying so where the
  command gave others); a budget given is the run's new total ("--resume: budget raised from
  60s to 300s"), the time the run spent still counted, and run.json records it;
- :func:`restart`: the data's fingerprint differs from the run's: refused with what changed in
  counts, or with ``on_data_change="restart"`` the old run's files go and the search starts
  afresh in that folder with this command's settings;
- :func:`resumed_plan`: what ``--resume --plan`` prints.
"""
from __future__ import annotations

import dataclasses

from autopreset.errors import InputError

from ._budget import Budget
from ._state import RunState

__all__ = ["resume", "restart", "resumed_plan"]


def resume(run, state: RunState) -> None:
    """Continue ``state``'s run in ``run`` (a FitRun): its budget, charged with the time spent."""
    from ._runfolder import RUN_FILE, journal_spent, write_json

    opt, given = run.options, run.budget
    kept = state.kept(prefer=opt.prefer, seed=opt.seed, max_latency_ms=opt.max_latency_ms,
                      resolution=opt.resolution)
    if kept:
        run.say("--resume keeps the run's " + ", ".join(kept))
    total = given.total_s if run.budget_given else state.budget_s
    budget = Budget(total, counts_setup=given.counts_setup, clock=given.now)
    budget.charge(given.elapsed() + state.setup_s)
    budget.charge(journal_spent(run.folder), setup=False)
    if abs(total - state.budget_s) > 1e-6:
        spent, left = budget.elapsed(), budget.left()
        if left <= budget.reserve_s:
            raise InputError(f"--resume --budget {total:g}s: the run has already spent "
                             f"{spent:.0f}s and its finish needs {budget.reserve_s:.0f}s; "
                             "give a larger --budget")
        run.say(f"--resume: budget {'raised' if total > state.budget_s else 'lowered'} from "
                f"{state.budget_s:g}s to {total:g}s ({spent:.0f}s spent, {left:.0f}s left)")
        state = dataclasses.replace(state, budget_s=total)
        write_json(run.folder / RUN_FILE, state.to_json())
    run.budget = run.progress.budget = budget
    run.state, run.resumed = state, True


def restart(run, state: RunState, change: str) -> None:
    """The data changed (``change`` says how): refuse, or make ``run`` a new run in its folder."""
    from ._data import prepare_data
    from ._runfolder import discard_run

    opt = run.options
    if opt.on_data_change != "restart":
        raise InputError(f"--resume: the data changed since the run in {run.folder} started: "
                         f"{change}; --on-data-change restart starts the search afresh there, "
                         "or pass another --out")
    n = discard_run(run.folder)
    run.say(f"--on-data-change restart: the data changed since the run started ({change}); "
            f"the old run in {run.folder} ({n} trials) is discarded and the search starts afresh")
    run.options = opt = dataclasses.replace(opt, resume=False)
    run.state = None
    run.preset = run._load_preset()
    d = run.data
    resolution = opt.resolution or run.resolution_chooser(run.threads)(d.dataset.paths)
    if opt.seed != state.seed or resolution != d.resolution:   # split or size differ: again
        run.data = prepare_data(opt.data, seed=opt.seed, task=opt.task, resolution=resolution)


def resumed_plan(run) -> str:
    """``--resume --plan``: the run's plan as run.json holds it, and the time it has spent."""
    from ._runfolder import journal_spent

    st = run.state
    spent = st.setup_s + journal_spent(run.folder)
    text = f"{run.folder}: {spent:.0f}s of the run's {st.budget_s:g}s budget spent; "
    if (run.folder / "model").is_dir():
        text += "it has finished (model/ saved)"
    else:
        text += "--resume continues it"
        if run.budget_given and abs(run.budget.total_s - st.budget_s) > 1e-6:
            text += (f" (with --budget {run.budget.total_s:g}s, "
                     f"{run.budget.total_s - spent:.0f}s left)")
    return f"{st.plan.describe()}\n{text}"
