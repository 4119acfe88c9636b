"""Local worker processes: each trial runs in a separate process, so a crash, a segfault or a
kill takes down only that trial; the worker is replaced and the search goes on.

Workers are started with the "spawn" method (safe with threads, torch and CUDA) and each talks
to the tuner over its own pipe, so a worker killed mid-message cannot corrupt another's channel.
A report blocks until the tuner answers (continue or not), so pause and stop act at once. We
use plain ``multiprocessing`` rather than joblib/loky or ``ProcessPoolExecutor``: those pools
cannot kill one task at the deadline, and a dead worker breaks the whole pool.

No main guard needed: a spawned process normally re-runs the caller's script (its
``__main__``) before anything else, so a script that calls ``Tuner(...).run()`` or
``autopreset.fit(...)`` at top level, without ``if __name__ == "__main__":``, would run again in
every worker. When the objective does not live in ``__main__`` (it comes from an importable
module, as ``fit``'s does), workers are started without the caller's ``__main__``: nothing of
the script runs in them. An objective defined in the script itself still needs the guard
(the worker must import the script to find it); a worker that dies before it starts says so.
"""
from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import pickle
import pickletools
import signal
import sys
import threading
import types
from multiprocessing.connection import wait as mp_wait
from typing import Callable

from autopreset.errors import InputError
from autopreset.executors._base import Executor, Job, run_job

_MAIN_LOCK = threading.Lock()
_MAIN_GUARD_HINT = ("the objective is defined in the script being run, so its workers import "
                   "that script: put the script's top-level code under "
                   "`if __name__ == \"__main__\":`")


def _worker_main(conn, objective: Callable) -> None:
    """Worker loop: receive jobs, run them, stream reports; exit when the tuner goes away.

    An objective with a ``warm_up()`` method has it called once, before the first job: the
    place for imports and device start-up (a CUDA context), paid while the worker waits rather
    than out of its first trial. A failing warm-up is ignored; the trial will report the error.
    """
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the tuner's to handle,
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # and so is a SIGTERM sent to the group
    except (ValueError, OSError):
        pass
    try:
        conn.send(("ready", None, None))   # started: a death from now on is not a failed start
    except (EOFError, OSError):
        return
    warm_up = getattr(objective, "warm_up", None)
    if callable(warm_up):
        try:
            warm_up()
        except Exception:
            pass

    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] != "job":
            return
        job = Job(**msg[1])

        def send(result: dict, tid: int = job.trial_id) -> bool:
            try:
                conn.send(("report", tid, result))
                return bool(conn.recv())
            except (EOFError, OSError):   # the tuner is gone: stop, then exit
                os._exit(0)

        error = run_job(objective, job, send)
        try:
            conn.send(("done", job.trial_id, error))
        except (EOFError, OSError):
            return


class _Worker:
    def __init__(self, ctx, objective: Callable, *, without_main: bool = False):
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, objective), daemon=True)
        with _bare_main() if without_main else contextlib.nullcontext():
            self.proc.start()
        child.close()
        self.job: Job | None = None
        self.ready = False   # the worker reached its loop (it sent "ready")


@contextlib.contextmanager
def _bare_main():
    """While a spawn process starts: ``__main__`` is a bare module (no ``__file__``, no
    ``__spec__``), so ``multiprocessing.spawn.get_preparation_data`` tells the child to import
    no main module. Under a lock: two starts at once must not restore each other's module."""
    with _MAIN_LOCK:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


def _needs_main(objective: Callable, data: bytes | None = None) -> bool:
    """Whether a worker needs the caller's ``__main__`` to unpickle ``objective``: it (or its
    class) is defined there, or its pickle ``data`` refers to something that is."""
    where = objective if isinstance(objective, (types.FunctionType, type)) else type(objective)
    if getattr(where, "__module__", None) == "__main__":
        return True
    if data is None:
        return False
    try:
        return any(isinstance(arg, str) and (arg == "__main__" or arg.startswith("__main__ "))
                   for _, arg, _ in pickletools.genops(data))
    except Exception:   # an unreadable pickle: keep the safe default
        return True


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. under taskset or a container's
    cpuset), not the machine's count."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class LocalExecutor(Executor):
    """Trials in ``n_workers`` local processes (the objective must be picklable: a module-level
    function or an instance of a module-level class).

        Tuner(train, Hyperband(space=space, max_resource=27), executor=LocalExecutor(n_workers=2))
    """

    def __init__(self, n_workers: int | None = None, *, start_method: str = "spawn"):
        n = usable_cores() if n_workers is None else n_workers
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(f"n_workers must be a positive integer; got {n_workers!r}")
        self.n_workers = n
        self._ctx = mp.get_context(start_method)
        self._workers: list[_Worker] = []
        self._without_main = False

    def _new_worker(self) -> _Worker:
        return _Worker(self._ctx, self._objective, without_main=self._without_main)

    def _set_objective(self, objective) -> None:
        data = self._check_picklable(objective)
        self._objective = objective
        self._without_main = (self._ctx.get_start_method() == "spawn"
                              and not _needs_main(objective, data))

    def prestart(self, objective) -> None:
        """Start the worker processes now, before the tuner runs, so that their start-up
        (interpreter, imports, the objective's ``warm_up()``) overlaps the caller's own work.
        A later :meth:`start` with the same objective object uses them."""
        self.close()
        self._set_objective(objective)
        self._workers = [self._new_worker() for _ in range(self.n_workers)]

    def start(self, objective, *, on_report, on_done) -> None:
        prestarted = (self._workers and objective is getattr(self, "_objective", None)
                      and all(w.proc.is_alive() and w.job is None for w in self._workers))
        if not prestarted:
            self.close()
            self._set_objective(objective)
        super().start(objective, on_report=on_report, on_done=on_done)
        if not prestarted:
            self._workers = [self._new_worker() for _ in range(self.n_workers)]

    @staticmethod
    def _check_picklable(objective) -> bytes:
        try:
            return pickle.dumps(objective)
        except Exception as exc:
            raise InputError(f"objective {objective!r} cannot be sent to worker processes ({exc}); "
                             "use a module-level function or class instance") from None

    @property
    def n_running(self) -> int:
        return sum(w.job is not None for w in self._workers)

    def submit(self, job: Job) -> None:
        for w in self._workers:
            if w.job is None:
                w.job = job
                w.conn.send(("job", job.to_json()))
                return
        raise ValueError(f"no free worker for trial {job.trial_id}: {self.n_workers} busy")

    def wait(self, timeout: float) -> None:
        busy = [w for w in self._workers if w.job is not None]
        if not busy:
            return
        ready = set(mp_wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout))
        for w in busy:
            if w.conn in ready:
                self._drain(w)
            if w.job is not None and w.proc.sentinel in ready:
                self._drain(w)
                if w.job is not None:
                    w.proc.join(timeout=2)   # reap it, so the exit code is known
                    self._replace(w, self._death_reason(w))

    def _death_reason(self, w: _Worker) -> str:
        code = w.proc.exitcode
        if w.ready:
            return f"worker process died (exit code {code})"
        if not self._without_main:
            return f"worker process failed to start (exit code {code}): {_MAIN_GUARD_HINT}"
        return f"worker process failed to start (exit code {code}; its stderr says why)"

    def _drain(self, w: _Worker) -> None:
        try:
            while w.job is not None and w.conn.poll():
                kind, tid, payload = w.conn.recv()
                if kind == "ready":
                    w.ready = True
                elif kind == "report":
                    answer = self._on_report(tid, payload)
                    w.conn.send(answer)
                elif kind == "done":
                    w.job = None
                    self._on_done(tid, payload)
        except (EOFError, OSError):
            pass

    def _replace(self, w: _Worker, reason: str, respawn: bool = True) -> None:
        tid = w.job.trial_id
        if w.proc.is_alive():
            w.proc.kill()
        w.proc.join(timeout=5)
        w.conn.close()
        i = self._workers.index(w)
        if respawn:
            self._workers[i] = self._new_worker()
        else:
            w.job = None
        self._on_done(tid, reason)

    def _kill_all(self, reason: str) -> None:
        for w in list(self._workers):
            if w.job is not None:
                self._replace(w, reason, respawn=False)

    def close(self, timeout_s: float = 0.3) -> None:
        """Ask idle workers to exit; kill whatever has not exited after ``timeout_s``."""
        import time

        for w in self._workers:
            try:
                if w.proc.is_alive() and w.job is None:
                    w.conn.send(("exit",))
            except (OSError, ValueError):
                pass
        end = time.monotonic() + timeout_s
        for w in self._workers:
            w.proc.join(timeout=max(0.0, end - time.monotonic()))
        for w in self._workers:
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(timeout=1)
            try:
                w.conn.close()
            except OSError:
                pass
        self._workers = []
