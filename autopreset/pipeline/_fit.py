"""``autopreset.fit`` (defined here, in a private module so that the name ``autopreset.fit``
stays the function): the best image classifier a wall-clock budget buys, on a class folder.

    import autopreset
    predictor = autopreset.fit("photos/", budget="10m", prefer="latency", out="runs/r1")
    predictor.model_dir          # runs/r1/model: model.safetensors + model.json
    predictor.run_dir            # runs/r1: run.json, journal.jsonl, trials/, leaderboard.csv, ...
    predictor.leaderboard        # the trials, best first (dicts)

The steps (shared/DESIGN.md, "Inside fit"): scan, split and cache the data; measure each
candidate backbone's batch-1 latency on the serving device and its training speed here; map the
preference to allowed backbones; plan the phases from that cost model (``plan_only`` prints the
plan and stops); then one tuner run of :class:`~autopreset.pipeline._strategy.PortfolioHyperband`
(portfolio successive halving, narrowing, budget-aware Hyperband or ASHA with the portfolio
survivors carried in); finally the best checkpoint is saved with its leaderboard, report and a
preset card. The whole call, start-up and saving included, ends within the budget.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

__all__ = ["fit"]

PREFERENCES = ("latency", "balanced", "accuracy")
SPAWN_S = 2.0          # workers still starting (they spawn while fit measures, see _executor)


def fit(data, *, budget="10m", prefer: str = "balanced", max_latency_ms: float | None = None,
        out=None, seed: int = 0, preset="default", plan_only: bool = False, resume: bool = False,
        workers: int = 1, dask: str | None = None, device: str = "auto",
        latency_device: str | None = None, progress: bool = True, resolution: int | None = None,
        keep_checkpoints: bool = False):
    """Train within ``budget`` on ``data`` (one sub-folder per class) and return a Predictor.

    ``prefer``: "latency" (the fastest third of the candidate backbones, by latency measured
    here), "balanced" (two thirds), "accuracy" (all); ``max_latency_ms`` instead allows every
    backbone whose measured batch-1 p50 latency on ``latency_device`` (default cpu) is within
    it. ``workers`` local processes, or ``dask`` (a scheduler address) run the trials.
    ``resume`` continues the killed run in ``out`` from its journal. ``plan_only`` prints the
    plan and returns None. ``resolution`` overrides the working resolution (median image side,
    clipped to 32..128). Unless ``keep_checkpoints``, a trial's weights are deleted as soon as it
    can no longer run (it finished, or was not promoted) and the final pick can no longer
    choose it, and the rest once the model is saved; each trial keeps its checkpoint.json record.
    """
    from autopreset._duration import parse_duration
    from autopreset.pipeline._clock import Clock, process_age
    from autopreset.pipeline._runfolder import RUN_FILE, prepare_run_folder, read_json

    budget_s = parse_duration(budget)
    _check_args(prefer, max_latency_ms, device, latency_device, workers)
    started = process_age()
    folder = None if plan_only else prepare_run_folder(out, resume=resume)
    default_folder = out is None and not resume
    state = read_json(folder / RUN_FILE) if resume else None
    if state is not None:
        budget_s, prefer, seed = state["budget_s"], state["prefer"], state["seed"]
        max_latency_ms, resolution = state["max_latency_ms"], state["resolution"]
        started += state["setup_s"] + _journal_spent(folder)
    clock = Clock(budget_s, already_spent=started)
    ctx = _Context(clock, progress, keep_checkpoints)
    try:
        return _fit(ctx, data, folder, state, prefer=prefer, max_latency_ms=max_latency_ms,
                    seed=seed, preset=preset, plan_only=plan_only, workers=workers, dask=dask,
                    device=device, latency_device=latency_device or "cpu", resolution=resolution,
                    default_folder=default_folder)
    finally:
        ctx.progress.close()


class _Context:
    def __init__(self, clock, progress: bool, keep_checkpoints: bool = False):
        from autopreset.pipeline._progress import Progress

        self.clock = clock
        self.keep_checkpoints = keep_checkpoints
        self.pruner = None
        self.progress = Progress(clock, enabled=progress)

    def say(self, text: str) -> None:
        self.progress.say(text)


def _check_args(prefer, max_latency_ms, device, latency_device, workers) -> None:
    if prefer not in PREFERENCES:
        raise ValueError(f"prefer must be one of {', '.join(PREFERENCES)}; got {prefer!r}")
    if max_latency_ms is not None and not (isinstance(max_latency_ms, (int, float)) and max_latency_ms > 0):
        raise ValueError(f"max_latency_ms must be a positive number; got {max_latency_ms!r}")
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda; got {device!r}")
    if latency_device not in (None, "cpu", "cuda"):
        raise ValueError(f"latency_device must be cpu or cuda; got {latency_device!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer; got {workers!r}")
    if "cuda" in (device, latency_device):
        import torch

        if not torch.cuda.is_available():
            raise ValueError("--device/--latency-device cuda: no CUDA device is available here")


def _journal_spent(folder: Path) -> float:
    from autopreset.journal import read_journal
    from autopreset.tuner import JOURNAL_NAME

    path = folder / JOURNAL_NAME
    events = read_journal(path) if path.exists() else []
    return max((float(e.get("spent") or 0.0) for e in events), default=0.0)


def _fit(ctx, data, folder, state, *, prefer, max_latency_ms, seed, preset, plan_only, workers,
         dask, device, latency_device, resolution, default_folder):
    from autopreset.pipeline._data import prepare_data
    from autopreset.pipeline._executor import make_executor, worker_threads
    from autopreset.portfolio import Preset

    clock = ctx.clock
    preset_obj = Preset.from_json(state["preset"]) if state else _load_preset(preset)
    prepared = prepare_data(data, seed=seed, resolution=resolution)
    if state and prepared.dataset.fingerprint != state["fingerprint"]:
        raise ValueError(f"--resume: {data} is not the data of the run in {folder} "
                         "(its content fingerprint differs)")
    ctx.say(f"data: {prepared.describe()} ({clock.elapsed():.1f}s)")
    dev = _device(device)
    n_workers = _n_workers(workers, dask) if not state else state["plan"]["n_workers"]
    threads = worker_threads(n_workers, dask)
    if threads is not None:          # measure speeds as the workers will train
        import torch

        torch.set_num_threads(threads)
    objective = _objective(prepared, dev, threads)
    executor, client = (None, None) if plan_only else make_executor(n_workers, dask, objective)
    try:                                                 # (local workers start meanwhile)
        return _after_setup(ctx, folder, state, data, prepared, preset_obj, objective, executor,
                            dev, n_workers, dask, prefer=prefer, max_latency_ms=max_latency_ms,
                            seed=seed, plan_only=plan_only, latency_device=latency_device,
                            default_folder=default_folder)
    finally:
        if executor is not None:
            executor.close()
        if client is not None:
            client.close()


def _objective(prepared, dev, threads):
    from autopreset.pipeline._objective import BudgetedObjective
    from autopreset.training import TrainingTask

    return BudgetedObjective(TrainingTask(
        cache=prepared.cache, labels=prepared.dataset.labels, train_idx=prepared.train_idx,
        val_idx=prepared.val_idx, classes=tuple(prepared.dataset.classes), device=dev,
        threads=threads))


def _after_setup(ctx, folder, state, data, prepared, preset_obj, objective, executor, dev,
                 n_workers, dask, *, prefer, max_latency_ms, seed, plan_only, latency_device,
                 default_folder):
    from autopreset.pipeline._cost import CostModel
    from autopreset.pipeline._finish import pick_best
    from autopreset.pipeline._plan import FitPlan
    from autopreset.pipeline._preference import Preference
    from autopreset.pipeline._refit import refit
    from autopreset.pipeline._runfolder import RUN_FILE, create_run_folder, write_json

    clock = ctx.clock
    if state:
        pref = Preference(**state["preference"])
        cost = CostModel.from_json(state["cost"])
        plan = FitPlan.from_json(state["plan"])
    else:
        pref = _measure_preference(ctx, preset_obj, prepared, prefer, max_latency_ms, latency_device,
                                   seconds=min(10.0, 0.04 * clock.budget_s))
        ctx.say(f"{pref.describe()} ({clock.elapsed():.1f}s)")
        allowed = [dict(e.config) for e in preset_obj.portfolio if pref.allows(e.config["backbone"])]
        if not allowed:
            raise ValueError(f"no config of preset {preset_obj.name!r} uses an allowed backbone "
                             f"({', '.join(pref.allowed)})")
        from autopreset.pipeline._cost import measure_cost_model

        cost = measure_cost_model(dict.fromkeys(c["backbone"] for c in allowed), prepared,
                                  device=dev, threads=objective.task.threads)
        from autopreset.pipeline._data import mirror_check

        mirror = mirror_check(prepared, random_state=seed)
        ctx.say(f"{mirror.describe()} ({clock.elapsed():.1f}s)")
        plan = dataclasses.replace(_make_plan(clock, cost, allowed, n_workers, preset_obj),
                                   flip=mirror.flip)
    if plan_only:
        print(plan.describe())
        return None
    ctx.say(f"{plan.describe()}\n  (planned after {clock.elapsed():.1f}s of setup)")
    if not state:
        create_run_folder(folder, default=default_folder)
        write_json(folder / RUN_FILE, {
            "format": "autopreset.run/1", "data": str(Path(data).resolve()),
            "fingerprint": prepared.dataset.fingerprint, "budget_s": clock.budget_s,
            "prefer": prefer, "max_latency_ms": max_latency_ms, "seed": seed,
            "resolution": prepared.resolution, "device": dev, "latency_device": latency_device,
            "setup_s": clock.elapsed(), "preset": preset_obj.to_json(),
            "preference": pref.to_json(), "cost": cost.to_json(), "plan": plan.to_json(),
            "mirror_check": mirror.to_json()})
    result, scheduler = _search(ctx, folder, plan, pref, preset_obj, objective, executor, seed,
                                resume=state is not None, n_val=prepared.n_val)
    picked = pick_best(result, prepared.n_val, _fast_first(pref))
    refit_dir = refit(ctx, folder, prepared, plan, preset_obj, picked and picked[0], dev, dask, seed)
    return _finish(ctx, folder, prepared, plan, pref, preset_obj, result, scheduler, picked, refit_dir)


def _fast_first(pref):
    """Backbone latencies when the final pick should favour speed (``--prefer latency``)."""
    return dict(pref.latency_ms) if pref.prefer == "latency" else None


def _load_preset(preset):
    from autopreset.portfolio import load_preset

    try:
        return load_preset(preset)
    except FileNotFoundError as exc:
        raise ValueError(f"--preset {preset!r}: {exc}") from None


def _device(device: str) -> str:
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _n_workers(workers: int, dask: str | None) -> int:
    if dask is None:
        return workers
    from distributed import Client

    with Client(dask, timeout=10) as client:
        return max(1, sum(client.nthreads().values()))


def _measure_preference(ctx, preset, prepared, prefer, max_latency_ms, latency_device, seconds):
    """Measure every portfolio backbone's latency; one that cannot run at the working
    resolution (too small an input for its downsampling) is left out with a notice."""
    from autopreset.pipeline._preference import choose_backbones
    from autopreset.backbones import profile_latency

    names = list(dict.fromkeys(e.config["backbone"] for e in preset.portfolio))
    each = max(0.1, min(1.0, seconds / len(names)))
    latency = {}
    for name in names:
        try:
            latency[name] = profile_latency([name], prepared.resolution, device=latency_device,
                                            max_seconds=each, batch_size=4)[name].p50_ms
        except (RuntimeError, ValueError) as exc:
            ctx.say(f"{name} left out: it does not run at {prepared.resolution}px "
                    f"({str(exc).splitlines()[0][:100]})")
    if not latency:
        raise ValueError(f"no backbone of preset {preset.name!r} runs at {prepared.resolution}px")
    return choose_backbones(latency, prefer, max_latency_ms, device=latency_device)


def finish_reserve(budget_s: float) -> float:
    """Seconds kept for the finish: the tuner's kill grace, saving, report, exiting."""
    return 6.0 + 0.035 * budget_s


def _make_plan(clock, cost, allowed, n_workers, preset):
    from autopreset.pipeline._plan import make_plan

    hb = preset.hyperband
    return make_plan(budget_s=clock.budget_s, left_s=clock.left() - SPAWN_S,
                     reserve_s=finish_reserve(clock.budget_s), cost=cost, portfolio=allowed,
                     n_workers=n_workers, eta=hb.eta, max_resource_cap=hb.max_resource)


def _search(ctx, folder, plan, pref, preset, objective, executor, seed, *, resume, n_val):
    from autopreset.pipeline._finish import WeightPruner
    from autopreset.pipeline._strategy import PortfolioHyperband
    from autopreset.tuner import Tuner

    clock = ctx.clock
    scheduler = PortfolioHyperband(space=preset.space, plan=plan, allowed=set(pref.allowed),
                                   mode="max", random_state=seed)
    spent_before = _journal_spent(folder) if resume else 0.0
    search_s = max(0.1, clock.left() - plan.reserve_s - plan.refit_s)   # none left: finish
    ctx.progress.scheduler = scheduler
    # the weights of trials that can no longer be picked go as soon as they retire
    ctx.pruner = None if ctx.keep_checkpoints else WeightPruner(n_val, _fast_first(pref))
    tuner = Tuner(objective, scheduler, executor=executor, budget_s=spent_before + search_s,
                  run_dir=folder, resume=resume, seed=seed, on_event=ctx.progress.on_event,
                  on_retire=ctx.pruner)
    return tuner.run(), scheduler


def _finish(ctx, folder, prepared, plan, pref, preset, result, scheduler, picked, refit=None):
    from autopreset.pipeline._finish import drop_trial_weights, save_model, trial_records, write_outputs

    clock = ctx.clock
    ctx.progress.close()
    if picked is None:
        reasons = "; ".join(sorted({t.reason for t in result.trials if t.reason}))[:300]
        raise ValueError(f"no trial finished an epoch within the budget of {clock.budget_s:.0f}s "
                         f"({reasons or 'no trials ran'}); give a larger --budget")
    best, which = picked
    backbone = best.config["backbone"]
    latency = {"p50": pref.latency_ms[backbone], "device": pref.device,
               "batch_size": 1, "input_size": prepared.resolution, "bound_ms": pref.bound_ms,
               "prefer": pref.prefer}
    extra = {"trial_id": best.trial_id, "trials": len(result.trials), "refit": refit is not None}
    if refit is None:
        extra["kept_epoch"] = which
        predictor = save_model(Path(best.checkpoint_dir), folder / "model", prepared=prepared,
                               latency_ms=latency, extra_metrics=extra, which=which)
    else:      # trained on the validation images too: the search's validation score stands
        extra["val_accuracy_search"] = max(r["metric"] for r in best.results)
        predictor = save_model(refit, folder / "model", prepared=prepared, latency_ms=latency,
                               extra_metrics=extra, which="last")
        predictor.card.metrics["val_accuracy"] = extra["val_accuracy_search"]
        predictor.save(folder / "model")
    records = trial_records(result.trials, pref.latency_ms, set(scheduler._portfolio_trials))
    ds = prepared.dataset
    notes = write_outputs(folder, records, chosen=best.trial_id, summary=plan.describe(),
                          preset=preset, with_plots=clock.left() > 6.0,
                          dataset_text=f"{Path(ds.root).name} ({len(ds)} images, {len(ds.classes)} classes)")
    for note in notes:
        ctx.say(note)
    if not ctx.keep_checkpoints:
        during = ctx.pruner.freed if ctx.pruner is not None else 0
        freed = drop_trial_weights(result.trials, keep=best.checkpoint_dir)
        ctx.say(f"trial weights deleted ({during / 1e6:.0f} MB during the search, {freed / 1e6:.0f} MB "
                "at the end; --keep-checkpoints keeps them)")
    predictor.run_dir = folder
    predictor.leaderboard = sorted(records, key=lambda r: -max(
        (x["metric"] for x in r["results"]), default=-1.0))
    predictor.tuning = result
    card = predictor.card
    ctx.say(f"done in {clock.elapsed():.0f}s of {clock.budget_s:.0f}s: {len(result.trials)} trials, "
            f"best {card.backbone} (trial {best.trial_id}), validation accuracy "
            f"{card.metrics['val_accuracy']:.4f}, latency p50 {card.latency_ms['p50']:.2f} ms")
    return predictor
