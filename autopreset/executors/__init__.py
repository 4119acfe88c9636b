"""Executors run trials and stream their reports back to the tuner, behind one interface.

    from autopreset.executors import InlineExecutor, LocalExecutor, DaskExecutor
    Tuner(objective, scheduler, executor=LocalExecutor(n_workers=2))

``autopreset.simulator.SimulatedExecutor`` implements the same interface on a simulated clock.
"""
from autopreset.executors._base import Executor, Job, JobReporter, run_job
from autopreset.executors._dask import DaskExecutor
from autopreset.executors._factory import make_executor, worker_threads
from autopreset.executors._inline import InlineExecutor
from autopreset.executors._local import LocalExecutor, usable_cores
from autopreset.reporting import Reporter

__all__ = ["Executor", "Job", "Reporter", "JobReporter", "run_job", "InlineExecutor", "LocalExecutor",
           "DaskExecutor", "usable_cores", "make_executor", "worker_threads"]
