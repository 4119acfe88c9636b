"""The executor fit uses, started early: worker processes spawn (interpreter, torch and timm
imports, several seconds) while the caller measures latencies and training speeds, so that
start-up is not paid out of the search budget; or a Dask cluster's client.

    executor, client = make_executor(2, None, objective)      # local workers, started now
    executor, client = make_executor(1, "tcp://10.0.0.5:8786")  # Dask; close the client after
    TrainingTask(..., threads=worker_threads(2, None))
"""
from __future__ import annotations

import os

from autopreset.executors._dask import DaskExecutor
from autopreset.executors._local import LocalExecutor, usable_cores

__all__ = ["make_executor", "worker_threads"]


def make_executor(n_workers: int = 1, dask: str | None = None, objective=None):
    """(executor, Dask client or None): ``LocalExecutor(n_workers)`` when ``dask`` is None, its
    workers started at once when ``objective`` is given; else a ``DaskExecutor`` on a client of
    the scheduler at address ``dask``."""
    if dask is None:
        ex = LocalExecutor(n_workers)
        if objective is not None:
            ex.prestart(objective)
        return ex, None
    from distributed import Client

    client = Client(dask, timeout=10)
    return DaskExecutor(client), client


def worker_threads(n_workers: int, dask: str | None = None) -> int | None:
    """Torch threads per local worker: the cores other processes leave free (1-minute load
    average), shared among the workers. Oversubscribed torch threads spin against each other,
    and an epoch can take 10x longer than on one thread; None (torch's default) on Dask."""
    if dask is not None:
        return None
    cores = usable_cores()
    try:
        busy = os.getloadavg()[0]
    except (OSError, AttributeError):
        busy = 0.0
    free = max(1, min(cores, cores - int(busy + 0.5)))
    return max(1, free // n_workers)
