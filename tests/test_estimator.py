"""autopreset.ImageClassifier: scikit-learn's estimator conventions, and fits on tiny data.

The conventions are checked with scikit-learn's own check functions
(``sklearn.utils.estimator_checks``), those that apply to an estimator whose X is images:

    check_no_attributes_set_in_init, check_parameters_default_constructible,
    check_get_params_invariance, check_set_params, check_estimator_cloneable,
    check_estimator_repr, check_do_not_raise_errors_in_init_or_set_params, check_mixin_order,
    check_estimator_tags_renamed, check_valid_tag_types, check_estimators_unfitted,
    check_requires_y_none, check_classifiers_one_label, check_estimator_sparse_tag

(``check_estimator`` itself skips every check for an estimator whose input tags exclude 2-D
arrays, so the applicable ones run here one by one.) Skipped (SKIPPED below gives each
reason): every other classifier check fits on random 2-D float
tables (``make_blobs``, ``rng.uniform(size=(n, 3))``), which are not images: ImageClassifier
refuses them with a one-line error, and training one model per check would take minutes of
budget each. What those checks assert for fitted estimators (fit returns self, parameters
unchanged by fit, pickling, predict/predict_proba shapes and dtypes, classes_, labels of any
type, a 2-D y refused) is asserted below on real fits.

Training tests use the test-sized timm backbones at 16 px with a budget that does not count
set-up (``count_setup=False``), as tests/fit does: three fits of 30 s each (the
first epoch of a run waits for its worker process to import torch: 10 s or more on a loaded
machine).
"""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks

from autopreset import ImageClassifier
from autopreset.errors import InputError

BUDGET = 30          # seconds per fit, set-up not counted

APPLICABLE = [
    "check_no_attributes_set_in_init", "check_parameters_default_constructible",
    "check_get_params_invariance", "check_set_params", "check_estimator_cloneable",
    "check_estimator_repr", "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order", "check_estimator_tags_renamed", "check_valid_tag_types",
    "check_estimators_unfitted", "check_requires_y_none", "check_classifiers_one_label",
    "check_estimator_sparse_tag",
]
TABLES = "fits on a random 2-D float table, which is not images"
SKIPPED = {   # the checks scikit-learn runs on a classifier that do not apply here, and why
    **dict.fromkeys([
        "check_classifiers_train", "check_classifiers_classes", "check_classifiers_predictions",
        "check_classifier_data_not_an_array", "check_classifiers_regression_target",
        "check_supervised_y_2d", "check_supervised_y_no_nan", "check_estimators_dtypes",
        "check_estimators_fit_returns_self", "check_estimators_overwrite_params",
        "check_dont_overwrite_parameters", "check_dict_unchanged", "check_fit_score_takes_y",
        "check_estimators_pickle", "check_estimators_nan_inf", "check_estimators_empty_data_messages",
        "check_fit2d_1sample", "check_fit2d_1feature", "check_fit2d_predict1d", "check_fit1d",
        "check_n_features_in", "check_n_features_in_after_fitting", "check_fit_check_is_fitted",
        "check_methods_subset_invariance", "check_methods_sample_order_invariance",
        "check_f_contiguous_array_estimator", "check_readonly_memmap_input",
        "check_pipeline_consistency", "check_complex_data", "check_dtype_object",
        "check_estimators_data_not_an_array", "check_dataframe_column_names_consistency",
        "check_decision_proba_consistency", "check_classifier_multioutput",
        "check_classifiers_multilabel_representation_invariance",
        "check_classifiers_multilabel_output_format_predict",
        "check_classifiers_multilabel_output_format_predict_proba",
        "check_sample_weights_list", "check_sample_weights_shape", "check_fit_non_negative",
        "check_positive_only_tag_during_fit", "check_inplace_ensure_writeable",
        "check_estimator_sparse_array", "check_estimator_sparse_matrix"], TABLES),
    "check_fit_idempotent": "a wall-clock budget decides how far a fit gets (non_deterministic)",
    "check_param_validation": "parameters are checked by the pipeline's FitOptions in fit",
    "check_classifiers_one_label_sample_weights": "fit takes no sample_weight",
}


def tiny_preset(path):
    """The shipped default preset cut down to timm's test-sized backbones (as tests/fit)."""
    from autopreset.portfolio import load_preset

    obj = load_preset("default").to_json()
    obj["space"]["params"].pop("crop_scale", None)   # fit sets the crop from the schedule
    backbones = ["test_resnet", "test_efficientnet"]
    obj["name"] = "tiny-estimator-test"
    obj["space"]["params"]["backbone"]["values"] = backbones
    obj["space"]["params"]["batch_size"]["values"] = [8, 16, 32]
    obj["tiers"] = {n: "tiny" for n in backbones}
    obj["portfolio"] = [
        {"config": {"backbone": b, "lr": lr, "batch_size": 16, "momentum": 0.9,
                    "weight_decay": 1e-4, "optimizer": opt, "label_smoothing": 0.0},
         "reason": "test-sized backbone for fast tests"}
        for b, lr, opt in [("test_resnet", 0.003, "adamw"), ("test_efficientnet", 0.003, "adamw"),
                           ("test_resnet", 0.05, "sgd")]]
    obj["hyperband"]["max_resource"] = 9
    path.write_text(json.dumps(obj))
    return str(path)


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    return tiny_preset(tmp_path_factory.mktemp("preset") / "tiny.json")


@pytest.fixture(scope="module")
def digits():
    """sklearn's 8x8 digits 0, 1, 2 as uint8 images (0..16 scaled to 0..255), halved."""
    from sklearn.datasets import load_digits

    d = load_digits()
    keep = np.flatnonzero(d.target < 3)
    x = np.clip(d.images[keep] * 16, 0, 255).astype(np.uint8)
    return x[::2], d.target[keep][::2], x[1::2], d.target[keep][1::2]


def small(preset, **kw):
    return ImageClassifier(budget=BUDGET, count_setup=False, preset=preset, resolution=16,
                           random_state=0, **kw)


# ---------------------------------------------------------------------- conventions
@pytest.mark.parametrize("check", APPLICABLE)
def test_scikit_learn_check(check):
    fn = getattr(estimator_checks, check, None)
    if fn is None:
        pytest.skip(f"{check} is not in this scikit-learn")
    fn("ImageClassifier", ImageClassifier())


def test_unfitted_estimator_raises_not_fitted_for_every_method(digits):
    x = digits[0]
    for method in ("predict", "predict_proba"):
        with pytest.raises(NotFittedError):
            getattr(ImageClassifier(), method)(x)
    with pytest.raises(NotFittedError):
        ImageClassifier().score(x, digits[1])


@pytest.mark.parametrize("x, y, message", [
    ("images", "short", "X has 269 images but y has 268 labels"),
    ("images", "one", "y has only one class (0.0)"),
    ("images", "2d", "y: y should be a 1d array"),
    ("images", "float", "y must hold class labels, got a continuous target"),
    ("images", "lonely", "y: class 9 has 1 sample; each class needs at least 2"),
    ("flat", "ok", "reshape flat rows into images first"),
    ("float", "ok", "X must hold uint8 pixels (0..255), got dtype float64"),
    ("channels", "ok", "with C in 1, 3, 4"),
    ("mixed", "ok", "X[1] is a path but other items are images"),
    ("missing", "ok", "no such file"),
    ("none", "ok", "X must be images"),
])
def test_bad_x_or_y_is_a_one_line_error(digits, x, y, message):
    images, labels = digits[0], digits[1]
    xs = {"images": images, "flat": images.reshape(len(images), -1),
          "float": images.astype(np.float64), "channels": images[..., None].repeat(2, axis=3),
          "mixed": [images[0], "a.png", images[1], images[2]], "none": 3,
          "missing": ["nowhere/a.png", "nowhere/b.png", "nowhere/c.png", "nowhere/d.png"]}
    ys = {"ok": labels if x in ("flat", "float", "channels") else [0, 0, 1, 1], "short": labels[:-1],
          "one": np.zeros(len(labels)), "2d": np.stack([labels, labels], axis=1),
          "float": labels + 0.5, "lonely": np.where(np.arange(len(labels)) == 0, 9, labels)}
    with pytest.raises(InputError) as err:
        ImageClassifier().fit(xs[x], ys[y])
    assert message in str(err.value) and "\n" not in str(err.value)


def test_dataframe_without_the_columns_names_the_columns_it_has():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"file": ["a.png", "b.png"], "y": [0, 1]})
    with pytest.raises(InputError, match=r"no path column 'path' \(its columns: file, y\)"):
        ImageClassifier().fit(df)
    with pytest.raises(InputError, match=r"no label column 'label' \(its columns: file, y\)"):
        ImageClassifier(path="file").fit(df)


def test_predict_paths_refuses_a_dataframe_without_a_path_column():
    pd = pytest.importorskip("pandas")
    import torch

    from autopreset import Predictor
    from autopreset.model import ModelCard

    card = ModelCard(backbone="test_resnet", classes=["a", "b"], input_size=16,
                     mean=[0.5] * 3, std=[0.5] * 3)
    predictor = Predictor(torch.nn.Identity(), card)
    with pytest.raises(InputError, match=r"no 'path' column \(its columns: file, label\)"):
        predictor.predict_paths(pd.DataFrame({"file": ["a.png"], "label": ["a"]}))


# ---------------------------------------------------------------------- fits
def test_pipeline_of_flat_rows_in_cross_validation_predicts_int_labels(digits, preset):
    """Two fits on uint8 image arrays (int labels), inside a Pipeline, by cross_validate."""
    from sklearn.model_selection import cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    x, y, x_test, y_test = digits
    flat = x.reshape(len(x), -1)                                 # rows of 64 pixels

    def to_images(rows):
        return np.asarray(rows, dtype=np.uint8).reshape(-1, 8, 8)

    model = make_pipeline(FunctionTransformer(to_images), small(preset))
    params = model.get_params()
    result = cross_validate(model, flat, y, cv=2, return_estimator=True, error_score="raise")
    assert result["test_score"].shape == (2,) and (result["test_score"] > 0.5).all()
    assert model.get_params().keys() == params.keys() and not hasattr(model[-1], "classes_")
    fitted = result["estimator"][0]
    clf = fitted[-1]
    assert clf.get_params() == model[-1].get_params()            # fit changed no parameter
    assert clf.classes_.tolist() == [0, 1, 2] and clf.classes_.dtype == y.dtype
    predicted = fitted.predict(x_test.reshape(len(x_test), -1))
    assert predicted.dtype == y.dtype and predicted.shape == y_test.shape
    proba = clf.predict_proba(x_test)
    assert proba.shape == (len(x_test), 3) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert (clf.classes_[proba.argmax(axis=1)] == predicted).all()
    assert clf.score(x_test, y_test) == pytest.approx(np.mean(predicted == y_test))
    assert 0.0 <= clf.val_accuracy_ <= 1.0 and clf.best_config_["backbone"].startswith("test_")
    assert clf.leaderboard_[0]["rank"] == 1 and clf.seed_ == 0
    assert (clf.run_dir_ / "model" / "model.json").is_file()
    # the estimator's temporary run folders go with the estimators
    run_dirs = [e[-1].run_dir_ for e in result["estimator"]]
    del result, fitted, clf
    import gc

    gc.collect()
    assert not any(d.exists() for d in run_dirs)


def test_dataframe_of_paths_with_string_labels(digits, preset, tmp_path):
    """One fit on a DataFrame of paths and string labels; predict takes every kind of X."""
    pd = pytest.importorskip("pandas")
    from PIL import Image

    x, y, x_test, _ = digits
    names = np.array(["zero", "one", "two"], dtype=object)
    (tmp_path / "img").mkdir()
    paths = [str(tmp_path / "img" / f"{i:03d}.png") for i in range(len(x))]
    for a, path in zip(x, paths):
        Image.fromarray(a).save(path)
    df = pd.DataFrame({"file": paths, "digit": names[y]})
    clf = small(preset, path="file", label="digit", out=str(tmp_path / "runs"))
    assert clf.fit(df) is clf
    assert clf.classes_.tolist() == ["one", "two", "zero"] and clf.classes_.dtype == object
    assert clf.run_dir_.parent == tmp_path / "runs" and (clf.run_dir_ / "model").is_dir()
    assert json.loads((clf.run_dir_ / "model" / "model.json").read_text())["classes"] == [
        "one", "two", "zero"]
    predicted = clf.predict(df[["file"]])
    assert predicted.dtype == object and set(predicted) <= set(names)
    assert clf.score(df) == pytest.approx(np.mean(predicted == df["digit"].to_numpy()))
    assert clf.score(df) > 0.6                                   # chance is 1/3
    rows, skipped = clf.predictor_.predict_paths(df.rename(columns={"file": "path"}))
    assert not skipped and [r["labels"][0] for r in rows] == list(predicted)
    # the same images as an array, PIL images and a path list; a pickled copy agrees
    proba = clf.predict_proba(x_test[:8])
    pil = [Image.fromarray(a) for a in x_test[:8]]
    test_paths = []
    for i, im in enumerate(pil):
        test_paths.append(str(tmp_path / f"test{i}.png"))
        im.save(test_paths[-1])
    assert np.allclose(clf.predict_proba(pil), proba, atol=1e-6)
    assert np.allclose(clf.predict_proba(test_paths), proba, atol=1e-6)
    copy = pickle.loads(pickle.dumps(clf))
    assert (copy.predict(x_test[:8]) == clf.predict(x_test[:8])).all()
    assert (tmp_path / "runs").is_dir() and clf.run_dir_.exists()   # a folder the user keeps
