"""Finish a fit: the best checkpoint becomes the saved model folder, with its measured latency."""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

__all__ = ["save_model"]


def save_model(checkpoint_dir: Path, model_dir: Path, *, prepared, latency_device: str = "cpu",
               latency_ms: dict | None = None, extra_metrics: dict | None = None):
    """Load the best epoch of a trial, measure its batch-1 latency, save ``model_dir``.

    Returns the :class:`autopreset.model.Predictor` with ``model_dir`` set.
    """
    from autopreset.model import ModelCard, Predictor, library_versions
    from autopreset.training import load_model_from_checkpoint

    module, meta = load_model_from_checkpoint(checkpoint_dir, which="best")
    if latency_ms is None:
        latency_ms = measure_latency(meta["backbone"], meta["input_size"], latency_device)
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


def measure_latency(backbone: str, input_size: int, device: str = "cpu",
                    max_seconds: float = 1.0) -> dict:
    """Batch-1 latency of ``backbone`` at ``input_size`` on ``device`` (cached per machine)."""
    from autopreset.backbones import profile_latency

    res = profile_latency([backbone], int(input_size), device=device, max_seconds=max_seconds)[backbone]
    return {"p50": res.p50_ms, "p95": res.p95_ms, "device": res.device, "threads": res.threads,
            "batch_size": 1, "input_size": res.input_size}
