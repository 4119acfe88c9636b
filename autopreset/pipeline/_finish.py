"""Finish a fit: the best checkpoint becomes the model folder; leaderboard, report, preset card.

The model folder records the backbone's batch-1 latency measured on the serving device during
planning (the same measurement the preference was decided on).
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

from autopreset._faults import fault_point

__all__ = ["finish", "save_model", "write_outputs", "trial_records", "drop_trial_weights",
           "chance_warning", "started_from", "weights_summary"]


def save_model(checkpoint_dir: Path, model_dir: Path, *, prepared, latency_ms: dict,
               extra_metrics: dict | None = None, which: str = "best"):
    """Load the best (or last) epoch of a trial and save it as ``model_dir``; returns the
    Predictor."""
    from autopreset.model import ModelCard, Predictor, library_versions
    from autopreset.training import load_model_from_checkpoint

    module, meta = load_model_from_checkpoint(checkpoint_dir, which=which)
    metrics = {"val_accuracy": meta["metric"], "epoch": meta["epoch"],
               "n_train": prepared.n_train, "n_val": prepared.n_val}
    metrics.update(extra_metrics or {})
    card = ModelCard(
        backbone=meta["backbone"], classes=list(meta["classes"]), input_size=int(meta["input_size"]),
        mean=list(meta["mean"]), std=list(meta["std"]), config=dict(meta["config"]),
        metrics=metrics, latency_ms=latency_ms, pretrained=str(meta.get("weights_source") or "none"),
        data_fingerprint=prepared.dataset.fingerprint, versions=library_versions(),
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    predictor = Predictor(module, card)
    predictor.save(model_dir)
    return predictor


def trial_records(trials, latency_ms: dict[str, float], portfolio_ids: set[int],
                  weights: dict[str, str] | None = None) -> list[dict]:
    """Tuner trials as report records (with their backbone's latency and phase, and what it
    started from: ``weights`` is "random" or "file:<weights file>", see :func:`started_from`)."""
    out = []
    for t in trials:
        out.append({"trial_id": t.trial_id, "config": t.config, "status": t.status,
                    "results": [dict(r) for r in t.results],
                    "latency_ms": latency_ms.get(t.config.get("backbone")),
                    "phase": "portfolio" if t.trial_id in portfolio_ids else "hyperband",
                    "weights": started_from(t, weights or {})})
    return out


def started_from(trial, weights: dict[str, str]) -> str:
    """What ``trial``'s backbone started from, as its reports say ("random", "file:<path>",
    "hf-cache", "network"); for a trial that never reported, as the run's ``weights`` say."""
    for result in trial.results:
        if result.get("weights"):
            return str(result["weights"])
    file = weights.get(trial.config.get("backbone"))
    return "random" if file is None else ("network" if file == "hub" else f"file:{file}")


def weights_summary(trials, weights: dict[str, str]) -> str:
    """"12 trials (3 fine-tuned from weights, 9 from random init)", or "(all from random
    init)": pretrained and random trials are never compared without saying so."""
    n = len(trials)
    pre = sum(started_from(t, weights) != "random" for t in trials)
    if not pre:
        return f"{n} trials (all from random init)"
    return f"{n} trials ({pre} fine-tuned from weights, {n - pre} from random init)"


def write_outputs(folder: Path, records: list[dict], *, chosen: int, summary: str, preset,
                  card: dict, with_plots: bool, diagnostics=None) -> list[str]:
    """leaderboard.csv (+ report.html with plots when there is time, with ``diagnostics``: a
    ``report.RunDiagnostics``) and preset.json."""
    from autopreset.portfolio import preset_from_run, save_preset
    from autopreset.report import write_leaderboard, write_report

    notes = []
    fault_point("report")
    if with_plots:
        write_report(folder, records, summary=summary, chosen_trial_id=chosen, mode="max",
                     title=f"autopreset run {folder.name}", diagnostics=diagnostics)
    else:
        write_leaderboard(records, folder / "leaderboard.csv", mode="max")
        notes.append("report.html skipped: too little time left in the budget")
    try:
        save_preset(preset_from_run(records, base=preset, **card), folder / "preset.json")
    except ValueError as exc:
        notes.append(f"preset card not written: {exc}")
    return notes


def drop_trial_weights(trials, keep: str | None) -> int:
    """Delete the tensor files of every trial checkpoint but ``keep`` (a checkpoint folder), once
    the model folder is saved; each trial keeps its checkpoint.json (history, config). Returns
    the bytes freed. A 15-minute fit on one core leaves about 50 trials of model + optimizer
    state (4 GB for 1,800 images of digits); the model folder holds what the run produced."""
    from autopreset.training import drop_weights

    keep_path = Path(keep).resolve() if keep else None
    return sum(drop_weights(Path(t.checkpoint_dir)) for t in trials
               if t.checkpoint_dir and Path(t.checkpoint_dir).resolve() != keep_path)


def finish(run):
    """Save ``run``'s picked trial (or its refit) as ``<run>/model``, write the leaderboard,
    report and preset card, delete the other trials' weights; the Predictor."""
    run.progress.close()
    best, which = run.picked
    predictor = _save(run, best, which)
    st, folder = run.state, run.folder
    records = trial_records(run.result.trials, st.preference.latency_ms,
                            set(run.scheduler.portfolio_trial_ids), run.weights)
    from ._card import card_arguments

    from ._diagnose import REPORT_MIN_S, for_report

    with_plots = run.budget.left() > REPORT_MIN_S
    diagnostics = for_report(run, predictor, best, which) if with_plots else None
    notes = write_outputs(folder, records, chosen=best.trial_id, summary=st.plan.describe(),
                          preset=run.preset, with_plots=with_plots, diagnostics=diagnostics,
                          card=card_arguments(run))   # preset_from_run's arguments: no paths
    for note in notes:
        run.say(note)
    if not run.options.keep_checkpoints:
        during = run.pruner.freed if run.pruner is not None else 0
        freed = drop_trial_weights(run.result.trials, keep=best.checkpoint_dir)
        run.say(f"trial weights deleted ({during / 1e6:.0f} MB during the search, "
                f"{freed / 1e6:.0f} MB at the end; --keep-checkpoints keeps them)")
    predictor.run_dir = folder
    predictor.leaderboard = sorted(records, key=lambda r: -max(
        (x["metric"] for x in r["results"]), default=-1.0))
    predictor.tuning = run.result
    card = predictor.card
    warning = chance_warning(card.metrics.get("val_accuracy"), run.data)
    if warning:                        # shown with --quiet too: the model is not worth using
        import sys

        print(f"autopreset: {warning}", file=sys.stderr, flush=True)
    run.say(f"done in {run.budget.elapsed():.0f}s of {run.budget.total_s:.0f}s: "
            f"{weights_summary(run.result.trials, run.weights)}, best {card.backbone} "
            f"(trial {best.trial_id}, {_started(started_from(best, run.weights))}), "
            f"validation accuracy {card.metrics['val_accuracy']:.4f}, "
            f"latency p50 {card.latency_ms['p50']:.2f} ms")
    return predictor


def _started(source: str) -> str:
    if source == "random":
        return "random init"
    return f"fine-tuned from {source.removeprefix('file:')}"


def chance_warning(val_accuracy, data) -> str | None:
    """A warning when the model is no better than always answering the validation split's most
    common class (a diverged or untrained model), with what to try; None otherwise."""
    import numpy as np

    if val_accuracy is None or getattr(data.kind, "name", "") != "classification":
        return None
    labels = np.asarray(data.dataset.labels)[np.asarray(data.val_idx)]
    if labels.size == 0:
        return None
    majority = float(np.bincount(labels).max() / labels.size)
    margin = max(0.02, 2 * float(np.sqrt(majority * (1 - majority) / labels.size)))
    if float(val_accuracy) > majority + margin:
        return None
    return (f"warning: the saved model is no better than chance: validation accuracy "
            f"{float(val_accuracy):.3f}, and always answering the most common class scores "
            f"{majority:.3f}; the search found nothing that learns in this budget (give it a "
            f"longer --budget, or check that the folders' labels match their images)")


def _save(run, best, which):
    """The model folder from the picked checkpoint, or from the refit when it ran."""
    pref, data = run.state.preference, run.data
    backbone = best.config["backbone"]
    latency = {"p50": pref.latency_ms[backbone], "device": pref.device, "batch_size": 1,
               "input_size": data.resolution, "bound_ms": pref.bound_ms, "prefer": pref.prefer}
    extra = {"trial_id": best.trial_id, "trials": len(run.result.trials),
             "trials_from_weights": sum(started_from(t, run.weights) != "random"
                                        for t in run.result.trials),
             "refit": run.refit_dir is not None, "task": data.kind.name}
    model_dir = run.folder / "model"
    if run.refit_dir is None:
        extra["kept_epoch"] = which
        return save_model(Path(best.checkpoint_dir), model_dir, prepared=data,
                          latency_ms=latency, extra_metrics=extra, which=which)
    # trained on the validation images too: the search's validation score stands
    extra["val_accuracy_search"] = max(r["metric"] for r in best.results)
    predictor = save_model(run.refit_dir, model_dir, prepared=data, latency_ms=latency,
                           extra_metrics=extra, which="last")
    predictor.card.metrics["val_accuracy"] = extra["val_accuracy_search"]
    predictor.save(model_dir)
    return predictor
