"""A scikit-learn estimator on the fit pipeline: :class:`ImageClassifier`.

    from autopreset import ImageClassifier
    clf = ImageClassifier(budget="2m", prefer="latency").fit(X, y)   # X: uint8 (N, H, W[, C])
    clf.score(X_test, y_test)

It works wherever scikit-learn estimators do (``Pipeline``, ``cross_val_score``, ``clone``).
"""
from ._classifier import ImageClassifier

__all__ = ["ImageClassifier"]
