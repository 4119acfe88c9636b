"""The saved model: a folder with ``model.safetensors`` and ``model.json``.

    predictor = autopreset.load("runs/latest/model")
    rows, skipped = predictor.predict_paths(["photos/"], top_k=3)
    predictor.evaluate("labelled_folder/")        # accuracy and confusion matrix
    predictor.export("onnx")                       # model.onnx, checked against PyTorch
    predictor.export("onnx", with_preprocessing=True)   # uint8 pixels in, probabilities out

Loading reads JSON and safetensors only: a shared model folder cannot run code on load.
model.json's ``preprocessing`` records how an image becomes the model's input (reading,
resize, scaling, mean/std, layout: :mod:`autopreset.data._preprocessing`), and prediction
runs from that record (:class:`autopreset.data.Preprocessing`, the functions training uses);
a model.json without it (written before the record existed) gets the same preprocessing,
built from ``input_size``, ``mean`` and ``std``. An export carries the classes, the record
and its input/output contract as metadata (:meth:`Predictor.export_metadata`).

A model folder is shared data, so loading checks every field before anything is built, and a
damaged or tampered folder is a one-line :class:`~autopreset.errors.InputError` naming the
file and the field (``autopreset predict``/``evaluate``/``export`` exit 2 with ``Error: ...``):

- model.json: at most 16 MiB, strict UTF-8 JSON nested at most 32 levels; every key known and
  typed; ``backbone`` a model of timm's registry or the catalog (no hub name, path or URL);
  ``classes`` 2..100000 distinct non-empty names; ``input_size`` 8..4096; ``mean`` and ``std``
  three finite numbers (``mean`` in [-10, 10], ``std`` in [1e-6, 10]); ``model_kwargs`` only
  the harmless timm arguments of ``autopreset.backbones._create.MODEL_KWARGS`` (dropout rates,
  pooling; nothing that loads a file); ``preprocessing`` every key known, ``size`` 8..4096
  and equal to ``input_size``, ``background`` three integers 0..255, ``interpolation`` one of
  Pillow's filters, ``divide_by`` in [1, 65535], ``mean``/``std`` bounded as above and equal to
  the top-level ones, the fixed steps exactly as autopreset does them;
- model.safetensors: a safetensors file whose header matches the file (a pickle or a
  ``torch.save`` archive is refused, never unpickled) and whose tensors match the backbone
  built from model.json, shape by shape; a classifier with a different number of outputs than
  ``classes`` is named as such.
"""
from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from autopreset._atomic import atomic_path, fsync_dir, make_dir_temp, write_bytes_atomic
from autopreset._faults import fault_point
from autopreset.errors import InputError

if TYPE_CHECKING:
    from autopreset.data import Preprocessing

__all__ = ["MODEL_FORMAT", "EXPORT_FORMAT", "ModelCard", "Predictor", "load", "library_versions"]

MODEL_FORMAT = "autopreset.model/1"
#: The version of the metadata an export carries (``autopreset.format``).
EXPORT_FORMAT = "autopreset.export/1"
#: The largest model.json read (fit writes a few KiB).
MAX_CARD_BYTES = 16 * 1024 * 1024
MAX_CLASSES = 100_000
MAX_CLASS_NAME = 1_000
MAX_TEXT = 10_000        # ``pretrained``, ``created``, ``data_fingerprint``, a version string
INPUT_SIZES = (8, 4096)
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
    #: How images become the model's input; None builds training's from input_size/mean/std.
    preprocessing: Preprocessing | None = None
    format: str = MODEL_FORMAT

    def __post_init__(self):
        from autopreset.data import Preprocessing

        if self.preprocessing is None:
            self.preprocessing = Preprocessing.default(self.input_size, self.mean, self.std)
        problem = _disagreement(self.preprocessing, self.input_size, self.mean, self.std)
        if problem:
            raise InputError(f"model card: {problem}")

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["preprocessing"] = self.preprocessing.to_json()
        return out

    @classmethod
    def from_json(cls, obj: Any, *, source: str = "model.json") -> ModelCard:
        """Check a parsed model.json (every field; see the module docstring) and build the card.
        InputError ``source: field: why`` for the first problem."""
        if not isinstance(obj, dict):
            raise InputError(f"{source}: expected a JSON object")
        if obj.get("format") != MODEL_FORMAT:
            raise InputError(f"{source}: format {_short(obj.get('format'))} is not {MODEL_FORMAT!r}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(obj) - known)
        if unknown:
            raise InputError(f"{source}: unknown key {_short(unknown[0])}")
        for key in ("backbone", "classes", "input_size", "mean", "std"):
            if key not in obj:
                raise InputError(f"{source}: missing key {key!r}")
        for key, check in _CARD_CHECKS.items():
            if key in obj:
                problem = check(obj[key])
                if problem:
                    raise InputError(f"{source}: {key}: {problem}")
        if "model_kwargs" in obj:
            from autopreset.backbones._create import check_model_kwargs

            check_model_kwargs(obj["model_kwargs"], where=f"{source}: model_kwargs")
        obj = dict(obj)
        if "preprocessing" in obj:
            from autopreset.data import Preprocessing

            record = Preprocessing.from_json(obj["preprocessing"], where=f"{source}: preprocessing")
            problem = _disagreement(record, obj["input_size"], obj["mean"], obj["std"])
            if problem:
                raise InputError(f"{source}: {problem}")
            obj["preprocessing"] = record
        return cls(**obj)


def _disagreement(record: Preprocessing, input_size: int, mean, std) -> str | None:
    """Why ``record`` does not describe the top-level ``input_size``/``mean``/``std``, or None."""
    if tuple(record.size) != (input_size, input_size):
        return f"preprocessing.resize.size {list(record.size)} is not input_size {input_size} square"
    for key, top, own in (("mean", mean, record.mean), ("std", std, record.std)):
        if tuple(float(v) for v in top) != tuple(own):
            return f"preprocessing.{key} {list(own)} is not the top-level {key} {list(top)}"
    return None


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities (a metric that was never measured) as null: model.json
    is standard JSON, which the loader's strict reader accepts."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _short(value: Any, limit: int = 60) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_backbone(value: Any) -> str | None:
    from autopreset.backbones._create import backbone_problem

    problem = backbone_problem(value)
    return None if problem is None else f"{_short(value)} {problem}"


def _check_classes(value: Any) -> str | None:
    if not isinstance(value, list) or len(value) < 2:
        return "must list at least two class names"
    if len(value) > MAX_CLASSES:
        return f"{len(value)} classes is more than the {MAX_CLASSES} allowed"
    seen: set[str] = set()
    for i, name in enumerate(value):
        if not isinstance(name, str) or not name or len(name) > MAX_CLASS_NAME:
            return (f"[{i}]: {_short(name)} is not a class name (a non-empty string of at most "
                    f"{MAX_CLASS_NAME} characters)")
        if name in seen:
            return f"{_short(name)} appears twice"
        seen.add(name)
    return None


def _check_input_size(value: Any) -> str | None:
    low, high = INPUT_SIZES
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return f"must be an integer from {low} to {high} (pixels), got {_short(value)}"
    return None


def _numbers(low: float, high: float):
    def check(value: Any) -> str | None:
        ok = isinstance(value, list) and len(value) == 3 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            and low <= v <= high for v in value)
        if not ok:
            return (f"must be a list of 3 finite numbers in [{low:g}, {high:g}] (one per RGB "
                    f"channel), got {_short(value)}")
        return None
    return check


def _is_object(value: Any) -> str | None:
    return None if isinstance(value, dict) else f"expected a JSON object, got {_short(value)}"


def _is_text(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        return f"expected a string of at most {MAX_TEXT} characters, got {_short(value)}"
    return None


def _check_versions(value: Any) -> str | None:
    if not isinstance(value, dict) or len(value) > 100 or not all(
            isinstance(v, str) and len(v) <= MAX_TEXT for v in value.values()):
        return "expected an object of at most 100 library versions (strings)"
    return None


_CARD_CHECKS = {
    "backbone": _check_backbone, "classes": _check_classes, "input_size": _check_input_size,
    "mean": _numbers(-10.0, 10.0), "std": _numbers(1e-6, 10.0),
    "config": _is_object, "metrics": _is_object,
    "latency_ms": _is_object, "pretrained": _is_text, "data_fingerprint": _is_text,
    "versions": _check_versions, "created": _is_text,
}


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
        for stale in path.parent.glob(f".{path.name}.*"):     # left by a save that was killed
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        staging = make_dir_temp(path.parent, prefix=f".{path.name}.")
        try:
            state = {k: v.detach().cpu().contiguous() for k, v in self.module.state_dict().items()}
            with atomic_path(staging / "model.safetensors") as tmp:
                save_file(state, str(tmp), metadata={"format": MODEL_FORMAT})
            fault_point("save")
            text = json.dumps(_finite(self.card.to_json()), indent=2, ensure_ascii=False,
                              allow_nan=False) + "\n"
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
        """Rebuild the architecture from ``model.json`` and fill it from ``model.safetensors``.

        Every field and the weights' header are checked first (module docstring); reads JSON
        and safetensors only, never a pickle."""
        from autopreset.backbones._create import (load_safetensors, read_json_file,
                                                  read_safetensors_header)

        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"{path}: no such model folder")
        card_path, weights_path = path / "model.json", path / "model.safetensors"
        for needed in (card_path, weights_path):
            if not needed.is_file():
                raise FileNotFoundError(f"{needed}: missing (not an autopreset model folder?)")
        obj = read_json_file(card_path, max_bytes=MAX_CARD_BYTES, what="model.json")
        card = ModelCard.from_json(obj, source=str(card_path))
        header = read_safetensors_header(weights_path)
        module = build_module(card, source=str(card_path))
        _check_weights(module, header, card, weights_path)
        state = load_safetensors(weights_path)
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as exc:   # shapes were checked: only a broken file gets here
            reason = " ".join(str(exc).split())[:200]
            raise InputError(f"{weights_path}: weights do not load into backbone "
                             f"{card.backbone!r} ({reason})") from None
        return cls(module, card, model_dir=path)

    # ---- prediction ---------------------------------------------------------------------
    @property
    def preprocessing(self) -> Preprocessing:
        """How an image becomes this model's input (model.json's ``preprocessing`` record)."""
        return self.card.preprocessing

    def read_image(self, path: str | os.PathLike):
        """Decode an image file as this model's record says (orientation, alpha on its
        background colour, RGB); raises :class:`~autopreset.data.BadImageError`."""
        from autopreset.data import decode_image

        return decode_image(path, background=self.card.preprocessing.background)

    def predict_proba(self, images: list, *, batch_size: int = 64) -> np.ndarray:
        """Class probabilities ``[n, n_classes]`` for images (paths, PIL images or uint8
        arrays), preprocessed as ``self.preprocessing`` records."""
        import torch

        out = []
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                batch = self.card.preprocessing(images[start : start + batch_size])
                out.append(torch.softmax(self.module(batch).float(), dim=1).numpy())
        if not out:
            return np.zeros((0, len(self.card.classes)), dtype=np.float32)
        return np.concatenate(out)

    def predict_paths(self, paths: list[str | os.PathLike], *, top_k: int = 1, batch_size: int = 64):
        """Predict image files and folders (searched recursively, sorted), or the ``path``
        column of a DataFrame (pandas or polars).

        Returns ``(rows, skipped)``: rows are ``{"path", "labels", "probabilities"}`` with the
        ``top_k`` most probable classes; skipped lists ``(path, reason)`` of unreadable files.
        """
        from autopreset.data import BadImageError

        if hasattr(paths, "columns") and not isinstance(paths, np.ndarray):   # a table
            columns = [str(c) for c in paths.columns]
            if "path" not in columns:
                shown = ", ".join(columns[:20]) + (", ..." if len(columns) > 20 else "")
                raise InputError(f"predict_paths: the DataFrame has no 'path' column (its "
                                 f"columns: {shown or 'none'})")
            paths = list(paths["path"])
        files = expand_paths(paths)
        rows, skipped = [], []
        top_k = min(top_k, len(self.card.classes))
        for start in range(0, len(files), batch_size):
            images, kept = [], []
            for file in files[start : start + batch_size]:
                try:
                    images.append(self.read_image(file))
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

    def evaluate(self, data: str | os.PathLike, *, batch_size: int = 64) -> dict[str, Any]:
        """Scores on a labelled folder (or fit's ``path,label`` CSV) whose class names are the
        model's: accuracy, per-class precision/recall/F1/support with macro and weighted
        averages, and the confusion matrix (scikit-learn's metrics:
        :func:`autopreset.report.classification_summary`); ``misclassified`` lists every wrong
        prediction (``path``, true ``label``, ``predicted``, its ``confidence`` and the true
        label's probability), most confident first; ``skipped`` the files the scan left out."""
        from autopreset.data import scan
        from autopreset.report import classification_summary, rank_mistakes

        dataset = scan(data)
        unknown = sorted(set(dataset.classes) - set(self.card.classes))
        if unknown:
            raise InputError(f"{data}: class {unknown[0]!r} is not one of the model's classes")
        index = {name: i for i, name in enumerate(self.card.classes)}
        truth = np.array([index[dataset.classes[y]] for y in dataset.labels])
        rows, skipped = self.predict_paths(list(dataset.paths), top_k=len(self.card.classes),
                                           batch_size=batch_size)
        if skipped:
            raise InputError(f"{skipped[0][0]}: {skipped[0][1]}")
        predicted = np.array([index[r["labels"][0]] for r in rows])
        confidence = np.array([r["probabilities"][0] for r in rows])
        result = classification_summary(truth, predicted, self.classes)
        result["misclassified"] = [
            {"path": rows[i]["path"], "label": self.classes[truth[i]],
             "predicted": rows[i]["labels"][0], "confidence": float(confidence[i]),
             "label_probability": float(dict(zip(rows[i]["labels"], rows[i]["probabilities"]))
                                        [self.classes[truth[i]]])}
            for i in rank_mistakes(truth, predicted, confidence)]
        result["skipped"] = [{"path": s.path, "reason": s.reason} for s in dataset.skipped]
        return result

    # ---- export -------------------------------------------------------------------------
    def export(self, fmt: str = "onnx", output: str | os.PathLike | None = None, *,
               with_preprocessing: bool = False) -> tuple[Path, float]:
        """Export to ONNX or TorchScript; returns the path and the largest output difference
        to PyTorch on a random batch (an error above 1e-3 is raised, nothing is written).

        The file carries :meth:`export_metadata` (ONNX ``metadata_props``, TorchScript extra
        files). ``with_preprocessing=True`` puts normalization and softmax into the graph: it
        takes uint8 RGB pixels NHWC ``(batch, height, width, 3)``, read and resized as the
        record says, and returns probabilities. Resizing always stays outside the graph."""
        from autopreset._export import export_model

        default = {"onnx": "model.onnx", "torchscript": "model.torchscript.pt"}
        if fmt not in default:
            raise InputError(f"unknown export format {fmt!r}: choose onnx or torchscript")
        if output is None:
            if self.model_dir is None:
                raise InputError("give an output path: this model has not been saved to a folder")
            output = self.model_dir / default[fmt]
        record = self.card.preprocessing
        return export_model(self.module, tuple(record.size), fmt, Path(output),
                            normalization=record.normalization() if with_preprocessing else None,
                            metadata=self.export_metadata(with_preprocessing=with_preprocessing))

    def export_metadata(self, *, with_preprocessing: bool = False) -> dict[str, str]:
        """What an export carries, as JSON strings by key (docs/contracts.md, "Exports"):
        ``autopreset.format``, ``autopreset.model`` (backbone, task, versions, metrics),
        ``autopreset.classes`` (in output order), ``autopreset.preprocessing`` (the record),
        ``autopreset.input`` and ``autopreset.output`` (what the graph takes and returns, and
        which steps of the record run before it)."""
        import autopreset

        card, record = self.card, self.card.preprocessing
        height, width = record.size
        steps = ["read", "resize", "divide_by", "normalize", "layout"]
        if with_preprocessing:
            graph_input = {"dtype": "uint8", "layout": "NHWC", "shape": ["batch", height, width, 3],
                           "steps_before": steps[:2], "steps_in_graph": steps[2:]}
            graph_output = {"name": "probabilities", "softmax": True}
        else:
            graph_input = {"dtype": "float32", "layout": "NCHW", "shape": ["batch", 3, height, width],
                           "steps_before": steps, "steps_in_graph": []}
            graph_output = {"name": "logits", "softmax": False}
        model = {"format": card.format, "task": card.metrics.get("task") or "classification",
                 "backbone": card.backbone, "input_size": card.input_size,
                 "exported_by": f"autopreset {autopreset.__version__}", "versions": card.versions,
                 "metrics": card.metrics, "created": card.created,
                 "data_fingerprint": card.data_fingerprint}
        values = {"autopreset.format": EXPORT_FORMAT, "autopreset.model": model,
                  "autopreset.classes": card.classes, "autopreset.preprocessing": record.to_json(),
                  "autopreset.input": {"name": "image", "channel_order": "RGB", **graph_input},
                  "autopreset.output": {**graph_output, "classes": "autopreset.classes"}}
        return {key: value if isinstance(value, str) else
                json.dumps(_finite(value), ensure_ascii=False, allow_nan=False)
                for key, value in values.items()}


def build_module(card: ModelCard, *, source: str = "model.json"):
    """The untrained architecture named by ``card`` (never downloads or reads weights: timm
    gets ``pretrained=False`` and only the allowed ``model_kwargs``)."""
    from autopreset.backbones import create_backbone

    try:
        module = create_backbone(card.backbone, num_classes=len(card.classes), pretrained=False,
                                 **card.model_kwargs)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - timm refuses a kwarg this architecture lacks
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise InputError(f"{source}: backbone {card.backbone!r} cannot be built with model_kwargs "
                         f"{_short(card.model_kwargs)} ({reason})") from None
    return module[0] if isinstance(module, tuple) else module


def _kind(dtype: str) -> str:
    """The kind of a safetensors dtype: float (F32, BF16, F8_...), int, complex or bool."""
    if dtype == "BOOL":
        return "bool"
    return {"F": "float", "B": "float", "I": "int", "U": "int", "C": "complex"}.get(dtype[:1], "?")


def _torch_kind(dtype) -> str:
    if dtype.is_floating_point:
        return "float"
    if dtype.is_complex:
        return "complex"
    return "bool" if str(dtype) == "torch.bool" else "int"


def _check_weights(module, header: dict, card: ModelCard, weights_path: Path) -> None:
    """Every tensor of ``module`` in the header with its shape, and nothing else; the
    classifier's output size is checked against the classes by name."""
    from autopreset.backbones._create import classifier_prefixes

    own = module.state_dict()
    missing = [k for k in own if k not in header]
    unexpected = [k for k in header if k not in own]
    if missing or unexpected:
        example = _short((missing or unexpected)[0])
        raise InputError(f"{weights_path}: weights do not match backbone {card.backbone!r} "
                         f"({len(missing)} missing, {len(unexpected)} unexpected tensors, e.g. "
                         f"{example})")
    head = classifier_prefixes(module)
    for key, tensor in own.items():
        dtype, shape = header[key]
        if tuple(tensor.shape) != shape:
            if key.startswith(head) and shape and tensor.ndim and shape[1:] == tuple(tensor.shape)[1:]:
                raise InputError(f"{weights_path}: the classifier ({key}) has {shape[0]} outputs but "
                                 f"model.json lists {len(card.classes)} classes")
            raise InputError(f"{weights_path}: tensor {_short(key)} has shape {list(shape)}, backbone "
                             f"{card.backbone!r} needs {list(tensor.shape)}")
        if _kind(dtype) != _torch_kind(tensor.dtype):   # float16 into float32 casts; int does not
            raise InputError(f"{weights_path}: tensor {_short(key)} is {dtype}, backbone "
                             f"{card.backbone!r} needs {str(tensor.dtype).removeprefix('torch.')}")


def expand_paths(paths: list[str | os.PathLike]) -> list[Path]:
    """Files as given, image files inside folders (recursively, in sorted order), and the files
    a ``.csv`` lists (the CSV ``fit`` reads: ``path,label`` rows; labels are not needed here)."""
    from autopreset.data._scan import csv_paths

    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file() and path.suffix.lower() == ".csv":
            files.extend(Path(p) for p in csv_paths(path))
        elif path.is_dir():
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
