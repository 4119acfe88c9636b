"""The report's plots, drawn with matplotlib's Agg canvas into PNG bytes.

Figures are built with ``matplotlib.figure.Figure`` and ``FigureCanvasAgg`` directly, never
through ``pyplot``: no global backend switch, no global figure registry, safe in a user's
notebook and in worker processes.
"""
from __future__ import annotations

import io
import math
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._leaderboard import pareto_front
from ._records import TrialRecord

_PHASE_COLORS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3"]
_ACCENT = "#C0392B"


def _figure(width: float = 7.0, height: float = 4.2) -> tuple[Figure, Any]:
    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.grid(True, color="#E5E5E5", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _empty(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#777777")


def _phase_colors(records: list[TrialRecord]) -> dict[str, str]:
    phases: list[str] = []
    for r in records:
        p = r.phase or "trials"
        if p not in phases:
            phases.append(p)
    return {p: _PHASE_COLORS[i % len(_PHASE_COLORS)] for i, p in enumerate(phases)}


def anytime_plot(records: list[TrialRecord], *, mode: str = "max",
                 metric_name: str = "accuracy") -> bytes:
    """Best metric so far against wall-clock seconds; every reported result as a dot."""
    fig, ax = _figure()
    events = sorted(((float(r_["time"]), float(r_["metric"]), rec.phase or "trials")
                     for rec in records for r_ in rec.finite_results() if r_.get("time") is not None),
                    key=lambda e: e[0])
    if not events:
        _empty(ax, "no timed results")
        return _png(fig)
    colors = _phase_colors(records)
    for phase, color in colors.items():
        pts = [(t, m) for t, m, p in events if p == phase]
        if pts:
            ax.scatter(*zip(*pts), s=16, color=color, alpha=0.6, label=phase, linewidths=0, zorder=3)
    better = (lambda a, b: a > b) if mode == "max" else (lambda a, b: a < b)
    xs, ys, best = [], [], None
    for t, m, _ in events:
        if best is None or better(m, best):
            best = m
        xs.append(t)
        ys.append(best)
    ax.step(xs, ys, where="post", color="#222222", linewidth=2, label=f"best {metric_name} so far")
    ax.set_xlim(left=0)  # the gap before the first result is set-up time: show it
    ax.set_xlabel("wall-clock time since start (s)")
    ax.set_ylabel(metric_name)
    ax.set_title(f"Anytime performance: best {metric_name} so far", loc="left", fontsize=11)
    ax.legend(frameon=False, fontsize=8, loc="best")
    return _png(fig)


def rungs_plot(records: list[TrialRecord], *, mode: str = "max", metric_name: str = "accuracy",
               chosen_trial_id: Any = None) -> bytes:
    """Metric against resource, one line per trial; dotted lines at the resources trials stopped at.

    With successive halving / Hyperband, trials stop at the rungs, so the dotted lines show the
    rung levels and the line density shows how many trials each rung promoted.
    """
    fig, ax = _figure()
    curves = [(rec, sorted(rec.finite_results(), key=lambda x: x["resource"])) for rec in records]
    curves = [(rec, c) for rec, c in curves if c]
    if not curves:
        _empty(ax, "no results")
        return _png(fig)
    colors = _phase_colors(records)
    seen: set[str] = set()
    for rec, c in curves:
        xs, ys = [x["resource"] for x in c], [x["metric"] for x in c]
        phase = rec.phase or "trials"
        label = phase if phase not in seen else None
        seen.add(phase)
        ax.plot(xs, ys, "-o", color=colors[phase], alpha=0.55, linewidth=1, markersize=3, label=label)
    chosen = next((c for rec, c in curves if rec.trial_id == chosen_trial_id), None)
    if chosen is not None:
        ax.plot([x["resource"] for x in chosen], [x["metric"] for x in chosen], "-o", color=_ACCENT,
                linewidth=2.2, markersize=4, label=f"chosen (trial {chosen_trial_id})", zorder=5)
    stops = sorted({int(rec.resource_reached()) for rec, _ in curves})
    for s in stops:
        ax.axvline(s, color="#999999", linestyle=":", linewidth=0.9, zorder=0)
    lo, hi = min(stops[0], min(x["resource"] for _, c in curves for x in c)), stops[-1]
    if lo > 0 and hi / lo >= 8:
        ax.set_xscale("log", base=2)
        ax.set_xticks(stops, [str(s) for s in stops])
        ax.minorticks_off()
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("resource (epochs)")
    ax.set_ylabel(metric_name)
    ax.set_title(f"Hyperband rungs: {metric_name} per resource, one line per trial",
                 loc="left", fontsize=11)
    ax.legend(frameon=False, fontsize=8, loc="best")
    return _png(fig)


def pareto_plot(records: list[TrialRecord], *, mode: str = "max", metric_name: str = "accuracy",
                chosen_trial_id: Any = None) -> bytes:
    """Best metric against measured latency per trial; the Pareto front and the chosen model."""
    fig, ax = _figure()
    pts = []
    for rec in records:
        best = rec.best(mode)
        if best is not None and rec.latency_ms is not None and math.isfinite(rec.latency_ms):
            pts.append((rec.latency_ms, float(best["metric"]), rec))
    if not pts:
        _empty(ax, "no trial has a measured latency")
        return _png(fig)
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=22, color="#4C72B0", alpha=0.6,
               linewidths=0, label="trials")
    front = [pts[i] for i in pareto_front([(p[0], p[1]) for p in pts], mode=mode)]
    ax.step([p[0] for p in front], [p[1] for p in front], where="post", color="#2E8B57",
            linewidth=1.6, zorder=3)
    ax.scatter([p[0] for p in front], [p[1] for p in front], s=46, facecolors="none",
               edgecolors="#2E8B57", linewidths=1.6, label="Pareto front", zorder=4)
    for lat, met, rec in front:
        name = rec.config.get("backbone")
        if name is not None:
            ax.annotate(str(name), (lat, met), textcoords="offset points", xytext=(4, -10),
                        fontsize=7, color="#2E6B47")
    chosen = [p for p in pts if p[2].trial_id == chosen_trial_id]
    if chosen:
        lat, met, rec = chosen[0]
        ax.scatter([lat], [met], marker="*", s=260, color=_ACCENT, edgecolors="white",
                   linewidths=0.8, zorder=6, label=f"chosen (trial {chosen_trial_id})")
    lats = [p[0] for p in pts]
    if min(lats) > 0 and max(lats) / min(lats) >= 10:
        ax.set_xscale("log")
    ax.set_xlabel("inference latency, batch 1 (ms)")
    ax.set_ylabel(f"best {metric_name}")
    ax.set_title(f"Latency vs {metric_name}", loc="left", fontsize=11)
    ax.legend(frameon=False, fontsize=8, loc="best")
    return _png(fig)


def loss_plot(records: list[TrialRecord], *, chosen_trial_id: Any = None) -> bytes:
    """Training and validation loss per epoch, one line per trial (the trainer reports both
    with every epoch's result as ``train_loss`` and ``val_loss``); the chosen trial in red.

    A validation loss that climbs while the training loss falls is overfitting; both flat is a
    learning rate too low (or far too high). The loss axis is logarithmic when a diverged
    trial's losses would flatten the others."""
    fig = Figure(figsize=(7.0, 4.2), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2, sharex=True)
    colors = _phase_colors(records)
    for ax, key, title in ((axes[0], "train_loss", "training loss"),
                           (axes[1], "val_loss", "validation loss")):
        ax.grid(True, color="#E5E5E5", linewidth=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        seen: set[str] = set()
        values: list[float] = []
        for rec in records:
            curve = _loss_curve(rec, key)
            if not curve:
                continue
            xs, ys = zip(*curve)
            values.extend(ys)
            if rec.trial_id == chosen_trial_id:
                ax.plot(xs, ys, "-", color=_ACCENT, linewidth=2.2, zorder=5,
                        label=f"chosen (trial {chosen_trial_id})")
                continue
            phase = rec.phase or "trials"
            ax.plot(xs, ys, "-", color=colors[phase], alpha=0.5, linewidth=1,
                    label=phase if phase not in seen else None)
            seen.add(phase)
        if not values:
            _empty(ax, f"no trial reported a {title}")
            continue
        low = min(v for v in values if v > 0) if any(v > 0 for v in values) else 0.0
        if low > 0 and max(values) / low >= 20:
            ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_title(title[0].upper() + title[1:], loc="left", fontsize=11)
        ax.legend(frameon=False, fontsize=8, loc="best")
    return _png(fig)


def _loss_curve(rec: TrialRecord, key: str) -> list[tuple[int, float]]:
    """(epoch, loss) pairs of one trial, one per epoch (a result said again keeps its last)."""
    by_epoch: dict[int, float] = {}
    for r in rec.results:
        value = r.get(key)
        if isinstance(value, (int, float)) and math.isfinite(value):
            by_epoch[int(r["resource"])] = float(value)
    return sorted(by_epoch.items())
