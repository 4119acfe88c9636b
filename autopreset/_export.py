"""Export a trained module to ONNX or TorchScript, checked against PyTorch's own outputs.

The exported file carries the caller's ``metadata`` (strings; a saved model passes JSON: its
classes, preprocessing record and input/output contract): ONNX ``metadata_props`` (read with
``onnxruntime.InferenceSession(path).get_modelmeta().custom_metadata_map`` or
``onnx.load(path).metadata_props``), TorchScript extra files (``torch.jit.load(path,
_extra_files=...)``).

With ``normalization=(offset, factor)`` the graph takes uint8 RGB pixels, NHWC (batch,
height, width, 3: what ``numpy.asarray(pil_image)`` gives, stacked), computes ``(pixel -
offset[c]) * factor[c]`` per channel, runs the module and returns softmax probabilities; a
deployer only reads and resizes. Without it the graph takes the normalized float32 NCHW batch
and returns logits.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from autopreset._atomic import atomic_path
from autopreset.errors import InputError, RunError

__all__ = ["export_model", "run_onnx", "read_onnx_metadata", "TOLERANCE"]

TOLERANCE = 1e-3


def export_model(module, input_size: int | tuple[int, int], fmt: str, output: Path, *,
                 normalization: tuple[list[float], list[float]] | None = None,
                 metadata: dict[str, str] | None = None) -> tuple[Path, float]:
    """Write ``module`` to ``output`` in ``fmt`` and return ``(output, max |difference|)``.

    The exported file is written beside ``output`` (fsync'ed, mode as ``open`` gives it) and
    renamed into place only after its outputs on a random batch match PyTorch's within
    ``TOLERANCE``; otherwise :class:`~autopreset.errors.RunError` and nothing is written.
    ``normalization`` puts normalization and softmax into the graph (module docstring).
    """
    if fmt not in ("onnx", "torchscript"):
        raise InputError(f"unknown export format {fmt!r}: choose onnx or torchscript")
    import torch

    height, width = (input_size, input_size) if isinstance(input_size, int) else input_size
    generator = torch.Generator().manual_seed(0)
    if normalization is None:
        module = module.eval()
        example = torch.randn(2, 3, height, width, generator=generator)
        names = ("image", "logits")
    else:
        module = _with_preprocessing(module, *normalization).eval()
        example = torch.randint(0, 256, (2, height, width, 3), dtype=torch.uint8, generator=generator)
        names = ("image", "probabilities")
    with torch.inference_mode():
        reference = module(example).float().numpy()
    with atomic_path(output) as tmp:   # renamed onto ``output`` only if the check passes
        write = _onnx if fmt == "onnx" else _torchscript
        got = write(module, example, str(tmp), names, dict(metadata or {}))
        diff = float(np.max(np.abs(got - reference)))
        if not diff <= TOLERANCE:
            raise RunError(f"{output}: exported {fmt} model differs from PyTorch by {diff:.2e}")
    return output, diff


def _with_preprocessing(module, offset: list[float], factor: list[float]):
    """``module`` behind normalization and softmax: uint8 NHWC RGB in, probabilities out."""
    import torch

    class WithPreprocessing(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.module = module
            self.register_buffer("offset", torch.tensor(offset, dtype=torch.float32).view(1, 3, 1, 1))
            self.register_buffer("factor", torch.tensor(factor, dtype=torch.float32).view(1, 3, 1, 1))

        def forward(self, image):
            x = (image.permute(0, 3, 1, 2).float() - self.offset) * self.factor
            return torch.softmax(self.module(x).float(), dim=1)

    return WithPreprocessing()


def _torchscript(module, example, path: str, names, metadata: dict[str, str]) -> np.ndarray:
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated, still served widely
        with torch.inference_mode():
            traced = torch.jit.trace(module, example[:1], check_trace=False)
        traced.save(path, _extra_files={k: v.encode("utf-8") for k, v in metadata.items()})
        loaded = torch.jit.load(path)
        with torch.inference_mode():
            return loaded(example).float().numpy()


def _onnx(module, example, path: str, names, metadata: dict[str, str]) -> np.ndarray:
    import warnings

    import onnx
    import torch

    # The TorchScript-based exporter needs no extra package (the dynamo one needs onnxscript).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(module, (example[:1],), path, input_names=[names[0]],
                          output_names=[names[1]], dynamo=False,
                          dynamic_axes={names[0]: {0: "batch"}, names[1]: {0: "batch"}})
    if metadata:
        model = onnx.load(path)
        onnx.helper.set_model_props(model, metadata)
        onnx.save(model, path)
    return run_onnx(path, example.numpy())


def run_onnx(path: str | os.PathLike, batch: np.ndarray) -> np.ndarray:
    """Run an ONNX file with onnxruntime when installed, else onnx's reference evaluator."""
    try:
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: batch})[0]
    except ImportError:
        import onnx
        from onnx.reference import ReferenceEvaluator

        model = onnx.load(str(path))
        onnx.checker.check_model(model)
        return ReferenceEvaluator(model).run(None, {model.graph.input[0].name: batch})[0]


def read_onnx_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX file, as a dict of strings."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}
