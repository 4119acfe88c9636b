"""A full disk stops the run (it is not the trial's fault) and --resume continues once space is
freed: the trial that hit it is interrupted, not failed, and goes on from its checkpoint."""
from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from autopreset.errors import DiskFull, RunError
from autopreset.journal import read_journal
from autopreset.schedulers import FIFO
from autopreset.searchers import RandomSearcher
from autopreset.space import Float
from autopreset.tuner import Tuner

FULL: dict[str, bool] = {"now": False}


def objective(config, reporter):
    state = Path(reporter.checkpoint_dir) / "state.json"
    start = json.loads(state.read_text())["r"] if state.exists() else 0
    for r in range(start + 1, reporter.target_resource + 1):
        if FULL["now"] and r == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(state))
        state.write_text(json.dumps({"r": r}))
        if not reporter.report(resource=r, metric=config["x"] + 1.0 / r):
            break


def _tuner(run: Path, resume: bool = False) -> Tuner:
    sched = FIFO(searcher=RandomSearcher({"x": Float(0.0, 1.0)}, mode="min", random_state=0),
                 mode="min", max_resource=4, max_trials=3)
    return Tuner(objective, sched, run_dir=run, resume=resume)


def test_a_full_disk_stops_the_run_and_resume_continues_the_trial(tmp_path):
    run = tmp_path / "run"
    FULL["now"] = True
    try:
        with pytest.raises(DiskFull, match="disk full: .*No space left on device.*free some space"):
            _tuner(run).run()
    finally:
        FULL["now"] = False
    assert issubclass(DiskFull, RunError)                     # the CLI: "Error: ...", exit 1
    events = read_journal(run / "journal.jsonl")
    assert not [e for e in events if e["event"] == "failed"]
    cut = [e for e in events if e["event"] == "interrupted"]
    assert [e["trial_id"] for e in cut] == [0] and cut[0]["reason"].startswith("disk full")
    result = _tuner(run, resume=True).run()
    assert [t.status for t in result.trials] == ["completed"] * 3
    first = result.trials[0]
    assert [r["resource"] for r in first.results] == [1, 2, 3, 4]   # epoch 1 kept, not redone
