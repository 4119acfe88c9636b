"""Reliability as figures: faults injected and survived, hostile inputs rejected, failed trials
contained, each case backed by the test (or benchmark) that checks it.

    .venv/bin/python benchmarks/reliability.py          # -> results/reliability.json and .md

Every case below is run now (pytest on the named test, one process per group, results read from
its JUnit XML), except the hostile-file cases, which are read from
results/hostile_files.md (rerun them with ``benchmarks/hostile_files.py``). A case counts as
survived when its test passes. Run on a quiet machine: the tests train tiny models.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

FAULTS = [
    ("kill at each of the 10 named points (set-up, latency measurement, a trial's epoch, a "
     "checkpoint write, a journal append, a promotion, the phase switch, the refit, the model "
     "save, the report), resume after each until the run completes",
     "tests/fit/test_faults.py::test_a_run_killed_at_every_fault_point_resumes_to_a_loadable_model"),
    ("SIGKILL of the trainer after epoch 3, before its checkpoint: resumes at epoch 2",
     "tests/training/test_trainer.py::test_a_trial_killed_mid_run_resumes_at_its_last_finished_epoch"),
    ("SIGKILL of the whole fit after two trials ended, then --resume: no finished trial redone",
     "tests/fit/test_fit_train.py::test_sigkill_then_resume_redoes_no_finished_trial"),
    ("Ctrl-C (SIGINT) to the command's process group: exit 130, journal, --resume finishes",
     "tests/fit/test_fit_train.py::test_ctrl_c_ends_the_command_with_130_and_resume_finishes_it"),
    ("SIGTERM during the search: stops like Ctrl-C, exit 143, workers gone",
     "tests/fit/test_lock_resume.py::test_sigterm_stops_a_fit_like_ctrl_c_and_exits_143"),
    ("SIGTERM during set-up: exit 143, nothing left behind",
     "tests/fit/test_lock_resume.py::test_sigterm_during_set_up_exits_143_and_leaves_nothing"),
    ("a second fit (and a --resume) on a folder in use: refused at once, nothing written",
     "tests/fit/test_lock_resume.py::test_a_fit_on_a_folder_in_use_is_refused_at_once_and_writes_nothing"),
    ("a killed fit (with forked and spawned children) leaves no stuck lock",
     "tests/fit/test_lock_resume.py::test_a_killed_fit_leaves_no_lock_behind_whatever_its_children_do"),
    ("--resume on data with files added or edited: refused, saying what changed",
     "tests/fit/test_lock_resume.py::test_resume_on_changed_data_is_refused_saying_what_changed"),
    ("--resume --on-data-change restart: the search starts afresh in that folder",
     "tests/fit/test_lock_resume.py::test_resume_on_changed_data_can_restart_the_search_in_that_folder"),
    ("--resume --budget: the run's new total (the time spent still counts)",
     "tests/fit/test_lock_resume.py::test_resume_with_a_budget_sets_the_runs_new_total"),
    ("--resume --plan prints the run's plan (was a TypeError)",
     "tests/fit/test_lock_resume.py::test_resume_plan_prints_the_runs_plan"),
    ("a full disk while a trial writes: the run stops with DiskFull, the trial is interrupted "
     "(not failed), --resume continues it once space is freed",
     "tests/test_tuner_disk_full.py::test_a_full_disk_stops_the_run_and_resume_continues_the_trial"),
    ("a Dask worker (its own process, on a loopback cluster) SIGKILLed mid-run: the run completes",
     "tests/fit/test_fit_dask_cluster.py::test_fit_on_a_loopback_cluster_survives_a_worker_killed_mid_run"),
]
CONTAINED = [
    ("NaN training loss: the trial fails at once with its reason",
     "tests/training/test_trainer.py::test_nan_loss_fails_the_trial_at_once"),
    ("out of memory at every size: the config fails with a reason naming batch and size",
     "tests/training/test_trainer.py::test_out_of_memory_is_a_failed_config"),
    ("a batch that does not fit: split into micro-batches, the trial goes on",
     "tests/training/test_trainer.py::test_a_batch_that_does_not_fit_is_split_into_micro_batches_not_lost"),
    ("a local worker process killed: only its trial fails, with the reason",
     "tests/executors/test_executors.py::test_local_worker_killed_fails_only_its_trial"),
    ("a model no better than the majority class: fit warns",
     "tests/fit/test_pick_best.py::test_a_model_no_better_than_the_majority_class_gets_a_warning"),
]


def run_tests(ids: list[str]) -> dict[str, dict]:
    """pytest on ``ids`` in one process; {id: {"outcome", "seconds", "message"}}."""
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "junit.xml"
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        f"--junitxml={xml}", *ids], cwd=ROOT, capture_output=True, text=True)
        root = ET.parse(xml).getroot()
    out = {}
    for case in root.iter("testcase"):
        file = case.get("classname", "").replace(".", "/") + ".py"
        key = f"{file}::{case.get('name')}"
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        skipped = case.find("skipped")
        outcome = "failed" if bad is not None else ("skipped" if skipped is not None else "passed")
        out[key] = {"outcome": outcome, "seconds": round(float(case.get("time", 0)), 1),
                    "message": (bad.get("message", "") if bad is not None else "")[:300]}
    return out


def hostile() -> dict:
    path = RESULTS / "hostile_files.md"
    text = path.read_text() if path.exists() else ""
    m = re.search(r"(\d+) cases, (\d+) as expected", text)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "outcome" not in line
            and not line.startswith("|---")]
    rejected = sum("rejected cleanly" in r for r in rows)
    accepted = sum("accepted (legitimate)" in r for r in rows)
    return {"cases": int(m.group(1)) if m else len(rows), "as_expected": int(m.group(2)) if m else None,
            "hostile_rejected_cleanly": rejected, "legitimate_accepted": accepted,
            "source": "benchmarks/results/hostile_files.md (benchmarks/hostile_files.py)"}


def main() -> None:
    from autopreset.backbones import cpu_model

    t0 = time.time()
    results = run_tests([t for _, t in FAULTS + CONTAINED])
    def table(cases):
        return [{"case": c, "test": t, **results.get(t, {"outcome": "not run", "seconds": 0,
                                                          "message": ""})} for c, t in cases]
    faults, contained = table(FAULTS), table(CONTAINED)
    doc = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
           "command": "benchmarks/reliability.py", "python": platform.python_version(),
           "machine": {"cpu": cpu_model(), "cores": os.cpu_count()},
           "wall_s": round(time.time() - t0, 1),
           "faults": {"injected": len(faults), "survived": sum(r["outcome"] == "passed" for r in faults),
                      "cases": faults},
           "failed_trials": {"tried": len(contained),
                             "contained": sum(r["outcome"] == "passed" for r in contained),
                             "cases": contained},
           "hostile_inputs": hostile()}
    h = doc["hostile_inputs"]
    lines = ["# Reliability: faults, hostile inputs, failed trials", "",
             f"{doc['date']}; {doc['machine']['cpu']}, {doc['machine']['cores']} cores; "
             f"`{doc['command']}` ({doc['wall_s']:.0f} s). Each case is the test named beside it, "
             "run now; survived = the test passed.", "",
             f"- faults injected / survived: **{doc['faults']['survived']} / {doc['faults']['injected']}** "
             "(the first row alone kills one fit at 10 points in turn)",
             f"- hostile inputs tried / handled as expected: **{h['as_expected']} / {h['cases']}** "
             f"({h['hostile_rejected_cleanly']} rejected with a one-line error and no code run, "
             f"{h['legitimate_accepted']} legitimate controls accepted; {h['source']})",
             f"- failed trials tried / contained: **{doc['failed_trials']['contained']} / "
             f"{doc['failed_trials']['tried']}**", ""]
    for title, rows in (("Faults", faults), ("Failed trials", contained)):
        lines += [f"## {title}", "", "| case | outcome | s | test |", "|---|---|---|---|"]
        lines += [f"| {r['case']} | {r['outcome']} | {r['seconds']:g} | `{r['test']}` |" for r in rows]
        lines.append("")
    out = RESULTS / "reliability"
    out.with_suffix(".json").write_text(json.dumps(doc, indent=1) + "\n")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
