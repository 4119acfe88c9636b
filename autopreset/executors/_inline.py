"""In-process execution: one trial at a time in the tuner's own process (tests, debugging)."""
from __future__ import annotations

from autopreset.executors._base import Executor, Job, run_job


class InlineExecutor(Executor):
    """Runs each job inside ``wait`` in this process. An objective that never reports cannot be
    interrupted here; use ``LocalExecutor`` when the deadline must hold against such code.

        Tuner(objective, scheduler, executor=InlineExecutor()).run()
    """

    n_workers = 1

    def __init__(self) -> None:
        self._queue: list[Job] = []

    def submit(self, job: Job) -> None:
        if self._queue:
            raise ValueError("InlineExecutor runs one job at a time")
        self._queue.append(job)

    @property
    def n_running(self) -> int:
        return len(self._queue)

    def wait(self, timeout: float) -> None:
        if not self._queue:
            return
        job = self._queue[0]
        error = run_job(self._objective, job, lambda result: self._on_report(job.trial_id, result))
        self._queue.clear()   # (on Ctrl-C the job stays queued and ``stop`` ends it as interrupted)
        self._on_done(job.trial_id, error)

    def stop(self, grace_s: float, *, reason: str = "") -> None:
        # a job still queued here was cut short by an exception (a second Ctrl-C) or submitted
        # just before a signal stopped the run: it ends now, as interrupted
        for job in self._queue:
            self._on_done(job.trial_id, None)
        self._queue.clear()
