"""``autopreset.fit``: the best image classifier a wall-clock budget buys, on a class folder.

    import autopreset
    predictor = autopreset.fit("photos/", budget="10m", prefer="latency", out="runs/r1")
    predictor.model_dir          # runs/r1/model: model.safetensors + model.json
    predictor.run_dir            # runs/r1: run.json, trials/, model/

The steps (shared/DESIGN.md, "Inside fit"): scan and plan, preference, portfolio, narrowing,
budget-aware Hyperband, finish. The whole call, start-up and saving included, ends within
the budget.
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

__all__ = ["fit"]

PREFERENCES = ("latency", "balanced", "accuracy")


def fit(data, *, budget="10m", prefer: str = "balanced", max_latency_ms: float | None = None,
        out=None, seed: int = 0, preset="default", plan_only: bool = False, resume: bool = False,
        workers: int = 1, dask: str | None = None, device: str = "auto",
        latency_device: str | None = None, progress: bool = True, resolution: int | None = None):
    """Train within ``budget`` on ``data`` (one sub-folder per class) and return a Predictor.

    ``prefer``: "latency" (the fastest backbones), "balanced", "accuracy" (all, large ones
    included); ``max_latency_ms`` bounds the batch-1 latency measured on ``latency_device``
    (default cpu). ``plan_only`` prints the plan and returns None. ``resolution`` overrides
    the working resolution chosen from the images (median side, clipped to 32..128).
    """
    from autopreset._duration import parse_duration
    from autopreset._pipeline._clock import Clock, process_age
    from autopreset._pipeline._data import prepare_data
    from autopreset._pipeline._runfolder import RUN_FILE, prepare_run_folder, write_json

    budget_s = parse_duration(budget)
    clock = Clock(budget_s, already_spent=process_age())
    if prefer not in PREFERENCES:
        raise ValueError(f"prefer must be one of {', '.join(PREFERENCES)}; got {prefer!r}")
    if max_latency_ms is not None and not (max_latency_ms > 0):
        raise ValueError(f"max_latency_ms must be a positive number; got {max_latency_ms!r}")
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda; got {device!r}")
    latency_device = latency_device or "cpu"
    say = _printer(progress)
    folder = None if plan_only else prepare_run_folder(out, resume=resume)
    preset_obj = _load_preset(preset)
    prepared = prepare_data(data, seed=seed, resolution=resolution)
    say(f"data: {prepared.describe()}")
    pref = _measure_preference(preset_obj, prepared, prefer, max_latency_ms, latency_device,
                               seconds=min(10.0, 0.05 * budget_s))
    say(pref.describe())
    config = next(dict(e.config) for e in preset_obj.portfolio if pref.allows(e.config["backbone"]))
    plan = _plan_single(config, prepared, clock, device)
    say(plan["text"])
    if plan_only:
        print(plan["text"])
        return None
    write_json(folder / RUN_FILE, {"data": str(Path(data).resolve()), "budget_s": budget_s,
                                   "prefer": prefer, "seed": seed, "config": config,
                                   "resolution": prepared.resolution, "plan": plan["json"]})
    trial_dir = folder / "trials" / "0000"
    _train_one(config, prepared, trial_dir, plan, clock, seed=seed, device=device, say=say)
    from autopreset._pipeline._finish import save_model

    predictor = save_model(trial_dir, folder / "model", prepared=prepared,
                           latency_device=latency_device)
    predictor.run_dir = folder
    say(f"done in {clock.elapsed():.0f}s of {budget_s:.0f}s: validation accuracy "
        f"{predictor.card.metrics['val_accuracy']:.4f}, {predictor.card.backbone}, "
        f"latency p50 {predictor.card.latency_ms['p50']:.2f} ms")
    return predictor


def _printer(progress: bool):
    def say(text: str) -> None:
        if progress:
            print(text, file=sys.stderr, flush=True)
    return say


def _load_preset(preset):
    from autopreset.portfolio import load_preset

    try:
        return load_preset(preset)
    except FileNotFoundError as exc:
        raise ValueError(f"--preset {preset!r}: {exc}") from None


def _measure_preference(preset, prepared, prefer, max_latency_ms, latency_device, seconds):
    from autopreset._pipeline._preference import choose_backbones
    from autopreset.backbones import profile_latency

    names = list(dict.fromkeys(e.config["backbone"] for e in preset.portfolio))
    prof = profile_latency(names, prepared.resolution, device=latency_device,
                           max_seconds=max(0.1, min(1.0, seconds / len(names))))
    return choose_backbones({n: prof[n].p50_ms for n in names}, prefer, max_latency_ms)


FINISH_RESERVE_S = 6.0


def _plan_single(config, prepared, clock, device) -> dict:
    from autopreset._pipeline._speed import measure_train_speed

    dev = _device(device)
    speed = measure_train_speed([config["backbone"]], prepared.resolution,
                                batch_size=int(config["batch_size"]),
                                n_classes=len(prepared.dataset.classes), device=dev)[config["backbone"]]
    epoch_s = 1.3 * (prepared.n_train / speed.train_ips + prepared.n_val / speed.eval_ips) + 0.1
    reserve = FINISH_RESERVE_S + 0.02 * clock.budget_s
    train_s = clock.left() - reserve - 2 * speed.build_s
    epochs = int(max(1, min(200, math.floor(train_s / epoch_s))))
    text = (f"plan: {config['backbone']} at {prepared.resolution}px, ~{epoch_s:.2f}s/epoch "
            f"({speed.train_ips:.0f} img/s), {epochs} epochs in {train_s:.0f}s, "
            f"{reserve:.0f}s reserved to finish")
    return {"text": text, "epochs": epochs, "epoch_s": epoch_s, "reserve_s": reserve,
            "json": {"epochs": epochs, "epoch_s": epoch_s, "reserve_s": reserve,
                     "train_ips": speed.train_ips}}


def _device(device: str) -> str:
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _train_one(config, prepared, trial_dir, plan, clock, *, seed, device, say) -> None:
    from autopreset._pipeline._trial import DeadlineReporter
    from autopreset.training import TrainingTask

    task = TrainingTask(cache=prepared.cache, labels=prepared.dataset.labels,
                        train_idx=prepared.train_idx, val_idx=prepared.val_idx,
                        classes=tuple(prepared.dataset.classes), device=device)
    t0 = time.time()

    def show(r):
        say(f"epoch {r['resource']}/{plan['epochs']}: val acc {r['metric']:.4f}, "
            f"{r.get('seconds', 0):.1f}s, {clock.left():.0f}s left")

    reporter = DeadlineReporter(checkpoint_dir=trial_dir, max_resource=plan["epochs"],
                                stop_at=clock.deadline - plan["reserve_s"], seed=seed, on_report=show)
    task(config, reporter)
    if not reporter.results:
        raise RuntimeError("the budget did not allow a single epoch")
    del t0
