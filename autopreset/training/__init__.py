"""The timm trainer as a tuner objective, with exact checkpoint resume.

    from autopreset.training import TrainingTask, load_model_from_checkpoint
    task = TrainingTask(cache=cache, labels=ds.labels, train_idx=tr, val_idx=va,
                        classes=ds.classes, threads=2)
    task(config, reporter)                  # objective(config, reporter), docs/contracts.md
    model, meta = load_model_from_checkpoint(reporter.checkpoint_dir)
"""
from ._checkpoint import drop_weights, load_model_from_checkpoint
from ._config import DEFAULTS, FINETUNE_KEYS, resolve_config
from ._reporter import RecordingReporter, TrialFailedError
from ._schedule import backbone_factor, lr_factor
from ._task import TrainingTask

__all__ = ["TrainingTask", "load_model_from_checkpoint", "drop_weights", "RecordingReporter",
           "TrialFailedError", "resolve_config", "DEFAULTS", "FINETUNE_KEYS", "lr_factor",
           "backbone_factor"]
