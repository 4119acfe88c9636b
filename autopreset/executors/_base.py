"""The executor contract and the reporter that objectives talk to.

An executor runs jobs (one trial up to a target resource) and streams every report back to the
tuner while the trial runs, so a scheduler can pause or stop it mid-trial:

    executor.start(objective, on_report=fn(trial_id, result) -> bool, on_done=fn(trial_id, error))
    executor.submit(job)          # at most n_workers jobs run at once
    executor.wait(timeout)        # handle events until a job ends or timeout seconds pass
    executor.stop(grace_s, reason=...)   # deadline or signal: running trials are told to stop,
                                         # killed after grace (``reason`` ends their record)
    executor.close()

``on_report`` answers whether the trial goes on; the worker's ``reporter.report`` returns that
answer (and False by itself past the job's absolute deadline). ``clock()`` is the time the tuner
budgets with: wall-clock here, simulated in ``autopreset.simulator``.
"""
from __future__ import annotations

import math
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from autopreset.errors import DISK_FULL, is_disk_full


@dataclass(frozen=True)
class Job:
    """One run of a trial: from its checkpoint (if any) up to ``target_resource``."""

    trial_id: int
    config: dict
    checkpoint_dir: str
    target_resource: int
    max_resource: int
    seed: int
    deadline: float = math.inf   # absolute time.time() after which reports answer False

    def to_json(self) -> dict:
        return asdict(self)


class JobReporter:
    """What an objective gets from an executor (an ``autopreset.reporting.Reporter``): where
    its checkpoint lives, how far to go, ``report``, and the job's ``deadline``.

        def objective(config, reporter):
            state = load(reporter.checkpoint_dir)            # None on a new trial
            for epoch in range(state.epoch + 1, reporter.target_resource + 1):
                loss = train_one_epoch(...)
                if not reporter.report(resource=epoch, metric=loss):
                    break
            save(reporter.checkpoint_dir, state)
    """

    def __init__(self, job: Job, send: Callable[[dict], bool]):
        self.trial_id = job.trial_id
        self.checkpoint_dir = Path(job.checkpoint_dir)
        self.max_resource = job.max_resource
        self.target_resource = job.target_resource
        self.seed = job.seed
        self.deadline = job.deadline
        self._send = send
        self._stopped = False

    @property
    def time_left(self) -> float:
        """Seconds until the run's hard deadline (inf without one)."""
        return self.deadline - time.time()

    def report(self, resource: int, metric: float, **extra: Any) -> bool:
        """Record the metric after ``resource`` units; False means: save your checkpoint, return."""
        if self._stopped:
            return False
        if isinstance(resource, bool) or not isinstance(resource, int) and not hasattr(resource, "__index__"):
            raise ValueError(f"report: resource must be an integer; got {resource!r}")
        resource = int(resource)
        if resource < 1:
            raise ValueError(f"report: resource must be >= 1; got {resource}")
        try:
            metric = float(metric)
        except (TypeError, ValueError):
            raise ValueError(f"report: metric must be a number; got {metric!r}") from None
        go_on = bool(self._send({"resource": resource, "metric": metric, **extra}))
        if not go_on or resource >= self.target_resource or time.time() >= self.deadline:
            self._stopped = True
            return False
        return True


def run_job(objective: Callable, job: Job, send: Callable[[dict], bool]) -> str | None:
    """Run the objective for one job; the failure reason (one line) or None."""
    try:
        Path(job.checkpoint_dir).mkdir(parents=True, exist_ok=True)
        objective(dict(job.config), JobReporter(job, send))
    except Exception as exc:   # any failure of user code fails only this trial
        if is_disk_full(exc):   # the machine's fault, not the config's: the tuner stops the run
            return f"{DISK_FULL}: {exc}".replace("\n", " ")[:500]
        return _reason(exc)
    return None


def _reason(exc: BaseException) -> str:
    """A failure as one line: type, message and where it was raised."""
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" ({Path(frame.filename).name}:{frame.lineno})" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}".replace("\n", " ")[:500]


class Executor:
    """Base class; see the module docstring for the contract."""

    n_workers: int = 1
    simulated: bool = False

    def clock(self) -> float:
        return time.monotonic()

    def start(self, objective: Callable, *, on_report: Callable[[int, dict], bool],
              on_done: Callable[[int, str | None], None]) -> None:
        self._objective = objective
        self._on_report = on_report
        self._on_done = on_done

    def submit(self, job: Job) -> None:
        raise NotImplementedError

    @property
    def n_running(self) -> int:
        raise NotImplementedError

    def wait(self, timeout: float) -> None:
        raise NotImplementedError

    def stop(self, grace_s: float, *, reason: str = "killed: did not stop at the deadline") -> None:
        """Let running jobs see their stop (reports answer False), kill what is left after grace
        (each killed job ends with ``reason``)."""
        end = time.monotonic() + grace_s
        while self.n_running and time.monotonic() < end:
            self.wait(max(0.0, end - time.monotonic()))
        self._kill_all(reason)

    def _kill_all(self, reason: str) -> None:
        pass

    def close(self) -> None:
        pass
