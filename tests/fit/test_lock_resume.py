"""One fit per run folder; --resume on changed data, with a new budget, with --plan; SIGTERM.

The lock is an OS advisory lock (flock) on ``<run>/.fit.lock``: the tests hold it the way a fit
does, kill a holder to see it go, and run a real ``autopreset fit`` to see a second fit and a
``--resume`` refused while it runs. The resume tests start from one planned run (set-up and
plan, no search) and a journal that says how long its search ran; they stop after set-up.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import autopreset
from autopreset.errors import InputError
from autopreset.journal import Journal, read_journal
from autopreset.pipeline import Budget, FitOptions, FitRun

LOCK = ".fit.lock"
SPENT = 40.0                                   # the planned run's search, as its journal says


def _cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "autopreset", "fit", *map(str, args)],
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def _alive_in_group(pgid: int) -> list[int]:
    """Processes (zombies aside) left in a process group."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


def _wait(what, timeout: float, proc=None, step: float = 0.1):
    end = time.time() + timeout
    while time.time() < end and (proc is None or proc.poll() is None):
        if what():
            return True
        time.sleep(step)
    return what()


# --------------------------------------------------------------------------- one fit per folder
def test_a_fit_on_a_folder_in_use_is_refused_at_once_and_writes_nothing(tmp_path, tiny_data):
    run = tmp_path / "run"
    run.mkdir()
    fd = os.open(run / LOCK, os.O_RDWR | os.O_CREAT)           # held as a running fit holds it
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, json.dumps({"pid": 4242, "host": os.uname().nodename,
                             "started": "2026-01-01 12:00:00 UTC"}).encode())
    try:
        t0 = time.time()
        with pytest.raises(InputError, match=r"run is in use by another autopreset fit "
                                             r"\(pid 4242, started 2026-01-01 12:00:00 UTC\); "
                                             r"wait for it to end or pass another --out"):
            autopreset.fit(tmp_path / "no-such-data", out=run, progress=False)   # data not read
        assert time.time() - t0 < 5
        assert sorted(p.name for p in run.iterdir()) == [LOCK]
        (run / "run.json").write_text("{}")                     # a live run: --resume waits too
        with pytest.raises(InputError, match="in use by another autopreset fit"):
            autopreset.fit(tiny_data, out=run, resume=True, progress=False)
    finally:
        os.close(fd)
    with pytest.raises(InputError, match="already holds a run"):   # free now: the usual check
        autopreset.fit(tiny_data, out=run, progress=False)


HOLDER = """
import os, sys, time
from autopreset.pipeline import Budget, FitOptions, FitRun
run = FitRun(FitOptions(data=sys.argv[1], out=sys.argv[2], workers=2, resolution=16,
                        progress=False), Budget(60, counts_setup=False))
run.setup()                         # locks the folder, starts two spawned workers
if os.fork() == 0:                  # and a forked child that outlives this process
    time.sleep(60)
    os._exit(0)
print("ready", os.getpid(), flush=True)
time.sleep(60)
"""


@pytest.mark.slow
def test_a_killed_fit_leaves_no_lock_behind_whatever_its_children_do(tmp_path, tiny_data):
    """SIGKILL to the fit alone (its spawned workers and a forked child live on): the kernel
    drops the lock with the process, since no child holds the lock's file descriptor."""
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tiny_data), str(run)],
                            start_new_session=True, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().split()[0] == "ready"
        with pytest.raises(InputError, match=f"in use by another autopreset fit \\(pid {proc.pid}"):
            autopreset.fit(tmp_path / "no-such-data", out=run, progress=False)
        children = [p for p in _alive_in_group(proc.pid) if p != proc.pid]
        assert len(children) >= 2                    # (the forked child and the spawned workers)
        proc.kill()
        proc.wait()
        assert _alive_in_group(proc.pid)             # the forked child still runs
        with pytest.raises(InputError, match="does not exist"):     # past the lock at once
            autopreset.fit(tmp_path / "no-such-data", out=run, progress=False)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


# ------------------------------------------------------------------------------------ --resume
def _options(data, preset, out, **kw):
    kw = {"progress": True, **kw}
    return FitOptions(data=str(data), prefer="accuracy", out=str(out), preset=str(preset),
                      resolution=16, **kw)


@pytest.fixture(scope="module")
def planned_run(tmp_path_factory, tiny_data, tiny_preset_file):
    """A run folder after set-up and plan (run.json), with a journal of SPENT seconds."""
    base = tmp_path_factory.mktemp("planned") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("AUTOPRESET_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        run = FitRun(_options(tiny_data, tiny_preset_file, base, progress=False),
                     Budget(60, counts_setup=False))
        try:
            run.setup()
            run.plan()
        finally:
            run.close()
    with Journal(base / "journal.jsonl") as j:
        j.write({"event": "run_started", "t": time.time(), "spent": 0.0, "budget_s": 50.0})
        j.write({"event": "tick", "t": time.time(), "spent": SPENT})
    return base


@pytest.fixture
def run_copy(planned_run, tmp_path):
    shutil.copytree(planned_run, tmp_path / "run")
    return tmp_path / "run"


@pytest.mark.slow
def test_resume_plan_prints_the_runs_plan(run_copy, tiny_data, tiny_preset_file, capsys):
    kw = dict(out=run_copy, preset=tiny_preset_file, progress=False)
    assert autopreset.fit(tiny_data, resume=True, plan_only=True, **kw) is None
    out = capsys.readouterr().out
    assert "portfolio" in out and "R=" in out
    assert f"{SPENT:.0f}s of the run's 60s budget spent; --resume continues it" in out
    autopreset.fit(tiny_data, resume=True, plan_only=True, budget="5m", **kw)
    assert "(with --budget 300s, " in capsys.readouterr().out


@pytest.mark.slow
def test_resume_with_a_budget_sets_the_runs_new_total(run_copy, tiny_data, tiny_preset_file,
                                                      capsys):
    run = FitRun(_options(tiny_data, tiny_preset_file, run_copy, resume=True),
                 Budget(300, counts_setup=False))
    try:
        run.setup()
    finally:
        run.close()
    err = capsys.readouterr().err
    assert f"--resume: budget raised from 60s to 300s ({SPENT:.0f}s spent, " in err
    assert run.budget.total_s == 300 and run.budget.left() == pytest.approx(300 - SPENT)
    assert json.loads((run_copy / "run.json").read_text())["budget_s"] == 300   # the next resume's

    again = FitRun(_options(tiny_data, tiny_preset_file, run_copy, resume=True, seed=5))
    try:
        again.setup()                  # no --budget: the run's (now 300s), the time spent counted
    finally:
        again.close()
    err = capsys.readouterr().err
    assert "budget raised" not in err and "--resume keeps the run's seed 0 (given 5)" in err
    assert again.budget.total_s == 300 and again.budget.left() < 300 - SPENT

    with pytest.raises(InputError, match=f"already spent {SPENT:.0f}s"):
        FitRun(_options(tiny_data, tiny_preset_file, run_copy, resume=True),
               Budget(SPENT + 1, counts_setup=False)).run()


def test_a_resumed_budget_counts_the_runs_spent_time_even_when_set_up_does_not_count():
    t = [100.0]
    b = Budget(300, counts_setup=False, clock=lambda: t[0])
    b.charge(12.0)                       # a resumed run's set-up: not counted here
    b.charge(SPENT, setup=False)         # its search: counted
    t[0] += 30                           # this set-up
    assert b.left() == 300 - SPENT
    b.setup_done()
    t[0] += 10
    assert b.left() == 300 - SPENT - 10 and b.deadline == 100 + 30 + 300 - SPENT


@pytest.fixture
def changed_data(tiny_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tiny_data, data)
    return data


@pytest.mark.slow
def test_resume_on_changed_data_is_refused_saying_what_changed(run_copy, changed_data,
                                                               tiny_preset_file):
    before = (run_copy / "run.json").read_bytes()
    for i in (1, 2):                                              # two images added
        shutil.copy(changed_data / "ne" / "000.png", changed_data / "center" / f"new{i}.png")
    with pytest.raises(InputError, match=r"data changed since the run in .* started: 72 -> 74 "
                                         r"images \(center 24 -> 26\); fingerprint \w{12} -> \w{12}"
                                         r"; --on-data-change restart"):
        autopreset.fit(changed_data, out=run_copy, resume=True, preset=tiny_preset_file,
                       progress=False)
    for i in (1, 2):
        (changed_data / "center" / f"new{i}.png").unlink()
    img = changed_data / "sw" / "003.png"                         # one image edited
    img.write_bytes((changed_data / "ne" / "003.png").read_bytes())
    with pytest.raises(InputError, match="72 images as before, some of them edited"):
        autopreset.fit(changed_data, out=run_copy, resume=True, preset=tiny_preset_file,
                       progress=False)
    assert (run_copy / "run.json").read_bytes() == before and (run_copy / "journal.jsonl").exists()


@pytest.mark.slow
def test_resume_on_changed_data_can_restart_the_search_in_that_folder(run_copy, changed_data,
                                                                      tiny_preset_file, capsys):
    (changed_data / "ne" / "000.png").unlink()
    run = FitRun(_options(changed_data, tiny_preset_file, run_copy, resume=True,
                          on_data_change="restart"))
    try:
        run.setup()
        assert not run.resumed and run.state is None and not run.options.resume
        assert not (run_copy / "journal.jsonl").exists() and not (run_copy / "run.json").exists()
        assert run.budget.total_s == 600 and len(run.data.dataset) == 71
    finally:
        run.close()
    err = capsys.readouterr().err
    assert ("--on-data-change restart: the data changed since the run started (72 -> 71 images"
            in err)
    assert "is discarded and the search starts afresh" in err


# -------------------------------------------------------------------------------------- SIGTERM
@pytest.mark.slow
def test_sigterm_stops_a_fit_like_ctrl_c_and_exits_143(tiny_data, tiny_preset_file, tmp_path):
    """SIGTERM to the command (as ``kill PID`` sends it): the search stops at its next safe
    point, the journal records the interruption, no process is left, the command exits 143
    saying how to resume. Meanwhile a second fit and a --resume on its folder are refused."""
    run = tmp_path / "run"
    proc = _cli(tiny_data, "--budget", "60", "--prefer", "accuracy", "--preset",
                tiny_preset_file, "--out", run, "--quiet")
    journal = run / "journal.jsonl"
    try:
        reported = lambda: journal.exists() and any(
            e["event"] == "reported" for e in read_journal(journal))
        assert _wait(reported, 120, proc), proc.communicate()[1]
        for extra in ([], ["--resume"]):
            t0 = time.time()
            other = subprocess.run([sys.executable, "-m", "autopreset", "fit", str(tiny_data),
                                    "--out", str(run), *extra], capture_output=True, text=True)
            assert time.time() - t0 < 10                        # (start-up on a loaded machine)
            assert other.returncode == 2
            assert f"is in use by another autopreset fit (pid {proc.pid}," in other.stderr
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 143, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("interrupted by SIGTERM: ")
    assert last.endswith("--resume' continues this run")
    assert _wait(lambda: not _alive_in_group(proc.pid), 10)     # the workers stopped too
    events = read_journal(journal)
    assert events[-1]["event"] == "run_ended" and events[-1]["interrupted"] == "SIGTERM"
    assert all(e.get("signal") == "SIGTERM" for e in events if e["event"] == "interrupted")
    assert not any("deadline" in str(e.get("reason", "")) for e in events)


@pytest.mark.slow
def test_sigterm_during_set_up_exits_143_and_leaves_nothing(tiny_data, tiny_preset_file, tmp_path):
    run = tmp_path / "run"
    proc = _cli(tiny_data, "--budget", "60", "--preset", tiny_preset_file, "--out", run)
    try:
        assert _wait(lambda: (run / LOCK).exists(), 60, proc, step=0.02)   # set-up has begun
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == ("interrupted by SIGTERM before the run started: "
                                            "nothing to resume")
    assert not run.exists()
    assert _wait(lambda: not _alive_in_group(proc.pid), 10)
