"""fit on a Dask cluster of separate processes on loopback (a scheduler and two workers started
as their own commands, as on real machines), with a worker SIGKILLed mid-run: Dask runs the
lost job again on the other worker, the trial continues from its checkpoint on the shared
folder, and the run completes with no trial failed, as good as an uninterrupted run with the
same seed on the same cluster (the killed worker replaced)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autopreset.journal import read_journal

DASK = Path(sys.executable).with_name("dask")


def _start(cmd, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _wait(predicate, timeout: float, what: str):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.skipif(not DASK.exists(), reason="needs the dask command (dask[distributed])")
def test_fit_on_a_loopback_cluster_survives_a_worker_killed_mid_run(tiny_data, tiny_preset_file,
                                                                     tmp_path):
    sched_file = tmp_path / "scheduler.json"
    procs = [_start([str(DASK), "scheduler", "--scheduler-file", str(sched_file), "--host",
                     "127.0.0.1", "--port", "0", "--dashboard-address", ":0"],
                    tmp_path / "scheduler.log")]
    try:
        address = _wait(lambda: sched_file.exists() and json.loads(sched_file.read_text() or "{}")
                        .get("address"), 60, "the scheduler")
        for name in ("w1", "w2"):
            procs.append(_start([str(DASK), "worker", address, "--nworkers", "1", "--nthreads",
                                 "1", "--name", name, "--no-nanny"], tmp_path / f"{name}.log"))
        _wait(lambda: all("Starting established connection" in (tmp_path / f"{n}.log").read_text()
                          for n in ("w1", "w2")), 90, "two workers")
        def fit(out: Path) -> subprocess.Popen:
            return subprocess.Popen([sys.executable, "-m", "autopreset", "fit", str(tiny_data),
                                     "--budget", "45", "--prefer", "accuracy", "--preset",
                                     str(tiny_preset_file), "--out", str(out), "--dask", address,
                                     "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, start_new_session=True)

        run = tmp_path / "run"
        killed = fit(run)
        journal = run / "journal.jsonl"
        _wait(lambda: journal.exists() and sum(e["event"] == "reported"
                                               for e in read_journal(journal)) >= 3,
              120, "three reports")
        os.kill(procs[1].pid, signal.SIGKILL)                  # worker w1, mid-run
        out, err = killed.communicate(timeout=240)
        assert killed.returncode == 0, err[-2000:]
        events = read_journal(journal)
        assert not [e for e in events if e["event"] == "failed"], "a trial failed"
        reported = [(e["trial_id"], e["result"]["resource"]) for e in events if e["event"] == "reported"]
        assert len(reported) == len(set(reported))
        assert (run / "model" / "model.json").is_file()

        procs.append(_start([str(DASK), "worker", address, "--nworkers", "1", "--nthreads", "1",
                             "--name", "w3", "--no-nanny"], tmp_path / "w3.log"))
        _wait(lambda: "Starting established connection" in (tmp_path / "w3.log").read_text(),
              90, "the replacement worker")
        whole = fit(tmp_path / "whole")
        out, err = whole.communicate(timeout=240)
        assert whole.returncode == 0, err[-2000:]

        def accuracy(folder: Path) -> float:
            return json.loads((folder / "model" / "model.json").read_text())["metrics"]["val_accuracy"]

        assert accuracy(run) >= accuracy(tmp_path / "whole") - 0.05
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=30)
