"""Picklable objectives for the process executors (importable by spawned workers)."""
import os
import signal


def crashy(config, reporter):
    """x < 0.25: the worker process kills itself mid-trial; otherwise a smooth curve."""
    for r in range(1, reporter.target_resource + 1):
        if config["x"] < 0.25 and r == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        if not reporter.report(resource=r, metric=config["x"] + 1.0 / r, pid=os.getpid()):
            return


class WarmObjective:
    """Records which process warmed up; each trial reports its pid and whether it was warm."""

    def __init__(self):
        self.warmed_pid = None

    def warm_up(self):
        self.warmed_pid = os.getpid()

    def __call__(self, config, reporter):
        reporter.report(resource=1, metric=config["x"], pid=os.getpid(),
                        warm=self.warmed_pid == os.getpid())


def log_run(config, reporter):
    """Appends a line to ``config["log"]`` (one line per run of the job) and returns."""
    with open(config["log"], "a") as f:
        f.write(f"{os.getpid()}\n")
