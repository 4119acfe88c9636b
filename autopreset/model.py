"""The saved model: a folder with ``model.safetensors`` and ``model.json``.

    predictor = autopreset.load("runs/latest/model")
    rows, skipped = predictor.predict_paths(["photos/"], top_k=3)
    predictor.evaluate("labelled_folder/")        # accuracy and confusion matrix
    predictor.export("onnx")                       # model.onnx, checked against PyTorch

Loading reads JSON and safetensors only: a shared model folder cannot run code on load.
Prediction applies exactly the evaluation preprocessing used in training
(:func:`autopreset.data.preprocess`).
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autopreset._atomic import atomic_path, fsync_dir, make_dir_temp, write_bytes_atomic
from autopreset.errors import InputError

__all__ = ["MODEL_FORMAT", "ModelCard", "Predictor", "load", "library_versions"]

MODEL_FORMAT = "autopreset.model/1"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


@dataclass
class ModelCard:
    """Everything needed to rebuild and use a trained model, stored as ``model.json``."""

    backbone: str
    classes: list[str]
    input_size: int
    mean: list[float]
    std: list[float]
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    latency_ms: dict[str, Any] = field(default_factory=dict)
    pretrained: str = "none"
    data_fingerprint: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""
    format: str = MODEL_FORMAT

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: Any, *, source: str = "model.json") -> ModelCard:
        if not isinstance(obj, dict):
            raise InputError(f"{source}: expected a JSON object")
        if obj.get("format") != MODEL_FORMAT:
            raise InputError(f"{source}: format {obj.get('format')!r} is not {MODEL_FORMAT!r}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(obj) - known)
        if unknown:
            raise InputError(f"{source}: unknown key {unknown[0]!r}")
        for key in ("backbone", "classes", "input_size", "mean", "std"):
            if key not in obj:
                raise InputError(f"{source}: missing key {key!r}")
        if not isinstance(obj["classes"], list) or len(obj["classes"]) < 2:
            raise InputError(f"{source}: 'classes' must list at least two class names")
        if not isinstance(obj["input_size"], int) or obj["input_size"] < 1:
            raise InputError(f"{source}: 'input_size' must be a positive integer")
        for key in ("mean", "std"):
            if not (isinstance(obj[key], list) and len(obj[key]) == 3):
                raise InputError(f"{source}: {key!r} must be a list of 3 numbers")
        return cls(**obj)


def library_versions() -> dict[str, str]:
    """Versions of the libraries a saved model depends on."""
    import platform

    import timm
    import torch

    import autopreset

    return {"autopreset": autopreset.__version__, "torch": torch.__version__, "timm": timm.__version__,
            "numpy": np.__version__, "python": platform.python_version()}


class Predictor:
    """A trained classifier with its preprocessing; create with :func:`load` or after ``fit``."""

    def __init__(self, module, card: ModelCard, *, model_dir: str | os.PathLike | None = None):
        self.module = module.eval()
        self.card = card
        self.model_dir = Path(model_dir) if model_dir is not None else None

    @property
    def classes(self) -> list[str]:
        return list(self.card.classes)

    # ---- saving and loading -------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the model folder atomically (built beside ``path``, then renamed into place).

        Files are readable as a plain ``open`` would leave them (0644 under umask 022) and the
        folder as ``mkdir`` would (0755), so the model can be served by another user."""
        from safetensors.torch import save_file

        path = Path(path)
        staging = make_dir_temp(path.parent, prefix=f".{path.name}.")
        try:
            state = {k: v.detach().cpu().contiguous() for k, v in self.module.state_dict().items()}
            with atomic_path(staging / "model.safetensors") as tmp:
                save_file(state, str(tmp), metadata={"format": MODEL_FORMAT})
            text = json.dumps(self.card.to_json(), indent=2, ensure_ascii=False) + "\n"
            write_bytes_atomic(staging / "model.json", text.encode("utf-8"))
            if path.exists():
                old = path.with_name(f".{path.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(path, old)
                os.replace(staging, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(staging, path)
            fsync_dir(path.parent)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.model_dir = path
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Predictor:
        """Rebuild the architecture from ``model.json`` and fill it from ``model.safetensors``."""
        from safetensors.torch import load_file

        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"{path}: no such model folder")
        card_path, weights_path = path / "model.json", path / "model.safetensors"
        for needed in (card_path, weights_path):
            if not needed.is_file():
                raise FileNotFoundError(f"{needed}: missing (not an autopreset model folder?)")
        try:
            obj = json.loads(card_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"{card_path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        card = ModelCard.from_json(obj, source=str(card_path))
        module = build_module(card)
        state = load_file(str(weights_path))
        missing, unexpected = module.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise InputError(f"{weights_path}: weights do not match backbone {card.backbone!r} "
                             f"({len(missing)} missing, {len(unexpected)} unexpected tensors)")
        return cls(module, card, model_dir=path)

    # ---- prediction ---------------------------------------------------------------------
    def predict_proba(self, images: list, *, batch_size: int = 64) -> np.ndarray:
        """Class probabilities ``[n, n_classes]`` for decoded RGB images (PIL images or arrays)."""
        import torch

        from autopreset.data import preprocess

        out = []
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                batch = preprocess(images[start : start + batch_size], self.card.input_size,
                                   self.card.mean, self.card.std)
                out.append(torch.softmax(self.module(batch).float(), dim=1).numpy())
        if not out:
            return np.zeros((0, len(self.card.classes)), dtype=np.float32)
        return np.concatenate(out)

    def predict_paths(self, paths: list[str | os.PathLike], *, top_k: int = 1, batch_size: int = 64):
        """Predict image files and folders (searched recursively, sorted).

        Returns ``(rows, skipped)``: rows are ``{"path", "labels", "probabilities"}`` with the
        ``top_k`` most probable classes; skipped lists ``(path, reason)`` of unreadable files.
        """
        from autopreset.data import BadImageError, decode_image

        files = expand_paths(paths)
        rows, skipped = [], []
        top_k = min(top_k, len(self.card.classes))
        for start in range(0, len(files), batch_size):
            images, kept = [], []
            for file in files[start : start + batch_size]:
                try:
                    images.append(decode_image(file))
                    kept.append(file)
                except BadImageError as exc:
                    skipped.append((str(file), str(exc)))
            if not images:
                continue
            probs = self.predict_proba(images, batch_size=batch_size)
            for file, p in zip(kept, probs):
                order = np.argsort(-p, kind="stable")[:top_k]
                rows.append({"path": str(file), "labels": [self.card.classes[i] for i in order],
                             "probabilities": [float(p[i]) for i in order]})
        return rows, skipped

    def evaluate(self, data: str | os.PathLike) -> dict[str, Any]:
        """Accuracy and confusion matrix on a labelled folder whose class names match the model's."""
        from autopreset.data import scan

        dataset = scan(data)
        unknown = sorted(set(dataset.classes) - set(self.card.classes))
        if unknown:
            raise InputError(f"{data}: class {unknown[0]!r} is not one of the model's classes")
        index = {name: i for i, name in enumerate(self.card.classes)}
        truth = np.array([index[dataset.classes[y]] for y in dataset.labels])
        rows, skipped = self.predict_paths(list(dataset.paths))
        if skipped:
            raise InputError(f"{skipped[0][0]}: {skipped[0][1]}")
        predicted = np.array([index[r["labels"][0]] for r in rows])
        n = len(self.card.classes)
        confusion = np.zeros((n, n), dtype=int)
        np.add.at(confusion, (truth, predicted), 1)
        return {"accuracy": float((truth == predicted).mean()), "n_images": int(len(truth)),
                "classes": self.classes, "confusion": confusion.tolist(),
                "skipped": [{"path": s.path, "reason": s.reason} for s in dataset.skipped]}

    # ---- export -------------------------------------------------------------------------
    def export(self, fmt: str = "onnx", output: str | os.PathLike | None = None) -> tuple[Path, float]:
        """Export to ONNX or TorchScript; returns the path and the largest output difference
        to PyTorch on a random batch (an error above 1e-3 is raised, nothing is written)."""
        from autopreset._export import export_model

        default = {"onnx": "model.onnx", "torchscript": "model.torchscript.pt"}
        if fmt not in default:
            raise InputError(f"unknown export format {fmt!r}: choose onnx or torchscript")
        if output is None:
            if self.model_dir is None:
                raise InputError("give an output path: this model has not been saved to a folder")
            output = self.model_dir / default[fmt]
        return export_model(self.module, self.card.input_size, fmt, Path(output))


def build_module(card: ModelCard):
    """The untrained architecture named by ``card`` (never downloads weights)."""
    from autopreset.backbones import create_backbone

    module = create_backbone(card.backbone, num_classes=len(card.classes), pretrained=False,
                             **card.model_kwargs)
    return module[0] if isinstance(module, tuple) else module


def expand_paths(paths: list[str | os.PathLike]) -> list[Path]:
    """Files as given, and image files inside folders (recursively, in sorted order)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*")
                                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES))
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return files


def load(path: str | os.PathLike) -> Predictor:
    """Load a saved model folder. ``autopreset.load("runs/latest/model")``."""
    return Predictor.load(path)
