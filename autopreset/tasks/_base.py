"""The task-type contract and its registry (docs/contracts.md, "Task types")."""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["TaskType", "get_task", "register_task", "task_names"]


@runtime_checkable
class TaskType(Protocol):
    """What a task type provides. Instances are stateless and picklable (they travel to
    worker processes inside the trainer's objective)."""

    name: str            # registry name, recorded in run.json and model.json
    metric: str          # the validation metric the search optimizes, e.g. "accuracy"
    mode: str            # "max" or "min" for that metric

    def read(self, data, *, n_jobs: int = -1, progress=None, cache_resolution=None) -> Any:
        """Scan ``data`` into a dataset with ``paths``, ``labels`` (per-image targets),
        ``fingerprint``, ``root`` and ``skipped``; a one-line ValueError for bad input.
        ``progress`` and ``cache_resolution`` as :func:`autopreset.data.scan` takes them (the
        images decoded into the cache as they are checked)."""

    def split(self, dataset, *, val_fraction: float, random_state) -> tuple:
        """(train indices, validation indices) of ``dataset``."""

    def n_outputs(self, dataset) -> int:
        """Width of the model's head for ``dataset``."""

    def build_model(self, backbone: str, n_outputs: int, *, pretrained="auto"):
        """(torch module with the head, weights source) for a catalog backbone."""

    def loss(self, config: dict):
        """The training criterion (a torch module) for a resolved trainer config."""

    def score_batch(self, outputs, targets) -> tuple[float, float]:
        """(sum of the metric over the batch, sum of the unsmoothed loss) for validation;
        the epoch's metric is the sum over batches divided by the number of images."""

    def predict(self, outputs, *, top_k: int = 1) -> list[dict]:
        """What ``predict`` returns per image, from the model's outputs (a numpy array)."""

    def model_record(self, dataset) -> dict:
        """What the saved model records about the task (e.g. class names in order)."""

    def describe(self, dataset) -> str:
        """One line about ``dataset`` for the run's log."""


_TASKS: dict[str, type] = {}


def register_task(name: str, cls: type) -> None:
    """Make ``cls`` (a :class:`TaskType` implementation) available as ``get_task(name)``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"task name must be a non-empty string; got {name!r}")
    _TASKS[name] = cls


def get_task(name: "str | TaskType" = "classification") -> TaskType:
    """The task type registered as ``name`` (an instance is returned as it is)."""
    if not isinstance(name, str):
        return name
    try:
        return _TASKS[name]()
    except KeyError:
        from autopreset.errors import InputError

        raise InputError(f"unknown task type {name!r}; known: {', '.join(sorted(_TASKS))}") from None


def task_names() -> list[str]:
    return sorted(_TASKS)
