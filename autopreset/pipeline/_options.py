"""What the user asked ``fit`` for, checked once: :class:`FitOptions`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autopreset.errors import InputError

__all__ = ["FitOptions", "PREFERENCES"]

PREFERENCES = ("latency", "balanced", "accuracy")


@dataclass(frozen=True, kw_only=True)
class FitOptions:
    """The arguments of :func:`autopreset.fit` (see there), validated on construction."""

    data: str
    prefer: str = "balanced"
    max_latency_ms: float | None = None
    out: str | None = None
    seed: int = 0
    preset: str = "default"
    plan_only: bool = False
    resume: bool = False
    workers: int = 1
    dask: str | None = None
    device: str = "auto"
    latency_device: str = "cpu"
    progress: bool = True
    resolution: int | None = None
    keep_checkpoints: bool = False
    task: str = "classification"
    # --resume on data that changed since the run started: "refuse" it, or "restart" the search
    # afresh in that folder (FitRun.setup)
    on_data_change: str = "refuse"
    # a folder of <backbone>.safetensors (or a Hugging Face cache), or "hub": the backbones it
    # has weights for are fine-tuned from them (FitRun.setup); None: every one starts random
    weights: str | None = None
    # each trial's learning curves as TensorBoard runs under this folder (FitRun.search)
    tensorboard_dir: str | None = None
    # "auto": a cheaper first rung where the cost model says full epochs are too expensive to
    # rank configs (FitRun.plan); "full": every epoch at full size on every image
    fidelity: str = "auto"

    def __post_init__(self):
        if self.weights is not None and (not isinstance(self.weights, str) or not self.weights):
            raise InputError(f"weights must be a folder or 'hub'; got {self.weights!r}")
        if self.tensorboard_dir is not None:
            from ._tensorboard import check_tensorboard

            check_tensorboard(self.tensorboard_dir)
        if self.fidelity not in ("auto", "full"):
            raise InputError(f"fidelity must be auto or full; got {self.fidelity!r}")
        if self.on_data_change not in ("refuse", "restart"):
            raise InputError(f"on_data_change must be refuse or restart; got {self.on_data_change!r}")
        if self.prefer not in PREFERENCES:
            raise InputError(f"prefer must be one of {', '.join(PREFERENCES)}; got {self.prefer!r}")
        m = self.max_latency_ms
        if m is not None and (isinstance(m, bool) or not isinstance(m, (int, float)) or not m > 0):
            raise InputError(f"max_latency_ms must be a positive number; got {m!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise InputError(f"device must be auto, cpu or cuda; got {self.device!r}")
        if self.latency_device not in ("cpu", "cuda"):
            raise InputError(f"latency_device must be cpu or cuda; got {self.latency_device!r}")
        w = self.workers
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise InputError(f"workers must be a positive integer; got {w!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise InputError(f"seed must be an integer; got {self.seed!r}")
        r = self.resolution
        if r is not None and (isinstance(r, bool) or int(r) != r or not 8 <= r <= 4096):
            raise InputError(f"resolution must be an integer in 8..4096 (what a saved model may "
                             f"hold), got {r!r}")
        if "cuda" in (self.device, self.latency_device):
            import torch

            if not torch.cuda.is_available():
                raise InputError("--device/--latency-device cuda: no CUDA device is available here")

    @property
    def data_path(self) -> Path:
        return Path(self.data)
