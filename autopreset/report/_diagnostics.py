"""A classifier's diagnostics: per-class precision, recall, F1 and support, their macro and
weighted averages, accuracy, the confusion matrix (all from :mod:`sklearn.metrics`), and its
mistakes ranked most confident first.

    summary = classification_summary(truth, predicted, ["cat", "dog", "owl"])
    summary["per_class"][0]     # {"class": "cat", "precision": ..., "recall": ..., "f1": ..., "support": 12}
    worst = rank_mistakes(truth, predicted, confidence)[:12]   # indices of the worst mistakes

``truth`` and ``predicted`` are class indices into ``classes``. Every class of ``classes`` gets
a row (a class absent from the data has support 0); the averages are over the classes that
occur in ``truth``, so a test folder holding some of a model's classes is not scored down for
the others (predictions into an absent class still count against the present ones).

:class:`RunDiagnostics` carries what ``report.html`` shows of the chosen model beside the
search: these numbers on the validation split, the worst mistakes as thumbnails, class counts,
skipped files, the run's decisions and library versions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["classification_summary", "rank_mistakes", "Mistake", "RunDiagnostics"]

_KEYS = ("precision", "recall", "f1", "support")


def classification_summary(truth: Sequence[int], predicted: Sequence[int],
                           classes: Sequence[str]) -> dict[str, Any]:
    """Accuracy, per-class and averaged precision/recall/F1/support, and the confusion matrix
    (rows: true class, columns: predicted), as JSON-ready numbers.

    A class never predicted has precision 0 (scikit-learn's ``zero_division=0``), one never
    present recall 0.

    >>> s = classification_summary([0, 0, 1, 1], [0, 1, 1, 1], ["a", "b"])
    >>> s["accuracy"], s["per_class"][1]["precision"], s["confusion"]
    (0.75, 0.6666666666666666, [[1, 1], [0, 2]])
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    truth, predicted = _indices(truth, "truth"), _indices(predicted, "predicted")
    n = len(classes)
    if len(truth) != len(predicted):
        raise ValueError(f"truth has {len(truth)} labels but predicted has {len(predicted)}")
    if n < 2:
        raise ValueError(f"need at least 2 classes, got {list(classes)!r}")
    if not truth.size:
        raise ValueError("no predictions to score")
    for name, values in (("truth", truth), ("predicted", predicted)):
        if values.size and (values.min() < 0 or values.max() >= n):
            raise ValueError(f"{name} holds class index {int(values.max())} outside 0..{n - 1}")
    every = list(range(n))
    present = sorted(set(truth.tolist()))
    rows = precision_recall_fscore_support(truth, predicted, labels=every, average=None,
                                           zero_division=0)
    per_class = [dict(zip(("class",) + _KEYS, (name, *_floats(p, r, f), int(s))))
                 for name, p, r, f, s in zip(classes, *rows)]
    out: dict[str, Any] = {
        "accuracy": float(accuracy_score(truth, predicted)),
        "n_images": int(truth.size), "classes": list(classes), "per_class": per_class}
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(truth, predicted, labels=present,
                                                     average=average, zero_division=0)
        out[f"{average}_avg"] = dict(zip(_KEYS, (*_floats(p, r, f), int(truth.size))))
    out["averaged_over"] = [classes[i] for i in present]
    out["confusion"] = confusion_matrix(truth, predicted, labels=every).astype(int).tolist()
    return out


def rank_mistakes(truth: Sequence[int], predicted: Sequence[int],
                  confidence: Sequence[float]) -> list[int]:
    """Indices of the wrong predictions, most confident first (ties: lower index first).

    A confident mistake is the likeliest mislabelled image, or the model's blind spot.

    >>> rank_mistakes([0, 1, 1, 0], [1, 1, 0, 1], [0.6, 0.9, 0.8, 0.95])
    [3, 2, 0]
    """
    truth, predicted = _indices(truth, "truth"), _indices(predicted, "predicted")
    confidence = np.asarray(confidence, dtype=float)
    if not len(truth) == len(predicted) == len(confidence):
        raise ValueError("truth, predicted and confidence must have the same length")
    wrong = np.flatnonzero(truth != predicted)
    return [int(i) for i in wrong[np.argsort(-confidence[wrong], kind="stable")]]


@dataclass(frozen=True)
class Mistake:
    """One wrong prediction as the report shows it: a thumbnail (``H x W x 3`` uint8), the file,
    its true and predicted class and the predicted class's probability."""

    image: np.ndarray
    path: str
    label: str
    predicted: str
    confidence: float


@dataclass(frozen=True, kw_only=True)
class RunDiagnostics:
    """What ``report.html`` shows of a run beside its trials (each part optional).

    ``evaluation`` is a :func:`classification_summary` of the chosen model on the validation
    split and ``evaluated_on`` says what it was computed on; ``class_counts`` maps each class to
    its ``{"train": n, "validation": n}`` images; ``skipped`` lists ``(path, reason)`` of the
    files the scan left out; ``decisions`` maps a decision (resolution, augmentation, weights)
    to what the run decided and why; ``versions`` maps a library to its version.
    """

    evaluation: Mapping[str, Any] | None = None
    evaluated_on: str = ""
    mistakes: Sequence[Mistake] = ()
    class_counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    skipped: Sequence[tuple[str, str]] = ()
    decisions: Mapping[str, str] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=dict)


def _indices(values: Sequence[int], name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be a 1-d sequence of class indices, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _floats(*values) -> list[float]:
    return [float(v) for v in values]
