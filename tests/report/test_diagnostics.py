"""Model diagnostics: per-class scores against scikit-learn, evaluate and --misclassified, and the
report's sections on the chosen model and the data (synthetic records, a tiny untrained model)."""
from __future__ import annotations

import csv
import dataclasses
import json
import re
from html.parser import HTMLParser
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from sklearn.metrics import classification_report, confusion_matrix, precision_recall_fscore_support

from autopreset.cli._main import cli
from autopreset.model import ModelCard, Predictor, load
from autopreset.pipeline import Budget, prepare_data, run_diagnostics
from autopreset.report import Mistake, RunDiagnostics, classification_summary, rank_mistakes, write_report

CLASSES = ["cat", "dög", "<ému>"]


@pytest.fixture(scope="module")
def predictor():
    import torch

    from autopreset.backbones import create_backbone

    torch.manual_seed(0)
    module, _ = create_backbone("test_resnet", num_classes=3, pretrained=False)
    card = ModelCard(backbone="test_resnet", classes=list(CLASSES), input_size=16,
                     mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25], pretrained="random")
    return Predictor(module, card)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Three classes of 6 images each (bright, dark, striped) and one file that is no image."""
    rng = np.random.default_rng(0)
    root = tmp_path_factory.mktemp("diag") / "data"
    for c, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for i in range(6):
            img = rng.integers(0, 60, (16, 16, 3), dtype=np.uint8) + np.uint8(90 * c)
            Image.fromarray(img).save(root / name / f"{i}.png")
    (root / "cat" / "notes.png").write_text("not an image")
    return root


def test_summary_matches_sklearn_with_a_class_absent_from_the_data():
    rng = np.random.default_rng(3)
    truth = rng.choice([0, 1, 3], size=80)                 # class 2 never occurs...
    predicted = np.where(rng.random(80) < 0.7, truth, rng.integers(0, 4, 80))  # ...but is predicted
    names = ["a", "b", "c", "d"]
    s = classification_summary(truth, predicted, names)
    p, r, f, n = precision_recall_fscore_support(truth, predicted, labels=[0, 1, 2, 3], zero_division=0)
    for i, row in enumerate(s["per_class"]):
        assert row["class"] == names[i]
        assert (row["precision"], row["recall"], row["f1"], row["support"]) == pytest.approx(
            (p[i], r[i], f[i], n[i]))
    ref = classification_report(truth, predicted, labels=[0, 1, 3], output_dict=True, zero_division=0)
    for ours, theirs in (("macro_avg", "macro avg"), ("weighted_avg", "weighted avg")):
        assert s[ours]["precision"] == pytest.approx(ref[theirs]["precision"])
        assert s[ours]["recall"] == pytest.approx(ref[theirs]["recall"])
        assert s[ours]["f1"] == pytest.approx(ref[theirs]["f1-score"])
    assert s["averaged_over"] == ["a", "b", "d"]
    assert s["accuracy"] == pytest.approx(np.mean(truth == predicted))
    assert s["confusion"] == confusion_matrix(truth, predicted, labels=[0, 1, 2, 3]).tolist()
    json.dumps(s)                                           # JSON-ready as it is


def test_summary_and_ranking_reject_bad_input():
    with pytest.raises(ValueError, match="same length|has 2 labels"):
        classification_summary([0, 1], [0], ["a", "b"])
    with pytest.raises(ValueError, match="outside 0..1"):
        classification_summary([0, 2], [0, 1], ["a", "b"])
    with pytest.raises(ValueError, match="no predictions"):
        classification_summary([], [], ["a", "b"])
    assert rank_mistakes([0, 1, 1, 0], [1, 1, 0, 1], [0.6, 0.9, 0.8, 0.95]) == [3, 2, 0]


def test_evaluate_per_class_numbers_are_sklearns(predictor, folder):
    result = predictor.evaluate(folder)
    rows, _ = predictor.predict_paths([folder])
    index = {c: i for i, c in enumerate(CLASSES)}
    by_path = {r["path"]: r for r in rows}
    paths = [m for m in sorted(by_path)]
    truth = [index[p.split("/")[-2]] for p in paths]
    predicted = [index[by_path[p]["labels"][0]] for p in paths]
    p, r, f, n = precision_recall_fscore_support(truth, predicted, labels=[0, 1, 2], zero_division=0)
    assert [x["f1"] for x in result["per_class"]] == pytest.approx(f)
    assert [x["precision"] for x in result["per_class"]] == pytest.approx(p)
    assert [x["recall"] for x in result["per_class"]] == pytest.approx(r)
    assert [x["support"] for x in result["per_class"]] == [6, 6, 6]
    assert result["n_images"] == 18 and sum(map(sum, result["confusion"])) == 18
    wrong = result["misclassified"]
    assert len(wrong) == sum(t != q for t, q in zip(truth, predicted)) > 0   # untrained: it errs
    assert [w["confidence"] for w in wrong] == sorted((w["confidence"] for w in wrong), reverse=True)
    for w in wrong:
        assert w["label"] != w["predicted"] and w["label"] == w["path"].split("/")[-2]
        assert w["label_probability"] < w["confidence"]
    assert [s["path"].endswith("notes.png") for s in result["skipped"]] == [True]


def test_cli_evaluate_text_json_and_misclassified_csv(predictor, folder, tmp_path):
    model = predictor.save(tmp_path / "model")
    runner = CliRunner()
    text = runner.invoke(cli, ["evaluate", str(model), str(folder)])
    assert text.exit_code == 0, text.output
    for word in ("precision", "recall", "f1-score", "support", "macro avg", "weighted avg",
                 "accuracy", "confusion matrix", "dög"):
        assert word in text.output
    out = tmp_path / "mistakes"
    js = runner.invoke(cli, ["evaluate", str(model), str(folder), "--format", "json",
                             "--misclassified", str(out)])
    assert js.exit_code == 0, js.output
    result = json.loads(js.stdout)
    assert {"per_class", "macro_avg", "weighted_avg", "accuracy", "confusion"} <= set(result)
    assert "misclassified.csv" in js.stderr and "skipped" in js.stderr
    with open(out / "misclassified.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["path"] for r in rows] == [m["path"] for m in result["misclassified"]]
    assert list(rows[0]) == ["path", "label", "predicted", "confidence", "label_probability"]
    assert all(r["label"] != r["predicted"] for r in rows)
    again, _ = load(model).predict_paths([out / "misclassified.csv"])   # predict reads it back
    assert [r["path"] for r in again] == [r["path"] for r in rows]


def _records():
    def trial(tid, n, phase):
        return {"trial_id": tid, "config": {"backbone": "test_resnet", "lr": 0.01 * (tid + 1)},
                "status": "completed", "phase": phase, "latency_ms": 0.5 + tid,
                "results": [{"resource": e, "metric": 0.5 + 0.04 * e, "time": 1.0 * e + tid,
                             "train_loss": 2.0 / e, "val_loss": 2.2 / e + 0.01 * e}
                            for e in range(1, n + 1)]}
    return [trial(0, 6, "portfolio"), trial(1, 2, "portfolio"), trial(2, 9, "hyperband")]


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.h2, self.imgs, self._in_h2 = [], [], False

    def handle_starttag(self, tag, attrs):
        self._in_h2 = tag == "h2"
        if tag == "img":
            self.imgs.append(dict(attrs)["src"])

    def handle_data(self, data):
        if self._in_h2:
            self.h2.append(data)
            self._in_h2 = False


def test_report_shows_every_diagnostics_section(predictor, folder, tmp_path):
    result = predictor.evaluate(folder)
    images = [np.asarray(Image.open(m["path"]).convert("RGB")) for m in result["misclassified"]]
    mistakes = [Mistake(image=im, path=m["path"], label=m["label"], predicted=m["predicted"],
                        confidence=m["confidence"]) for im, m in zip(images, result["misclassified"])][:5]
    diag = RunDiagnostics(
        evaluation=result, evaluated_on="the chosen model (trial 2) on 18 validation images",
        mistakes=mistakes, class_counts={c: {"train": 5, "validation": 6} for c in CLASSES},
        skipped=[("data/cat/notes.png", "not an image (cannot identify image file)")],
        decisions={"resolution": "16 px, from the images", "horizontal flips": "none: orientation matters",
                   "weights": "random init: test_resnet was trained from scratch"},
        versions={"torch": "2.x", "scikit-learn": "1.x"})
    paths = write_report(tmp_path, _records(), chosen_trial_id=2, diagnostics=diag)
    page = paths["report"].read_text(encoding="utf-8")
    parser = _Page()
    parser.feed(page)
    headings = " | ".join(parser.h2)
    for title in ("What the run decided", "Chosen model on the validation split", "Worst mistakes",
                  "Plots", "Leaderboard", "Skipped files", "Library versions"):
        assert title in headings
    assert len(parser.imgs) == 4 + len(mistakes)            # plots, then one thumbnail per mistake
    assert all(src.startswith("data:image/png;base64,") for src in parser.imgs)
    assert not re.search(r"(src|href)=['\"]https?://", page)
    assert "<ému>" not in page and "&lt;ému&gt;" in page      # class names escaped
    assert "macro average" in page and "weighted average" in page and "<th>train</th>" in page
    assert page.count("<table class='cm'>") == 1
    assert "not an image (cannot identify image file)" in page and "random init" in page
    assert "started from</div><div class='v'>random init<" in page
    assert "torch <b>2.x</b>" in page and "most confident of" in page
    assert paths["loss"].read_bytes()[:4] == b"\x89PNG"
    assert "Training and validation loss per epoch" in page


def test_run_diagnostics_scores_the_validation_split_from_the_cache(predictor, folder, monkeypatch,
                                                                    tmp_path):
    monkeypatch.setenv("AUTOPRESET_CACHE", str(tmp_path / "cache"))
    data = prepare_data(folder, seed=0, resolution=16, n_jobs=1)
    state = SimpleNamespace(
        seed=0, mirror_check={"flip": False, "accuracy": 0.9, "mirrored_accuracy": 0.3, "chance": 0.34},
        plan=SimpleNamespace(crop_in_configs=False, max_resource=9, crop_scale=0.4, refit_s=0.0),
        preference=SimpleNamespace(device="cpu", describe=lambda: "preference latency: test_resnet"))
    card = dataclasses.replace(predictor.card, latency_ms={"p50": 0.5},
                               config={"backbone": "test_resnet", "augment": "crop", "crop_scale": 0.4})
    predictor = Predictor(predictor.module, card)
    run = SimpleNamespace(data=data, state=state, budget=Budget(600), refit_dir=None, resumed=False,
                          options=SimpleNamespace(resolution=None),
                          result=SimpleNamespace(trials=[None] * 3))
    best = SimpleNamespace(trial_id=1, checkpoint_dir=None)
    diag = run_diagnostics(run, predictor, best, "last")
    ev = diag.evaluation
    assert ev["n_images"] == data.n_val and ev["classes"] == CLASSES
    labels = np.asarray(data.dataset.labels)[np.sort(data.val_idx)]
    expected = predictor.predict_proba(list(data.cache.open()[np.sort(data.val_idx)])).argmax(1)
    assert ev["accuracy"] == pytest.approx(np.mean(labels == expected))
    assert "on %d validation images" % data.n_val in diag.evaluated_on
    assert len(diag.mistakes) == data.n_val - round(ev["accuracy"] * data.n_val)
    assert diag.mistakes[0].image.shape == (16, 16, 3)
    assert {c: v["train"] + v["validation"] for c, v in diag.class_counts.items()} == {c: 6 for c in CLASSES}
    assert [p.endswith("notes.png") for p, _ in diag.skipped] == [True]
    assert "random init" in diag.decisions["weights"] and "16 px" in diag.decisions["resolution"]
    assert "no flips" in diag.decisions["horizontal flips"] and "40%" in diag.decisions["random crops"]
    assert {"scikit-learn", "matplotlib"} <= set(diag.versions)
    spent = Budget(600)
    spent.charge(599)                                          # no time left for the pass
    none = run_diagnostics(SimpleNamespace(**{**vars(run), "budget": spent}), predictor, best, "last")
    assert none.evaluation is None and "no time" in none.evaluated_on and none.class_counts
