"""Export a trained module to ONNX or TorchScript, checked against PyTorch's own outputs."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from autopreset._atomic import atomic_path
from autopreset.errors import InputError, RunError

TOLERANCE = 1e-3


def export_model(module, input_size: int, fmt: str, output: Path) -> tuple[Path, float]:
    """Write ``module`` to ``output`` in ``fmt`` and return ``(output, max |difference|)``.

    The exported file is written beside ``output`` (fsync'ed, mode as ``open`` gives it) and
    renamed into place only after its outputs on a random batch match PyTorch's within
    ``TOLERANCE``; otherwise :class:`~autopreset.errors.RunError` and nothing is written.
    """
    if fmt not in ("onnx", "torchscript"):
        raise InputError(f"unknown export format {fmt!r}: choose onnx or torchscript")
    import torch

    module = module.eval()
    generator = torch.Generator().manual_seed(0)
    example = torch.randn(2, 3, input_size, input_size, generator=generator)
    with torch.inference_mode():
        reference = module(example).float().numpy()
    with atomic_path(output) as tmp:   # renamed onto ``output`` only if the check passes
        got = (_onnx if fmt == "onnx" else _torchscript)(module, example, str(tmp))
        diff = float(np.max(np.abs(got - reference)))
        if not diff <= TOLERANCE:
            raise RunError(f"{output}: exported {fmt} model differs from PyTorch by {diff:.2e}")
    return output, diff


def _torchscript(module, example, path: str) -> np.ndarray:
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated, still served widely
        with torch.inference_mode():
            traced = torch.jit.trace(module, example[:1], check_trace=False)
        traced.save(path)
        loaded = torch.jit.load(path)
        with torch.inference_mode():
            return loaded(example).float().numpy()


def _onnx(module, example, path: str) -> np.ndarray:
    import warnings

    import torch

    # The TorchScript-based exporter needs no extra package (the dynamo one needs onnxscript).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(module, (example[:1],), path, input_names=["image"],
                          output_names=["logits"], dynamo=False,
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
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
