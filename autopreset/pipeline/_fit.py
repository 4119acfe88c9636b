"""``autopreset.fit``: the best image classifier a wall-clock budget buys, on a class folder.

    import autopreset
    predictor = autopreset.fit("photos/", budget="10m", prefer="latency", out="runs/r1")
    predictor.model_dir          # runs/r1/model: model.safetensors + model.json
    predictor.run_dir            # runs/r1: run.json, journal.jsonl, trials/, leaderboard.csv, ...
    predictor.leaderboard        # the trials, best first (dicts)

The steps are those of :class:`~autopreset.pipeline.FitRun`; this function checks the
arguments once (:class:`~autopreset.pipeline.FitOptions`), makes the one
:class:`~autopreset.pipeline.Budget`, and runs them.
"""
from __future__ import annotations

__all__ = ["fit"]


def fit(data, *, budget=None, prefer: str = "balanced", max_latency_ms: float | None = None,
        out=None, seed: int = 0, preset: str | None = None, plan_only: bool = False,
        resume: bool = False, workers: int = 1, dask: str | None = None, device: str = "auto",
        latency_device: str | None = None, progress: bool = True, resolution: int | None = None,
        keep_checkpoints: bool = False, task: str = "classification",
        on_data_change: str = "refuse", tensorboard_dir=None, weights=None,
        fidelity: str = "auto"):
    """Train within ``budget`` on ``data`` (one sub-folder per class) and return a Predictor.

    ``budget``: a duration ("90s", "10m", "1h30m", seconds) for the whole call, set-up
    included, or a :class:`~autopreset.pipeline.Budget` (``Budget("1m", counts_setup=False)``
    gives the search a minute however long set-up takes); default 10 minutes. ``prefer``:
    "latency" (the fastest third of the candidate backbones, by latency measured here),
    "balanced" (two thirds), "accuracy" (all); ``max_latency_ms`` instead allows every backbone
    whose measured batch-1 p50 latency on ``latency_device`` (default cpu) is within it.
    ``preset``: a shipped preset name or a preset file (default: the shipped "default", whose
    portfolio spans every tier). ``workers`` local processes, or ``dask`` (a scheduler
    address), run the trials. ``resume`` continues the killed run in ``out`` from its journal,
    keeping its preference, seed and resolution, and its budget unless ``budget`` is given:
    then that is the run's new total, the time it has spent still counted. ``resume`` refuses
    data that changed since the run started (the fingerprint in run.json), unless
    ``on_data_change="restart"``: then the old run is discarded and the search starts afresh
    in ``out``. One fit at a time per ``out`` folder: another fit on it is refused at once.
    ``plan_only`` prints the plan and returns None (with ``resume``: the run's plan and the
    time it has spent). ``resolution`` overrides the input size fit chooses from the images and
    the budget (the largest of 32..256 px within the images' median side at which the search
    still affords a Hyperband bracket; the plan says why). ``weights``: a folder of ``<backbone>.safetensors`` files (or a Hugging
    Face cache, or "hub" for timm's download): the backbones it holds weights for are fine-tuned
    from them, with the fine-tuning recipes of the shipped "finetune" preset tried first; by
    default every backbone starts from random init. Unless ``keep_checkpoints``, a trial's
    weights are deleted as soon as the final pick can no longer choose it. ``tensorboard_dir``: each trial's curves (validation
    accuracy and loss, training loss, per epoch) as TensorBoard runs there (``trial_00003/``).
    ``fidelity``: "auto" trains the first rung on a stratified subset or at a smaller size
    where the cost model says full epochs are too expensive to rank configs (the plan says);
    "full" trains every epoch at full fidelity.

    Errors: :class:`~autopreset.errors.InputError` (a ValueError) for bad arguments or data,
    :class:`~autopreset.errors.RunError` when no trial finished within the budget,
    :class:`~autopreset.errors.Interrupted` on Ctrl-C or SIGTERM (the run can be resumed when
    it had started: ``Interrupted.resume_hint``).
    """
    from ._budget import Budget
    from ._options import FitOptions
    from ._run import FitRun

    the_budget = None if budget is None else Budget.of(budget)
    options = FitOptions(
        data=str(data), prefer=prefer, max_latency_ms=max_latency_ms,
        out=None if out is None else str(out), seed=seed, preset=preset or "default",
        plan_only=plan_only, resume=resume, workers=workers,
        dask=dask, device=device, latency_device=latency_device or "cpu", progress=progress,
        resolution=resolution, keep_checkpoints=keep_checkpoints, task=task,
        on_data_change=on_data_change, weights=None if weights is None else str(weights),
        tensorboard_dir=None if tensorboard_dir is None else str(tensorboard_dir),
        fidelity=fidelity)
    return FitRun(options, the_budget).run()
