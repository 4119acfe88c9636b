"""Each trial's learning curves as TensorBoard runs (``fit --tensorboard DIR``).

    DIR/trial_00003/   val_accuracy, val_loss, train_loss per epoch; the config as text

Written in the main process from the tuner's events (:meth:`TrialCurves.on_event`), so it works
with every executor (in-process, local workers, Dask): the workers never write there. The epoch
is the step and the event's wall time the time, so TensorBoard overlays the trials by epoch or
by time. A resumed run writes new event files into the same trial folders.

    tensorboard --logdir DIR
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from autopreset.errors import InputError

__all__ = ["TrialCurves", "check_tensorboard"]

_DONE = ("completed", "stopped", "failed")        # a trial that will not run again
_LOSSES = ("val_loss", "train_loss")


def check_tensorboard(log_dir) -> None:
    """A clear error now, not after set-up, if TensorBoard is missing or ``log_dir`` is a file."""
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        raise InputError("--tensorboard needs the tensorboard package: "
                         "pip install 'autopreset[tensorboard]'")
    if Path(log_dir).exists() and not Path(log_dir).is_dir():
        raise InputError(f"--tensorboard {log_dir}: it is a file, not a folder")


class TrialCurves:
    """``TrialCurves(log_dir)``; pass ``curves.on_event`` as (part of) the tuner's ``on_event``.

    One ``SummaryWriter`` per trial, kept open while the trial may run again (a paused trial is
    usually promoted, and each new writer is another event file), closed when it completes,
    stops or fails; at most :attr:`OPEN` at once (the least recently written closes first: a
    long run has hundreds of trials). A write that fails (a full disk) is said once and ends
    the curves; the search goes on."""

    OPEN = 16

    def __init__(self, log_dir):
        check_tensorboard(log_dir)
        from torch.utils.tensorboard import SummaryWriter

        self._writer_cls = SummaryWriter
        self.log_dir = Path(log_dir)
        self._writers: dict[int, object] = {}
        self._failed = False

    def folder(self, trial_id: int) -> Path:
        return self.log_dir / f"trial_{int(trial_id):05d}"

    def _writer(self, trial_id: int):
        writer = self._writers.pop(trial_id, None)
        if writer is None:
            writer = self._writer_cls(str(self.folder(trial_id)))
        self._writers[trial_id] = writer             # (most recently written last)
        while len(self._writers) > self.OPEN:
            self._writers.pop(next(iter(self._writers))).close()
        return writer

    def on_event(self, event: dict) -> None:
        if self._failed:
            return
        try:
            self._on_event(event)
        except OSError as exc:
            self._failed = True
            logging.getLogger("autopreset.fit").warning(
                f"--tensorboard {self.log_dir}: {exc}; no more curves are written")
            self.close()

    def _on_event(self, event: dict) -> None:
        kind, tid, t = event.get("event"), event.get("trial_id"), event.get("t")
        if kind in ("started", "carried"):
            writer = self._writer(tid)
            writer.add_text("config", json.dumps(event.get("config", {}), sort_keys=True),
                            walltime=t)
            for result in event.get("results") or []:       # a carried trial's earlier epochs
                self._scalars(writer, result, t)
            writer.flush()
        elif kind == "reported":
            writer = self._writer(tid)
            self._scalars(writer, event["result"], t)
            writer.flush()
        elif kind in _DONE and tid in self._writers:
            self._writers.pop(tid).close()

    @staticmethod
    def _scalars(writer, result: dict, t) -> None:
        step = int(result["resource"])
        writer.add_scalar("val_accuracy", float(result["metric"]), step, walltime=t)
        for name in _LOSSES:
            if isinstance(result.get(name), (int, float)):
                writer.add_scalar(name, float(result[name]), step, walltime=t)

    def close(self) -> None:
        for writer in self._writers.values():
            try:
                writer.close()
            except OSError:
                pass
        self._writers.clear()
