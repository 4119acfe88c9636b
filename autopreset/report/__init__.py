"""Run reports: ``leaderboard.csv``, plots and a self-contained ``report.html``.

    from autopreset.report import write_report
    write_report("runs/latest", trials, summary=plan_text, chosen_trial_id=7, mode="max")

matplotlib is imported only when a plot is drawn, and scikit-learn only when a classifier is
scored (:func:`classification_summary`), so presets and leaderboards stay light.

``write_report(..., diagnostics=RunDiagnostics(...))`` adds the chosen model's per-class
results and confusion matrix on the validation split, its worst mistakes as thumbnails, class
counts, skipped files, the run's resolution/augmentation/weights decisions and library versions.

Trials are ``TrialRecord`` objects or dicts with ``trial_id``, ``config``, ``status``,
``results`` (each ``{"resource", "metric", "time", ...}``, time in seconds since the run
started) and optional ``latency_ms`` and ``phase``.
"""
from ._diagnostics import Mistake, RunDiagnostics, classification_summary, rank_mistakes
from ._html import write_report
from ._leaderboard import leaderboard_rows, pareto_front, write_leaderboard
from ._records import TrialRecord
from ._records import rank as rank_trials

__all__ = ["TrialRecord", "rank_trials", "write_report", "write_leaderboard", "leaderboard_rows", "pareto_front",
           "classification_summary", "rank_mistakes", "Mistake", "RunDiagnostics",
           "anytime_plot", "rungs_plot", "pareto_plot", "loss_plot"]


_PLOTS = ("anytime_plot", "rungs_plot", "pareto_plot", "loss_plot")


def __getattr__(name: str):
    if name in _PLOTS:
        from . import _plots
        return getattr(_plots, name)
    raise AttributeError(f"module 'autopreset.report' has no attribute {name!r}")
