"""The timm trainer as a tuner objective: ``TrainingTask(...)(config, reporter)``.

A :class:`TrainingTask` describes the data (a decoded-image cache, labels, train/validation
indices) and where to run (device, threads). It is small and picklable, so the tuner can
send it to worker processes; each call trains one config epoch by epoch, reporting
validation accuracy (``metric``), ``val_loss``, ``train_loss`` and ``seconds`` after every
epoch, and checkpoints when paused (see docs/contracts.md, "Objectives and the reporter").

Exact resume: data order and augmentation for epoch e are drawn from
``numpy.random.default_rng([seed, e])``, the LR is a pure function of the global step
(:mod:`._schedule`), and model, optimizer and global RNG states are restored, so a trial
resumed in a new process reports the same per-epoch metrics as one never paused.

    task = TrainingTask(cache=cache, labels=ds.labels, train_idx=tr, val_idx=va,
                        classes=ds.classes)
    task({"backbone": "resnet18", "lr": 0.05, "batch_size": 64}, reporter)

Where a trial's backbone starts from: ``weights`` maps a backbone to the safetensors file it is
fine-tuned from (``autopreset.backbones.find_weights`` builds it; "hub" for timm's download);
any other backbone starts as ``pretrained`` says, random init by default. A trial that starts
from weights trains with the config's fine-tuning keys (``backbone_lr_scale``, ``warmup_epochs``,
``lp_epochs``: :mod:`._config`) and says so in every report (``pretrained``, ``weights``).
"""
from __future__ import annotations

import contextlib
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._faults import fault_point
from ..data import ImageCache
from ..reporting import Reporter
from ._config import resolve_config
from ._epoch import EpochRunner, _is_oom
from ._reporter import TrialFailedError

__all__ = ["TrainingTask"]


@dataclass(frozen=True, kw_only=True, eq=False)
class TrainingTask:
    """Everything a worker needs to train a config; cheap to pickle (no images inside)."""

    cache: ImageCache
    labels: np.ndarray
    train_idx: np.ndarray
    val_idx: np.ndarray
    classes: tuple[str, ...]
    task_type: str = "classification"      # autopreset.tasks: head, loss, metric
    device: str = "auto"
    threads: int | None = None
    pretrained: bool | str = False          # every other backbone: False, "hub", or a file
    weights: dict = field(default_factory=dict)    # backbone -> weights file (or "hub")
    eval_batch_size: int = 256
    in_memory_limit: int = field(default=2 << 30, repr=False)

    def __post_init__(self):
        for name in ("train_idx", "val_idx"):
            idx = np.asarray(getattr(self, name))
            if idx.size == 0:
                raise ValueError(f"TrainingTask: {name} is empty")
            if idx.min() < 0 or idx.max() >= self.cache.n_images:
                raise ValueError(f"TrainingTask: {name} has indices outside "
                                 f"0..{self.cache.n_images - 1}")
        if len(self.labels) != self.cache.n_images:
            raise ValueError(f"TrainingTask: {len(self.labels)} labels for "
                             f"{self.cache.n_images} cached images")
        if len(self.classes) < 2:
            raise ValueError("TrainingTask: need at least 2 classes")
        if not isinstance(self.weights, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and v for k, v in self.weights.items()):
            raise ValueError("TrainingTask: weights must map backbone names to weights files")

    def weights_for(self, backbone: str) -> bool | str:
        """What ``backbone`` starts from: its weights file, "hub", or ``pretrained``."""
        return self.weights.get(backbone, self.pretrained)

    @property
    def kind(self):
        """The task type (autopreset.tasks) that gives this trainer its head, loss and metric."""
        from autopreset.tasks import get_task

        return get_task(self.task_type)

    @property
    def input_size(self) -> int:
        return self.cache.resolution

    def __call__(self, config: dict, reporter: Reporter) -> None:
        """Train ``config`` from its checkpoint (if any) up to ``reporter.target_resource``."""
        import torch

        cfg = resolve_config(config)
        if self.threads:
            torch.set_num_threads(int(self.threads))
        device = _resolve_device(self.device)
        devices = [device.index or 0] if device.type == "cuda" else []
        try:
            # The trial seeds and restores torch's global RNG (model init, dropout); fork it
            # so an in-process caller's own random stream is left as it was.
            py_state, np_state = random.getstate(), np.random.get_state()
            try:
                with torch.random.fork_rng(devices=devices):
                    self._train(cfg, config, reporter, device)
            finally:
                random.setstate(py_state)
                np.random.set_state(np_state)
        except TrialFailedError:
            raise
        except RuntimeError as err:  # torch.OutOfMemoryError is a RuntimeError
            if _is_oom(err):
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                raise TrialFailedError(
                    f"out of memory on {device.type} training {cfg['backbone']} with "
                    f"batch_size={cfg['batch_size']} at {self.input_size}px; "
                    "this config needs a smaller batch or backbone") from None
            raise

    def warm_up(self) -> None:
        """Pay the one-off start-up of a training process ahead of the first trial: torch and
        timm imports, the thread count and, on CUDA, the context and cuDNN/cuBLAS handles (one
        small convolution forward and backward under autocast). Local workers call it while
        idle, so a trial's first epoch is not charged seconds of set-up against the deadline."""
        import timm  # noqa: F401  (import cost, once)
        import torch

        if self.threads:
            torch.set_num_threads(int(self.threads))
        device = _resolve_device(self.device)
        if device.type != "cuda":
            return
        torch.cuda.init()
        conv = torch.nn.Conv2d(3, 8, 3).to(device)
        x = torch.randn(2, 3, 16, 16, device=device)
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        with torch.autocast("cuda", dtype=dtype):
            conv(x).float().square().mean().backward()
        torch.cuda.synchronize(device)

    def _train(self, cfg: dict, raw_config: dict, reporter: Reporter, device) -> None:
        runner = EpochRunner(task=self, cfg=cfg, device=device, seed=int(reporter.seed),
                             max_resource=int(reporter.max_resource))
        folder = Path(reporter.checkpoint_dir)
        start = runner.restore(folder, raw_config)
        target = min(int(reporter.target_resource), int(reporter.max_resource))
        if start and runner.history:
            # A kill can fall between an epoch's checkpoint and its report: say the restored
            # epoch again (the tuner skips a report it already has) so no rung goes unseen.
            last = runner.history[-1]
            extra = {k: v for k, v in last.items() if k not in ("metric", "epoch")}
            if not reporter.report(resource=start, metric=last["metric"], restored=True, **extra):
                return
        saved = start
        policy = _CheckpointPolicy()
        for epoch in range(start, target):
            t0 = time.perf_counter()
            train_stats = runner.train_epoch(epoch)
            val_acc, val_loss = runner.evaluate()
            seconds = time.perf_counter() - t0
            result = dict(metric=val_acc, val_loss=val_loss, seconds=seconds, **train_stats)
            runner.record(epoch + 1, result)
            fault_point("epoch")
            last_epoch = epoch + 1 == target
            if not last_epoch and policy.due(seconds):
                with policy.timing():
                    runner.save(folder, raw_config, durable=False)
                saved = runner.epoch
            go_on = reporter.report(resource=epoch + 1, metric=val_acc,
                                    **{k: v for k, v in result.items() if k != "metric"})
            if not go_on:
                break
        if runner.epoch > saved or not (folder / "checkpoint.json").exists():
            runner.save(folder, raw_config)


class _CheckpointPolicy:
    """When to checkpoint at an epoch boundary: always, unless writing a checkpoint takes over
    ``FREE_S`` and more than ``SHARE`` of the training done since the last one (a large model on
    a few hundred images: 130 MB of resnet18 + AdamW state take about 0.4 s to write); then at the
    first boundary after enough training. A kill costs at most the epoch in progress, or
    ``1 / SHARE`` checkpoint writes' worth of training, whichever is longer."""

    SHARE = 0.1
    FREE_S = 0.25

    def __init__(self):
        self.write_s = 0.0            # the last checkpoint's write time (0: none written yet)
        self.since = 0.0              # training seconds since the last checkpoint

    def due(self, epoch_s: float) -> bool:
        self.since += epoch_s
        return self.write_s <= max(self.FREE_S, self.SHARE * self.since)

    @contextlib.contextmanager
    def timing(self):
        t0 = time.perf_counter()
        yield
        self.write_s, self.since = time.perf_counter() - t0, 0.0


def _resolve_device(device: str):
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)
