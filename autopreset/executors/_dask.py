"""Trials on a Dask cluster (``distributed.Client``), for users who outgrow one machine.

Each job is one Dask task. Reports stream to the tuner through a ``distributed.Queue`` shared by
the run, and each job waits for the tuner's answer on its own queue, so schedulers pause and
stop trials mid-run exactly as with local processes. A job announces its end on the same queue:
the tuner never gathers a result from a worker, so a worker lost after its job ended costs
nothing (gathering would make Dask run the job again while the tuner blocks). A worker lost
mid-job is Dask's to handle: it runs the job again elsewhere, and the trial continues from its
checkpoint. Checkpoint folders must be on storage all workers see (a shared file system) when
trials may resume on another machine.
"""
from __future__ import annotations

import time
import uuid
from typing import Any, Callable

from autopreset.executors._base import Executor, Job, run_job

_ANSWER_TIMEOUT_S = 120.0
_SILENT_END_S = 30.0   # a job Dask calls finished whose end message has not come: gather it
_GATHER_TIMEOUT_S = 10.0


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500]


def _dask_task(objective: Callable, job: dict, results_name: str, answer_name: str) -> str | None:
    """Runs on a Dask worker: the objective with a reporter that talks through queues."""
    from distributed import Queue

    job = Job(**job)
    results, answers = Queue(results_name), Queue(answer_name)

    def send(result: dict) -> bool:
        results.put(("report", answer_name, result))
        try:
            return bool(answers.get(timeout=_ANSWER_TIMEOUT_S))
        except Exception:   # the tuner is gone or stuck: stop this trial
            return False

    error = run_job(objective, job, send)
    try:
        results.put(("done", answer_name, error))
    except Exception:   # the scheduler is gone: the tuner learns of the end from the future
        pass
    return error


class DaskExecutor(Executor):
    """Runs trials as tasks of a ``distributed.Client``.

        from distributed import Client, LocalCluster
        client = Client(LocalCluster(n_workers=2, threads_per_worker=1))
        Tuner(train, ASHA(space=space, max_resource=27), executor=DaskExecutor(client)).run()

    ``n_workers`` defaults to the cluster's total number of worker threads. At the deadline,
    tasks that do not stop within the grace period are cancelled and the run returns; a task
    stuck outside ``report`` keeps its thread until the objective returns.
    """

    def __init__(self, client: Any, *, n_workers: int | None = None):
        self.client = client
        if n_workers is None:
            n_workers = sum(client.nthreads().values())
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            raise ValueError(f"n_workers must be a positive integer; got {n_workers!r}")
        self.n_workers = n_workers
        self._futures: dict[int, Any] = {}
        self._answers: dict[int, Any] = {}
        self._jobs: dict[str, int] = {}              # a job's answer queue name -> its trial
        self._ended: dict[int, str | None] = {}     # end messages of jobs still held
        self._silent: dict[int, float] = {}          # when a finished job was first seen silent

    def start(self, objective, *, on_report, on_done) -> None:
        from distributed import Queue

        super().start(objective, on_report=on_report, on_done=on_done)
        self._run = uuid.uuid4().hex[:12]
        self._results_name = f"autopreset-{self._run}-results"
        self._results = Queue(self._results_name, client=self.client)

    @property
    def n_running(self) -> int:
        return len(self._futures)

    def submit(self, job: Job) -> None:
        from distributed import Queue

        if len(self._futures) >= self.n_workers:
            raise ValueError(f"no free worker for trial {job.trial_id}: {self.n_workers} busy")
        answer_name = f"autopreset-{self._run}-answer-{job.trial_id}-{uuid.uuid4().hex[:8]}"
        self._answers[job.trial_id] = Queue(answer_name, client=self.client)
        self._jobs[answer_name] = job.trial_id
        self._futures[job.trial_id] = self.client.submit(
            _dask_task, self._objective, job.to_json(), self._results_name, answer_name,
            key=f"autopreset-trial-{job.trial_id}-{uuid.uuid4().hex[:8]}", pure=False, retries=0)

    def wait(self, timeout: float) -> None:
        end = time.monotonic() + max(0.0, timeout)
        while self._futures:
            got = self._results.get(batch=True)
            for kind, name, payload in got:
                tid = self._jobs.get(name)
                if tid is None:   # a late copy of a job that ended (Dask ran it again): stop it
                    if kind == "report":
                        self._tell_stop(name)
                    continue
                if kind == "report":
                    self._answers[tid].put(bool(self._on_report(tid, payload)))
                elif kind == "done":
                    self._ended[tid] = payload
            ended = [tid for tid in list(self._futures) if self._ended_now(tid)]
            for tid in ended:
                self._finish(tid)
            if ended or time.monotonic() >= end:
                return
            if not got:
                time.sleep(min(0.01, max(0.0, end - time.monotonic())))

    def _tell_stop(self, name: str) -> None:
        from distributed import Queue

        try:
            Queue(name, client=self.client).put(False)
        except Exception:   # the copy will stop by itself when its answer times out
            pass

    def _ended_now(self, tid: int) -> bool:
        """The job's end is known: its message came, or Dask says it failed or was cancelled, or
        Dask says it finished and no message came within ``_SILENT_END_S``."""
        if tid in self._ended:
            return True
        future = self._futures[tid]
        if not future.done():
            return False
        if future.status != "finished":
            return True
        first = self._silent.setdefault(tid, time.monotonic())
        return time.monotonic() - first >= _SILENT_END_S

    def _forget(self, tid: int) -> None:
        self._answers.pop(tid, None)
        self._silent.pop(tid, None)
        self._jobs = {name: t for name, t in self._jobs.items() if t != tid}

    def _finish(self, tid: int) -> None:
        future = self._futures.pop(tid)
        self._forget(tid)
        if tid in self._ended:
            error = self._ended.pop(tid)
        elif future.status == "cancelled":
            error = "cancelled"
        else:
            try:
                error = (future.result(timeout=_GATHER_TIMEOUT_S) if future.status == "finished"
                         else _one_line(future.exception(timeout=_GATHER_TIMEOUT_S)))
            except Exception as exc:   # its worker is gone with its result
                error = f"lost: the job ended without word from its worker ({_one_line(exc)})"
        future.release()   # nothing will gather it: Dask may forget the result
        self._on_done(tid, error)

    def _kill_all(self, reason: str) -> None:
        for tid in list(self._futures):
            future = self._futures.pop(tid)
            self._forget(tid)
            self._ended.pop(tid, None)
            self.client.cancel(future, force=True)
            self._on_done(tid, reason)
