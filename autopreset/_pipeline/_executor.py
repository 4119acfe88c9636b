"""Executors for fit, started early: worker processes spawn (interpreter, torch and timm
imports, several seconds) while the main process measures latencies and training speeds, so
that start-up is not paid out of the search budget."""
from __future__ import annotations

from autopreset.executors import DaskExecutor, Executor, LocalExecutor
from autopreset.executors._local import _Worker

__all__ = ["WarmLocalExecutor", "make_executor"]


class WarmLocalExecutor(LocalExecutor):
    """A :class:`LocalExecutor` whose workers can be started before the tuner runs."""

    def prestart(self, objective) -> None:
        self._objective = objective
        self._workers = [_Worker(self._ctx, objective) for _ in range(self.n_workers)]

    def start(self, objective, *, on_report, on_done) -> None:
        if self._workers and objective is self._objective and all(w.proc.is_alive() for w in self._workers):
            Executor.start(self, objective, on_report=on_report, on_done=on_done)
            return
        self.close()
        super().start(objective, on_report=on_report, on_done=on_done)


def make_executor(n_workers: int, dask: str | None, objective=None):
    """(executor, dask client or None); local workers are started at once when ``objective``
    is given."""
    if dask is None:
        ex = WarmLocalExecutor(n_workers)
        if objective is not None:
            ex.prestart(objective)
        return ex, None
    from distributed import Client

    client = Client(dask, timeout=10)
    return DaskExecutor(client), client
