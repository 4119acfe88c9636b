"""Executors for fit, started early: worker processes spawn (interpreter, torch and timm
imports, several seconds) while the main process measures latencies and training speeds, so
that start-up is not paid out of the search budget."""
from __future__ import annotations

import os

from autopreset.executors import DaskExecutor, LocalExecutor, usable_cores

__all__ = ["make_executor", "worker_threads"]


def make_executor(n_workers: int, dask: str | None, objective=None):
    """(executor, dask client or None); local workers are started at once when ``objective``
    is given."""
    if dask is None:
        ex = LocalExecutor(n_workers)
        if objective is not None:
            ex.prestart(objective)
        return ex, None
    from distributed import Client

    client = Client(dask, timeout=10)
    return DaskExecutor(client), client


def worker_threads(n_workers: int, dask) -> int | None:
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
