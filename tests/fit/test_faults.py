"""Kill and resume at every named fault point (autopreset._faults) until the run completes.

One fit on the tiny folder is killed (SIGKILL, from the environment switch) at each point in
turn, in the order a run reaches them, and resumed after each kill: set-up, latency measurement,
a trial's epoch, a checkpoint write, a journal append, a promotion, the phase switch, the refit,
the model save and the report. Then: every point fired, finished trials were never started
again, no epoch was recorded twice, downtime was not billed, no temporary file is left, and the
saved model loads and predicts."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autopreset._faults import POINTS
from autopreset.journal import read_journal

HERE = Path(__file__).parent
BUDGET_S = 40


def _run(kw: dict, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(HERE / "fault_runner.py"), json.dumps(kw)], env=env,
                          start_new_session=True, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_run_killed_at_every_fault_point_resumes_to_a_loadable_model(tiny_data, tiny_preset_file,
                                                                       tmp_path):
    run = tmp_path / "run"
    kw = dict(data=str(tiny_data), budget={"seconds": BUDGET_S, "counts_setup": False},
              prefer="accuracy", out=str(run), preset=str(tiny_preset_file), resolution=16,
              progress=False)
    base = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(HERE.parents[1]),
                                                                      os.environ.get("PYTHONPATH")])))
    fired, started_wall = [], time.time()
    for i, point in enumerate(POINTS):
        state = tmp_path / f"fault-{point}"
        # the journal's 3rd append (a trial's event, not the run's start); the others' first hit
        spec = f"{point}:3" if point == "journal" else point
        env = dict(base, AUTOPRESET_FAULT=spec, AUTOPRESET_FAULT_STATE=str(state))
        proc = _run(dict(kw, resume=(run / "run.json").exists()), env)
        assert proc.returncode in (-9, 0), (point, proc.stderr[-2000:])
        assert proc.returncode == -9, f"the run completed before reaching {point} (fired: {fired})"
        fired.append(point)
    final = _run(dict(kw, resume=True), base)
    assert final.returncode == 0, final.stderr[-2000:]

    events = read_journal(run / "journal.jsonl")
    done: set[int] = set()
    for e in events:
        if e["event"] == "started":
            assert e["trial_id"] not in done, f"finished trial {e['trial_id']} started again"
        if e["event"] in ("completed", "paused", "stopped"):
            done.add(e["trial_id"])
    reported = [(e["trial_id"], e["result"]["resource"]) for e in events if e["event"] == "reported"]
    assert len(reported) == len(set(reported)), "an epoch was recorded twice"
    assert sum(e["event"] == "run_started" for e in events) >= len(POINTS) - 1
    spent = max(float(e.get("spent") or 0.0) for e in events)
    assert spent <= BUDGET_S * 1.1 + 5 < time.time() - started_wall     # downtime was not billed
    leftovers = [p for p in run.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".model.")]
    assert not leftovers, leftovers

    import autopreset

    predictor = autopreset.load(run / "model")
    image = next(p for p in Path(tiny_data).rglob("*.png"))
    rows, skipped = predictor.predict_paths([image])
    assert not skipped and rows[0]["labels"][0] in {"ne", "sw", "center"}
