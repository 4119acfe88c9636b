"""Image classification: one sub-folder per class (or a path,label CSV), a linear head over
the classes, label-smoothed cross-entropy, accuracy, top-k class probabilities."""
from __future__ import annotations

import numpy as np

from ._base import register_task

__all__ = ["Classification"]


class Classification:
    """The classification task type (``get_task("classification")``)."""

    name = "classification"
    metric = "accuracy"
    mode = "max"

    def read(self, data, *, n_jobs: int = -1, progress=None, cache_resolution=None):
        from autopreset.data import scan

        return scan(data, n_jobs=n_jobs, progress=progress, cache_resolution=cache_resolution)

    def split(self, dataset, *, val_fraction: float = 0.2, random_state=0):
        from autopreset.data import split

        return split(dataset, val_fraction=val_fraction, random_state=random_state)

    def n_outputs(self, dataset) -> int:
        return len(dataset.classes)

    def build_model(self, backbone: str, n_outputs: int, *, pretrained="auto"):
        from autopreset.backbones import create_backbone

        return create_backbone(backbone, n_outputs, pretrained=pretrained)

    def loss(self, config: dict):
        import torch

        return torch.nn.CrossEntropyLoss(label_smoothing=float(config.get("label_smoothing", 0.0)))

    def score_batch(self, outputs, targets) -> tuple[float, float]:
        import torch.nn.functional as F

        loss = float(F.cross_entropy(outputs, targets, reduction="sum"))
        return float((outputs.argmax(1) == targets).sum()), loss

    def predict(self, outputs, *, top_k: int = 1, classes=()) -> list[dict]:
        """Per image: the ``top_k`` most probable classes and their probabilities."""
        probs = np.asarray(outputs, dtype=np.float64)
        top_k = max(1, min(int(top_k), probs.shape[1]))
        rows = []
        for p in probs:
            order = np.argsort(-p, kind="stable")[:top_k]
            rows.append({"labels": [classes[i] if len(classes) else int(i) for i in order],
                         "probabilities": [float(p[i]) for i in order]})
        return rows

    def model_record(self, dataset) -> dict:
        return {"task": self.name, "classes": list(dataset.classes)}

    def describe(self, dataset) -> str:
        return f"{len(dataset)} images, {len(dataset.classes)} classes"

    def __eq__(self, other) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return "Classification()"


register_task(Classification.name, Classification)
