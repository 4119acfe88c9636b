"""The journal: append-only, fsync'ed JSON lines; torn tails; SIGKILL of a real tuner process."""
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from autopreset.journal import Journal, read_journal


def test_write_read_and_clean_values(tmp_path):
    path = tmp_path / "j.jsonl"
    with Journal(path) as j:
        j.write({"event": "reported", "result": {"metric": np.float32(0.5), "resource": np.int64(3), "x": math.nan}})
        j.write({"event": "tick", "when": Path("/a")})
    events = read_journal(path)
    assert events[0]["result"] == {"metric": 0.5, "resource": 3, "x": None}
    assert events[1]["when"] == "/a"


def test_torn_last_line_is_ignored_and_truncated_on_reopen(tmp_path):
    path = tmp_path / "j.jsonl"
    with Journal(path) as j:
        j.write({"event": "started", "trial_id": 0})
    with open(path, "ab") as f:
        f.write(b'{"event": "reported", "tri')   # killed mid-write
    assert read_journal(path) == [{"event": "started", "trial_id": 0}]
    with Journal(path) as j:
        j.write({"event": "completed", "trial_id": 0})
    assert [e["event"] for e in read_journal(path)] == ["started", "completed"]


def test_a_bad_line_in_the_middle_is_a_clear_error(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text('{"event": "a"}\nnot json\n{"event": "b"}\n')
    with pytest.raises(ValueError, match="line 2"):
        read_journal(path)


SCRIPT = textwrap.dedent('''
    import json, os, sys, time
    from pathlib import Path
    from autopreset.executors import InlineExecutor
    from autopreset.schedulers import SuccessiveHalving
    from autopreset.simulator import SyneTuneCurves
    from autopreset.tuner import Tuner

    class Slow(SyneTuneCurves):
        """0.02 s per unit; logs every unit it trains; checkpoints when it returns (the contract)."""
        def __call__(self, config, reporter):
            ckpt = reporter.checkpoint_dir / "ckpt.json"
            r = json.loads(ckpt.read_text())["r"] if ckpt.exists() else 0
            metrics, _ = self.curve(config)
            while r < reporter.target_resource:
                r += 1
                time.sleep(0.02)
                with open(reporter.checkpoint_dir / "units.txt", "a") as f:
                    f.write(f"{r}\\n")
                if not reporter.report(resource=r, metric=float(metrics[r - 1])):
                    break
            tmp = ckpt.with_suffix(".tmp")
            tmp.write_text(json.dumps({"r": r}))
            os.replace(tmp, ckpt)

    run_dir, resume = Path(sys.argv[1]), sys.argv[2] == "1"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / f"start{int(resume)}.txt").write_text(repr(time.time()))
    bench = Slow(max_resource=9)
    sched = SuccessiveHalving(space=bench.space, max_resource=9, n_configs=9, n_brackets=3, random_state=7)
    res = Tuner(bench, sched, executor=InlineExecutor(), run_dir=run_dir, resume=resume, budget_s=120).run()
    (run_dir / f"end{int(resume)}.txt").write_text(repr(time.time()))
    (run_dir / f"result{int(resume)}.json").write_text(json.dumps(res.to_json()))
''')


def _run(script, run_dir, resume):
    return subprocess.Popen([sys.executable, str(script), str(run_dir), "1" if resume else "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_sigkill_mid_run_then_resume_finishes_without_redoing_completed_work(tmp_path):
    script = tmp_path / "tune.py"
    script.write_text(SCRIPT)
    ref = _run(script, tmp_path / "ref", False)   # the uninterrupted run, side by side
    run = tmp_path / "run"
    proc = _run(script, run, False)
    journal = run / "journal.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline:   # kill once a trial has completed and another is mid-promotion
        events = read_journal(journal) if journal.exists() else []
        if any(e["event"] == "completed" for e in events) and events[-1]["event"] == "reported" \
                and events[-1]["result"]["resource"] > 4:
            break
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    t_kill = time.time()
    proc.wait()
    assert ref.wait(timeout=60) == 0, ref.stderr.read().decode()
    before = read_journal(journal)
    done_before = {e["trial_id"]: e["resource"] for e in before if e["event"] in ("completed", "paused")}
    assert any(e["event"] == "completed" for e in before)
    spent_at_kill = max(e["spent"] for e in before)
    run1 = t_kill - float((run / "start0.txt").read_text())
    assert run1 - 0.6 <= spent_at_kill <= run1

    time.sleep(1.0)   # downtime: must not count
    resumed = _run(script, run, True)
    assert resumed.wait(timeout=60) == 0, resumed.stderr.read().decode()
    run2 = float((run / "end1.txt").read_text()) - float((run / "start1.txt").read_text())

    result = json.loads((run / "result1.json").read_text())
    reference = json.loads((tmp_path / "ref" / "result0.json").read_text())
    strip = lambda r: [(t["config"], [(x["resource"], x["metric"]) for x in t["results"]], t["status"]) for t in r["trials"]]
    assert strip(result) == strip(reference)
    events = read_journal(journal)
    completed = [e["trial_id"] for e in events if e["event"] == "completed"]
    assert len(completed) == len(set(completed)) == 3   # no completed trial ran twice
    for t in result["trials"]:
        u = [int(x) for x in (Path(t["checkpoint_dir"]) / "units.txt").read_text().split()]
        done = [x for x in u if x <= done_before.get(t["trial_id"], 0)]
        assert len(done) == len(set(done)), f"trial {t['trial_id']} redid finished units: {u}"
        assert set(u) == set(range(1, t["results"][-1]["resource"] + 1))
    assert spent_at_kill < result["spent_s"] <= spent_at_kill + run2 + 0.05
    assert result["spent_s"] < run1 + run2 + 0.05   # the second of downtime is not counted
