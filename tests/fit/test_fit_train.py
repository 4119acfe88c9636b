"""fit with real training on a tiny generated folder (test-sized backbones, 16 px, seconds of
budget): end to end, a SIGKILL then --resume, two local workers, and a local Dask cluster.

The budgets do not count set-up (``Budget(s, counts_setup=False)``): on a loaded machine
scanning, measuring and starting workers take longer, and the search still gets its seconds.
The checks on time are on the run's own record: from the search's start (the journal's
``run_started``) to the model, within the budget.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import autopreset
from autopreset.journal import read_journal
from autopreset.pipeline import Budget

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent


def fit_kwargs(data, preset, out, **kw):
    return dict(data=str(data), budget=Budget(kw.pop("budget", 30), counts_setup=False),
                prefer="accuracy", out=out and str(out), preset=str(preset), resolution=16,
                progress=False, **kw)


def check_run(run: Path, budget: float):
    started = [e for e in read_journal(run / "journal.jsonl") if e["event"] == "run_started"][0]
    took = (run / "model" / "model.json").stat().st_mtime - started["t"]
    assert took <= max(1.02 * budget, budget + 10)
    card = json.loads((run / "model" / "model.json").read_text())
    assert card["backbone"] in ("test_resnet", "test_efficientnet")   # test_convnext cannot run at 16 px
    assert card["latency_ms"]["p50"] > 0 and card["input_size"] == 16
    assert card["data_fingerprint"] and card["versions"]["torch"]
    assert (run / "leaderboard.csv").is_file() and (run / "preset.json").is_file()
    from autopreset.portfolio import load_preset

    assert load_preset(str(run / "preset.json")).portfolio      # fit --preset accepts the card
    # only the chosen trial keeps its weights; every trial keeps its record
    assert {p.parent.name for p in (run / "trials").glob("*/*.safetensors")} == {
        f"trial_{card['metrics']['trial_id']:05d}"}
    assert len(list((run / "trials").glob("*/checkpoint.json"))) > 1
    return card


def test_fit_end_to_end_then_predict(tiny_data, tiny_preset_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                       # default run folder: runs/<stamp>, runs/latest
    kw = fit_kwargs(tiny_data, tiny_preset_file, None, budget=30)
    kw.pop("out")
    predictor = autopreset.fit(kw.pop("data"), **kw)
    latest = tmp_path / "runs" / "latest"
    assert latest.is_symlink() and latest.resolve() == predictor.run_dir.resolve()
    card = check_run(latest, 30)
    assert predictor.model_dir == predictor.run_dir / "model"
    assert predictor.leaderboard and predictor.card.backbone == card["backbone"]
    loaded = autopreset.load(latest / "model")
    result = loaded.evaluate(tiny_data)
    assert result["n_images"] == 72
    assert result["accuracy"] > 0.5                   # three classes: chance is 1/3
    assert card["metrics"]["val_accuracy"] > 0.34
    assert card["metrics"]["kept_epoch"] in ("best", "last")


def test_plan_only_prints_the_plan_and_writes_nothing(tiny_data, tiny_preset_file, tmp_path, capsys):
    kw = fit_kwargs(tiny_data, tiny_preset_file, tmp_path / "run", budget=600)
    assert autopreset.fit(kw.pop("data"), plan_only=True, **kw) is None
    out = capsys.readouterr().out
    assert "portfolio" in out and "R=" in out and "finish" in out
    assert not (tmp_path / "run").exists()


def test_sigkill_then_resume_redoes_no_finished_trial(tiny_data, tiny_preset_file, tmp_path):
    run = tmp_path / "run"
    kw = fit_kwargs(tiny_data, tiny_preset_file, run, budget=60)
    kw["budget"] = {"seconds": 60, "counts_setup": False}     # JSON for the subprocess
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, str(HERE / "fit_runner.py"), json.dumps(kw)], env=env,
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    journal = run / "journal.jsonl"
    deadline = time.time() + 50
    while time.time() < deadline:
        events = read_journal(journal) if journal.exists() else []
        if sum(e["event"] in ("paused", "completed") for e in events) >= 2:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = read_journal(journal)
    finished = {e["trial_id"] for e in before if e["event"] in ("paused", "completed")}
    assert finished, "no trial finished before the kill"
    assert not (run / "model").exists()
    kw["budget"] = Budget(60, counts_setup=False)
    predictor = autopreset.fit(kw.pop("data"), resume=True, **kw)
    after = read_journal(journal)[len(before):]
    assert not [e for e in after if e["event"] == "started" and e["trial_id"] in finished]
    reported = [(e["trial_id"], e["result"]["resource"]) for e in before + after
                if e["event"] == "reported"]
    assert len(reported) == len(set(reported))       # no epoch recorded twice
    assert predictor.model_dir.is_dir()
    assert any(e["event"] == "run_started" and e.get("resumed") for e in after)


def test_ctrl_c_ends_the_command_with_130_and_resume_finishes_it(tiny_data, tiny_preset_file,
                                                                tmp_path):
    """SIGINT to the command's process group, as a terminal sends it: the journal records the
    interruption, the command exits 130 saying how to resume, and --resume finishes the run."""
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "autopreset", "fit", str(tiny_data), "--budget", "60",
           "--prefer", "accuracy", "--preset", str(tiny_preset_file), "--out", str(run), "--quiet"]
    # SIGINT as a terminal's foreground job has it (a background test run inherits it ignored)
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    journal = run / "journal.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        events = read_journal(journal) if journal.exists() else []
        if any(e["event"] in ("paused", "completed") for e in events):
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "--resume" in err.strip().splitlines()[-1]
    ended = [e for e in read_journal(journal) if e["event"] == "run_ended"]
    assert ended and ended[-1].get("interrupted") == "SIGINT"
    assert not (run / "model").exists()
    kw = fit_kwargs(tiny_data, tiny_preset_file, run, budget=60)
    predictor = autopreset.fit(kw.pop("data"), resume=True, **kw)     # keeps the run's 32 px
    assert predictor.model_dir.is_dir() and predictor.card.input_size == 32


def test_fit_with_two_local_workers(tiny_data, tiny_preset_file, tmp_path):
    kw = fit_kwargs(tiny_data, tiny_preset_file, tmp_path / "run", budget=30, workers=2)
    autopreset.fit(kw.pop("data"), **kw)
    check_run(tmp_path / "run", 30)
    events = read_journal(tmp_path / "run" / "journal.jsonl")
    assert [e for e in events if e["event"] == "run_started"][0]["n_workers"] == 2


def test_fit_on_a_local_dask_cluster(tiny_data, tiny_preset_file, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        kw = fit_kwargs(tiny_data, tiny_preset_file, tmp_path / "run", budget=30,
                        dask=cluster.scheduler_address)
        autopreset.fit(kw.pop("data"), **kw)
        check_run(tmp_path / "run", 30)
    events = read_journal(tmp_path / "run" / "journal.jsonl")
    assert [e for e in events if e["event"] == "run_started"][0]["n_workers"] == 2


def test_refit_on_train_and_validation_when_planned(tiny_data, tiny_preset_file, tmp_path, monkeypatch):
    from autopreset.pipeline import _plan

    monkeypatch.setattr(_plan, "REFIT_MIN_BUDGET_S", 1.0)
    monkeypatch.setattr(_plan, "REFIT_MAX_SHARE", 0.6)
    kw = fit_kwargs(tiny_data, tiny_preset_file, tmp_path / "run", budget=30)
    predictor = autopreset.fit(kw.pop("data"), **kw)
    card = check_run(tmp_path / "run", 30)
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["plan"]["refit_s"] > 0
    if card["metrics"]["refit"]:                       # it ran to the end within its time
        refit = read_journal(tmp_path / "run" / "refit" / "journal.jsonl")
        done = [e for e in refit if e["event"] == "completed"]
        assert done and done[0]["resource"] == run["plan"]["max_resource"]
        assert card["metrics"]["val_accuracy_search"] == card["metrics"]["val_accuracy"]
    assert predictor.model_dir.is_dir()
