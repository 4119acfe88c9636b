"""Fault injection: kill the whole run at a named point, to prove that ``--resume`` survives it.

Off unless the environment asks for it (nothing is read or counted otherwise):

    AUTOPRESET_FAULT=epoch:2          # SIGKILL the run the 2nd time a trial ends an epoch
    AUTOPRESET_FAULT=epoch:every=3    # ... every 3rd time (hit 3, 6, 9, ...)
    AUTOPRESET_FAULT_STATE=/tmp/f     # count hits here, across processes and resumed runs

With a state file the hits are counted over every process of the run (workers included) and
over the runs that resume it, so ``point:n`` fires once in a kill-and-resume loop and the loop
ends; without one each process counts for itself. A hit in a worker process kills the fit
process that started it, then the worker: what a crash of the machine or the OOM killer does.

Points (where each is reached):

    setup        the run folder is open, run.json not yet written (FitRun.setup)
    latency      while the serving latencies are measured (FitRun.plan)
    epoch        a trial finished an epoch, before its checkpoint and report (the trainer)
    checkpoint   a checkpoint's tensors are written, its checkpoint.json not yet (the trainer)
    journal      half of a journal line reaches the file, the rest never (Journal.write)
    promotion    a paused trial is about to be resumed to a higher rung (the tuner)
    switch       the portfolio phase hands over to Hyperband (PortfolioHyperband)
    refit        the refit on train+validation is about to start (FitRun.refit)
    save         the model's weights are written, model.json not yet (the model folder)
    report       the model is saved; leaderboard, report and preset card not yet (finish)
"""
from __future__ import annotations

import fcntl
import os
import signal

__all__ = ["POINTS", "fault_point", "fault_hit", "kill_run", "mark_main_process", "FAULT_ENV",
           "STATE_ENV"]

FAULT_ENV = "AUTOPRESET_FAULT"
STATE_ENV = "AUTOPRESET_FAULT_STATE"
POINTS = ("setup", "latency", "epoch", "checkpoint", "journal", "promotion", "switch", "refit",
          "save", "report")

_local_counts: dict[str, int] = {}
_MAIN_PID_ENV = "AUTOPRESET_FAULT_MAIN_PID"


def _count(point: str) -> int:
    """This hit's number (1-based): from the state file when there is one, else this process's."""
    path = os.environ.get(STATE_ENV)
    if not path:
        _local_counts[point] = _local_counts.get(point, 0) + 1
        return _local_counts[point]
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        text = os.read(fd, 4096).decode() or "0"
        n = int(text.strip() or 0) + 1
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, str(n).encode())
        os.fsync(fd)
        return n
    finally:
        os.close(fd)


def mark_main_process() -> None:
    """Called by the fit process: workers it starts then know whom a fault must kill."""
    if os.environ.get(FAULT_ENV):
        os.environ[_MAIN_PID_ENV] = str(os.getpid())


def fault_point(point: str) -> None:
    """SIGKILL the run here if ``AUTOPRESET_FAULT`` names this point and this hit."""
    if fault_hit(point):
        kill_run()


def fault_hit(point: str) -> bool:
    """Count a hit of ``point`` and say whether the fault fires on it (False when off)."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return False
    name, _, when = spec.partition(":")
    if name != point:
        return False
    n = _count(point)
    if when.startswith("every="):
        return n % max(1, int(when[6:])) == 0
    return n == int(when or 1)


def kill_run() -> None:
    """SIGKILL the fit process (from a worker: the fit that started it, then the worker)."""
    main = os.environ.get(_MAIN_PID_ENV)
    if main and int(main) != os.getpid():
        try:
            os.kill(int(main), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    os.kill(os.getpid(), signal.SIGKILL)
