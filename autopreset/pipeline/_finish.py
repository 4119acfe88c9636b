"""Finish a fit: the best checkpoint becomes the model folder; leaderboard, report, preset card.

The model folder records the backbone's batch-1 latency measured on the serving device during
planning (the same measurement the preference was decided on).
"""
from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path

__all__ = ["save_model", "write_outputs", "trial_records", "pick_best", "drop_trial_weights"]


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


def trial_records(trials, latency_ms: dict[str, float], portfolio_ids: set[int]) -> list[dict]:
    """Tuner trials as report records (with their backbone's latency and phase)."""
    out = []
    for t in trials:
        out.append({"trial_id": t.trial_id, "config": t.config, "status": t.status,
                    "results": [dict(r) for r in t.results],
                    "latency_ms": latency_ms.get(t.config.get("backbone")),
                    "phase": "portfolio" if t.trial_id in portfolio_ids else "hyperband"})
    return out


def write_outputs(folder: Path, records: list[dict], *, chosen: int, summary: str, preset,
                  dataset_text: str, with_plots: bool) -> list[str]:
    """leaderboard.csv (+ report.html with plots when there is time) and preset.json."""
    from autopreset.portfolio import preset_from_run, save_preset
    from autopreset.report import write_leaderboard, write_report

    notes = []
    if with_plots:
        write_report(folder, records, summary=summary, chosen_trial_id=chosen, mode="max",
                     title=f"autopreset run {folder.name}")
    else:
        write_leaderboard(records, folder / "leaderboard.csv", mode="max")
        notes.append("report.html skipped: too little time left in the budget")
    try:
        card = preset_from_run(records, base=preset, name=f"run-{folder.name}"[:60],
                               dataset=dataset_text, run=str(folder))
        save_preset(card, folder / "preset.json")
    except ValueError as exc:
        notes.append(f"preset card not written: {exc}")
    return notes


def pick_best(result, n_val: int | None = None, latency_ms: dict[str, float] | None = None):
    """(trial, which epoch to keep: "best" or "last") with the best validation accuracy in its
    saved checkpoint, or None. The checkpoint, not the journal, decides: a trial killed at the
    deadline reported epochs its checkpoint may not hold.

    Within a trial the last epoch is kept unless the best epoch beats it by more than one
    standard error of a validation accuracy on ``n_val`` images: at the end of the cosine
    schedule the weights are annealed, while the arg-max over noisy per-epoch scores is biased
    upward (on MNIST-5k here: best epoch 0.9788 val / 0.965 test, last epoch 0.9788 / 0.980).

    With ``latency_ms`` (backbone -> ms; ``--prefer latency``) the one-standard-error rule
    (Breiman et al. 1984; Hastie et al., ESL 7.10) picks among trials: of those within one
    standard error of the best validation accuracy, the one with the fastest backbone, since a
    difference smaller than the validation set can resolve buys no accuracy and costs latency.
    """
    scored = [x for x in (_score(t, n_val) for t in result.trials) if x is not None]
    if not scored:
        return None
    top = max(scored, key=lambda x: x[:3])
    if latency_ms:
        close = [x for x in scored if x[0] >= top[0] - _standard_error(top[0], n_val)]
        top = min(close, key=lambda x: (latency_ms.get(x[3].config.get("backbone"), math.inf),
                                        -x[0], -x[1], -x[2]))
    return top[3], top[4]


def _score(trial, n_val: int | None):
    """``(accuracy, epoch, -trial_id, trial, which)`` of the epoch ``pick_best`` would keep from
    the trial's saved checkpoint; None for a failed trial or one without weights."""
    path = Path(trial.checkpoint_dir or "") / "checkpoint.json"
    if trial.status == "failed" or not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    best, history = meta.get("best") or {}, meta.get("history") or []
    if best.get("metric") is None or not history or meta.get("weights_dropped"):
        return None
    p, last = float(best["metric"]), float(history[-1]["metric"])
    if last >= p - _standard_error(p, n_val):
        return last, int(history[-1]["epoch"]), -trial.trial_id, trial, "last"
    return p, int(best["epoch"]), -trial.trial_id, trial, "best"


class WeightPruner:
    """``Tuner(on_retire=WeightPruner(n_val, latency_ms))``: deletes the weights of retired
    trials (those that can no longer run, see :class:`~autopreset.tuner.Tuner`) that
    :func:`pick_best` with the same ``n_val`` and ``latency_ms`` can no longer choose.

    A retired trial's score is final, so the best retired score B only rises, and the final
    best is at least B. Without ``latency_ms`` the pick is the best trial overall: of the
    retired ones only the best can still be it. With ``latency_ms`` the pick is the fastest
    backbone's best among trials within one standard error of the final best: a retired trial
    can still be it only while it is the best retired trial of its backbone and within one
    standard error of every final best >= B. Trials still running or resumable keep their
    weights. The final pick is the one every weight kept would give, while the run folder holds
    a few checkpoints instead of one per trial (a 15-minute fit on digits left 4 GB)."""

    def __init__(self, n_val: int | None, latency_ms: dict[str, float] | None = None):
        self.n_val = n_val
        self.latency_ms = latency_ms
        self.freed = 0
        self._kept: list[tuple] = []          # scores of the retired trials that keep weights

    def __call__(self, trial) -> None:
        if not trial.checkpoint_dir:
            return
        scored = _score(trial, self.n_val)
        if scored is None:                    # failed, or no weights to keep
            self._drop(trial)
            return
        pool = self._kept + [scored]
        top = max(pool, key=lambda x: x[:3])
        if not self.latency_ms:
            keep = [top]
        else:
            floor = _lowest_close(top[0], self.n_val)
            best: dict = {}
            for x in pool:
                name = x[3].config.get("backbone")
                if x[0] >= floor and (name not in best or x[:3] > best[name][:3]):
                    best[name] = x
            keep = list(best.values())
        for x in pool:
            if not any(x is k for k in keep):
                self._drop(x[3])
        self._kept = keep

    def _drop(self, trial) -> None:
        from autopreset.training import drop_weights

        self.freed += drop_weights(Path(trial.checkpoint_dir))


def _lowest_close(b: float, n_val: int | None) -> float:
    """The lowest accuracy within one standard error of any best p >= ``b``:
    min over p in [b, 1] of p - SE(p) (convex in p, so a ternary search finds it)."""
    f = lambda p: p - _standard_error(p, n_val)
    lo, hi = b, 1.0
    for _ in range(100):
        m1, m2 = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        if f(m1) <= f(m2):
            hi = m2
        else:
            lo = m1
    return min(f(b), f(lo), f(1.0)) - 1e-9


def _standard_error(p: float, n_val: int | None) -> float:
    """One standard error of an accuracy ``p`` measured on ``n_val`` images, plus one image."""
    return math.sqrt(max(p * (1 - p), 0.0) / n_val) + 1.0 / n_val if n_val else 0.0


def drop_trial_weights(trials, keep: str | None) -> int:
    """Delete the tensor files of every trial checkpoint but ``keep`` (a checkpoint folder), once
    the model folder is saved; each trial keeps its checkpoint.json (history, config). Returns
    the bytes freed. A 15-minute fit on one core leaves about 50 trials of model + optimizer
    state (4 GB for 1,800 images of digits); the model folder holds what the run produced."""
    from autopreset.training import drop_weights

    keep_path = Path(keep).resolve() if keep else None
    return sum(drop_weights(Path(t.checkpoint_dir)) for t in trials
               if t.checkpoint_dir and Path(t.checkpoint_dir).resolve() != keep_path)
