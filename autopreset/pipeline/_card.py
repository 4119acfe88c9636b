"""What a fit's preset card says about its run, with nothing a shared file should not hold.

The card names no local path, user or host: the run is labelled by its date and data
fingerprint (``20261203-1a2b3c4d``), the data is described (classes, images per class, image
sizes, colour, fingerprint), and the command is written with ``DATA`` for the data.
"""
from __future__ import annotations

import datetime as _dt

import numpy as np

__all__ = ["card_arguments", "image_colour", "fit_command"]

GREY_TOLERANCE = 6      # channel spread (of 255) still read as grey: JPEG chroma noise


def card_arguments(run) -> dict:
    """Keyword arguments of :func:`autopreset.portfolio.preset_from_run` for a finished
    ``run`` (a :class:`~autopreset.pipeline.FitRun`): name, run label, details, command."""
    from autopreset.portfolio import dataset_summary

    st, d = run.state, run.data
    ds = d.dataset
    label = f"{_dt.datetime.now(_dt.timezone.utc):%Y%m%d}-{ds.fingerprint[:8]}"
    summary = dataset_summary(
        classes=ds.classes, labels=ds.labels, sizes=ds.sizes, fingerprint=ds.fingerprint,
        n_train=d.n_train, n_val=d.n_val, skipped=len(ds.skipped),
        colour=_colour(d.cache, st.seed))
    augmentation: dict = {"flip": bool(st.plan.flip)}
    if not st.plan.crop_in_configs:
        augmentation["crop_scale"] = float(st.plan.crop_scale)
    probe = st.mirror_check or {}
    if {"accuracy", "mirrored_accuracy", "chance"} <= set(probe):
        augmentation["mirror_check"] = {k: float(probe[k]) for k in
                                        ("accuracy", "mirrored_accuracy", "chance")}
    details = {"task": d.kind.name, "dataset": summary, "resolution": int(d.resolution),
               "augmentation": augmentation, "prefer": st.prefer,
               "budget_s": float(st.budget_s), "seed": int(st.seed),
               "trials": len(run.result.trials)}
    if st.max_latency_ms is not None:
        details["max_latency_ms"] = float(st.max_latency_ms)
    return {"name": f"run-{label}", "run": label, "details": details,
            "command": fit_command(st, preset=run.options.preset)}


def _colour(cache, seed: int) -> str | None:
    try:
        return image_colour(cache.open(), random_state=seed)
    except (OSError, ValueError):       # a cache gone since the search: the card goes without
        return None


def image_colour(images, *, random_state=0, sample: int = 512) -> str:
    """``"greyscale"`` when every sampled image of ``images`` ((N, S, S, 3) uint8, the decoded
    cache) has equal red, green and blue (within :data:`GREY_TOLERANCE`), ``"colour"`` when
    none has, ``"mixed"`` otherwise."""
    n = len(images)
    if n == 0:
        return "colour"
    rng = np.random.default_rng(random_state)
    idx = np.sort(rng.choice(n, size=min(sample, n), replace=False))
    grey = []
    for i in idx:          # one image at a time: the cache is memory-mapped
        x = np.asarray(images[int(i)], dtype=np.int16)
        grey.append(int((x.max(axis=-1) - x.min(axis=-1)).max()) <= GREY_TOLERANCE)
    return "greyscale" if all(grey) else "colour" if not any(grey) else "mixed"


def fit_command(state, *, preset: str) -> str:
    """The ``autopreset fit`` command of the run, with ``DATA`` for its data and ``PRESET.json``
    for a preset given as a file (no local path is written)."""
    from autopreset.portfolio import list_presets

    parts = ["autopreset fit DATA", f"--budget {state.budget_s:g}s", f"--prefer {state.prefer}"]
    if state.max_latency_ms is not None:
        parts.append(f"--max-latency-ms {state.max_latency_ms:g}")
    parts += [f"--seed {state.seed}", f"--resolution {state.resolution}",
              f"--preset {preset if preset in list_presets() else 'PRESET.json'}"]
    return " ".join(parts)
