"""Task types: the registry, and classification's read/split/loss/metric/predict/record."""
from __future__ import annotations

import numpy as np
import pytest

from autopreset.tasks import Classification, TaskType, get_task, register_task, task_names


def test_registry_knows_classification_and_takes_new_types():
    assert "classification" in task_names()
    kind = get_task("classification")
    assert isinstance(kind, Classification) and isinstance(kind, TaskType)
    assert get_task(kind) is kind
    with pytest.raises(ValueError, match="unknown task type 'detection'"):
        get_task("detection")

    class Counting(Classification):
        name = "counting"

    register_task("counting", Counting)
    try:
        assert type(get_task("counting")) is Counting
    finally:
        from autopreset.tasks import _base

        _base._TASKS.pop("counting")


def test_classification_reads_splits_and_records(tmp_path):
    from PIL import Image

    for c in ("cat", "dog"):
        (tmp_path / c).mkdir()
        for i in range(10):
            Image.new("RGB", (8, 8), (i * 20, 0, 0)).save(tmp_path / c / f"{i}.png")
    kind = get_task("classification")
    ds = kind.read(tmp_path, n_jobs=1)
    tr, va = kind.split(ds, val_fraction=0.2, random_state=0)
    assert len(tr) + len(va) == 20 and len(va) == 4
    assert sorted(np.asarray(ds.labels)[va].tolist()) == [0, 0, 1, 1]      # stratified
    assert kind.n_outputs(ds) == 2
    assert kind.model_record(ds) == {"task": "classification", "classes": ["cat", "dog"]}
    assert kind.describe(ds) == "20 images, 2 classes"


def test_classification_loss_metric_and_predict():
    import torch

    kind = get_task("classification")
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 1.0]])
    y = torch.tensor([0, 1, 1])
    score, loss = kind.score_batch(logits, y)
    assert score == 2.0                                   # two of three right
    assert loss == pytest.approx(float(torch.nn.functional.cross_entropy(logits, y, reduction="sum")))
    smooth = kind.loss({"label_smoothing": 0.1})
    assert smooth.label_smoothing == pytest.approx(0.1)
    rows = kind.predict(np.array([[0.1, 0.7, 0.2]]), top_k=2, classes=["a", "b", "c"])
    assert rows == [{"labels": ["b", "c"], "probabilities": [pytest.approx(0.7), pytest.approx(0.2)]}]
