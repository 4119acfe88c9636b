"""``ImageClassifier``: ``autopreset.fit`` as a scikit-learn classifier."""
from __future__ import annotations

import dataclasses
import datetime as _dt
import shutil
import tempfile
import warnings
import weakref
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from autopreset.errors import InputError

from ._inputs import batches, check_labels, class_names, is_table, read_inputs, stage

__all__ = ["ImageClassifier"]


class ImageClassifier(ClassifierMixin, BaseEstimator):
    """The best image classifier a wall-clock budget buys, as a scikit-learn estimator.

    ``fit`` runs the same pipeline as ``autopreset fit`` (:class:`~autopreset.pipeline.FitRun`:
    scan, plan, portfolio then Hyperband, refit, finish) on ``X``: a uint8 image array
    ``(N, H, W)`` or ``(N, H, W, C)`` (C in 1, 3, 4), a list of PIL images or uint8 arrays, a
    list of image paths, or a DataFrame with a ``path`` column (and a ``label`` column, which
    gives ``y`` when ``y`` is None, as AutoGluon's ``fit(train_data=df, label=...)``).
    ``predict``, ``predict_proba`` and ``score`` take the same kinds of ``X``.

        from autopreset import ImageClassifier
        clf = ImageClassifier(budget="2m", prefer="latency").fit(images, labels)
        clf.predict(new_images)          # labels of the same type as y
        clf.predict_proba(new_images)    # columns in the order of clf.classes_

    Parameters (stored as given; checked by ``fit``):

    - ``budget``: wall-clock time for each ``fit`` ("30s", "10m", "1h30m" or seconds), set-up
      included unless ``count_setup=False`` (then the search gets the whole budget however
      long scanning, caching and measuring take);
    - ``prefer``: "latency", "balanced" or "accuracy"; ``max_latency_ms`` instead bounds the
      measured batch-1 latency; ``preset``: a shipped preset name or a preset file
      (None: "default"); ``resolution``: the input size in pixels (None: from the images);
      ``workers``: local worker processes for the trials; ``device``: "auto", "cpu", "cuda";
    - ``random_state``: an int (the seed ``autopreset fit --seed`` takes), a
      ``numpy.random.RandomState`` or None (a fresh seed each fit; ``seed_`` records it);
    - ``out``: None keeps each run in a temporary folder that lives as long as the fitted
      estimator (nothing is left in the working directory); a folder keeps every run in
      ``out/<UTC time stamp>`` (``run_dir_``), so refits and cross-validation folds do not
      collide;
    - ``path``, ``label``: the DataFrame columns of the image paths and the labels;
    - ``verbose``: print the pipeline's progress (quiet by default).

    Attributes after ``fit``: ``classes_`` (``np.unique(y)``), ``predictor_`` (the
    :class:`~autopreset.Predictor`), ``run_dir_`` (the run folder: model/, leaderboard.csv,
    report.html, ...), ``best_config_``, ``val_accuracy_`` (the chosen model's validation
    accuracy), ``leaderboard_`` (the rows of leaderboard.csv, best first), ``seed_``.

    Images in memory are written as lossless PNG files to a temporary folder for the pipeline
    to scan (see :mod:`autopreset.estimator._inputs`), which is removed when ``fit`` returns.
    Image files that cannot be read are left out of training with a warning, as the command
    line skips them; at predict time they are an error (each sample needs a prediction).
    """

    def __init__(self, *, budget="10m", prefer="balanced", max_latency_ms=None, preset=None,
                 resolution=None, workers=1, device="auto", random_state=None, out=None,
                 path="path", label="label", count_setup=True, verbose=False):
        self.budget = budget
        self.prefer = prefer
        self.max_latency_ms = max_latency_ms
        self.preset = preset
        self.resolution = resolution
        self.workers = workers
        self.device = device
        self.random_state = random_state
        self.out = out
        self.path = path
        self.label = label
        self.count_setup = count_setup
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Search within ``budget`` for the best classifier of ``X`` (images) and ``y``
        (labels; from the ``label`` column of a DataFrame ``X`` when None). Returns self."""
        from autopreset.pipeline import Budget, FitRun

        budget = Budget(self.budget, counts_setup=bool(self.count_setup))
        if y is not None and not is_table(X):
            check_labels(y)              # a bad y is named before X is looked at
        inputs, y = read_inputs(X, y, path=self.path, label=self.label)
        classes, index = check_labels(y, len(inputs))
        seed = self._seed()
        options = self._options(seed)
        names = class_names(classes)
        folder, cleanup = self._run_folder()
        try:
            with tempfile.TemporaryDirectory(prefix="autopreset-data-") as staging:
                data = stage(inputs, [names[i] for i in index], Path(staging))
                run = FitRun(dataclasses.replace(options, data=str(data), out=str(folder)),
                             budget)
                predictor = run.run()
                skipped = run.data.dataset.skipped
        except BaseException:
            if cleanup is not None:
                cleanup()
            else:
                _remove_if_empty(folder)
            raise
        if skipped:
            warnings.warn(f"{len(skipped)} of {len(inputs)} images could not be read and were "
                          f"left out of training (first: {skipped[0].path}: {skipped[0].reason})",
                          stacklevel=2)
        self._set_fitted(predictor, classes, seed, cleanup)
        return self

    def _seed(self) -> int:
        from sklearn.utils import check_random_state

        rs = self.random_state
        if isinstance(rs, (int, np.integer)) and not isinstance(rs, bool):
            return int(rs)
        try:
            return int(check_random_state(rs).randint(np.iinfo(np.int32).max))
        except ValueError:
            raise InputError(f"random_state must be an int, a numpy RandomState or None; "
                             f"got {rs!r}") from None

    def _options(self, seed: int):
        from autopreset.pipeline import FitOptions

        for name in ("path", "label"):
            if not isinstance(getattr(self, name), str):
                raise InputError(f"{name} must be a column name (a string); got "
                                 f"{getattr(self, name)!r}")
        preset = self.preset or "default"
        if not isinstance(preset, str):
            preset = str(preset)
        return FitOptions(data="", prefer=self.prefer, max_latency_ms=self.max_latency_ms,
                          seed=seed, preset=preset, workers=self.workers, device=self.device,
                          progress=bool(self.verbose), resolution=self.resolution)

    def _run_folder(self):
        """(the run folder, the call that removes it, or None for a folder the user keeps)."""
        if self.out is None:
            folder = tempfile.mkdtemp(prefix="autopreset-run-")
            return Path(folder), weakref.finalize(self, shutil.rmtree, folder, True)
        parent = Path(self.out)
        if parent.exists() and not parent.is_dir():
            raise InputError(f"out {str(parent)!r} is a file, not a folder")
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"out {str(parent)!r}: cannot create it ({exc.strerror})") from None
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
        for n in range(1, 10_000):
            folder = parent / (stamp if n == 1 else f"{stamp}-{n}")
            try:
                folder.mkdir()          # exclusive: two fits in the same second get one each
                return folder, None
            except FileExistsError:
                continue
        raise InputError(f"out {str(parent)!r}: no free run folder name for {stamp}")

    def _set_fitted(self, predictor, classes, seed, cleanup) -> None:
        from autopreset.report import leaderboard_rows

        old = getattr(self, "_cleanup", None)
        if old is not None:                 # the previous fit's temporary run folder
            old()
        self._cleanup = cleanup
        card = predictor.card
        self.classes_ = classes
        self.predictor_ = predictor
        self.run_dir_ = Path(predictor.run_dir)
        self.best_config_ = dict(card.config)
        self.val_accuracy_ = card.metrics.get("val_accuracy")
        self.leaderboard_ = leaderboard_rows(predictor.leaderboard, mode="max")
        self.seed_ = seed

    # ------------------------------------------------------------------ predict
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(n, len(classes_))``, columns in the order of ``classes_``."""
        check_is_fitted(self)
        inputs, _ = read_inputs(X, path=self.path, label=self.label, need_y=False)
        index = {name: i for i, name in enumerate(class_names(self.classes_))}
        columns = [index[name] for name in self.predictor_.classes]
        out = np.zeros((len(inputs), len(self.classes_)), dtype=np.float64)
        for start, images in batches(inputs, read=self.predictor_.read_image):
            out[start:start + len(images), columns] = self.predictor_.predict_proba(images)
        return out

    def predict(self, X) -> np.ndarray:
        """The most probable class of each image, as labels of ``classes_``'s type."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y=None, sample_weight=None) -> float:
        """Accuracy on ``X`` and ``y`` (``y`` from the ``label`` column of a DataFrame ``X``
        when None)."""
        if y is None:
            check_is_fitted(self)
            _, y = read_inputs(X, path=self.path, label=self.label)
        return super().score(X, y, sample_weight=sample_weight)

    # ------------------------------------------------------------------ scikit-learn plumbing
    def __getstate__(self):
        """A copy (pickle, deepcopy) does not own the temporary run folder: only the
        estimator that made it removes it."""
        state = super().__getstate__()
        state.pop("_cleanup", None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.non_deterministic = True            # a wall-clock budget decides how far it gets
        tags.target_tags.required = True
        tags.classifier_tags.poor_score = True
        return tags

    def _more_tags(self):                         # scikit-learn before 1.6
        return {"X_types": ["3darray"], "non_deterministic": True, "requires_y": True,
                "poor_score": True}


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
