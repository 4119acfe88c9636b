"""The input size fit chooses on colour photographs, against the same fit forced to 32 px.

    .venv/bin/python benchmarks/photos.py                    # ~50 minutes: 3 seeds x 15m, 2 cores
    .venv/bin/python benchmarks/photos.py --budget 90s --seeds 0 --out-name photos_smoke

The task: :mod:`make_photo_folder` (12 photographs of the Debian package ``mate-backgrounds``,
one class each, 160 px crops with photometric jitter, train and test cut from different
regions of each photo), made in the work folder unless ``--data`` names one (a folder holding
``train/`` and ``test/``).

For every seed two arms run side by side, at the same time, each pinned to a core of its own
(``taskset -c``, one worker, one torch thread), so that both see the same machine:

- ``auto``: ``autopreset fit DATA/train --budget B --seed S`` (the input size the fit
  chooses from the images and the budget), and
- ``32px``: the same with ``--resolution 32``.

Which arm gets the first core alternates from seed to seed. Each run's model is then scored
with ``autopreset evaluate MODEL DATA/test --format json``. The chosen size comes from the
run's ``run.json`` (``resolution``, and the plan's resolution note), the validation accuracy
from ``model/model.json``. Nothing selects on the test folder: it is only reported.

Results: benchmarks/results/<out-name>.json and .md (every run; per seed; medians per arm; the
gain and the ratio auto / 32px in test accuracy; the machine and its load averages at the start
and the end: nothing else on the machine is paused).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
ARMS = {"auto": [], "32px": ["--resolution", "32"]}
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def machine() -> dict:
    import timm
    import torch

    from autopreset.backbones import cpu_model

    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--",
                                "autopreset"], capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "unknown", ""
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "torch_threads": 1,
            "python": platform.python_version(), "torch": torch.__version__,
            "timm": timm.__version__, "date": time.strftime("%Y-%m-%d"), "commit": commit,
            "autopreset_edited": bool(dirty)}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def autopreset_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("autopreset")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "autopreset"]


def two_cores() -> list[int]:
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        sys.exit(f"Error: the two arms need two cores; this process may use {len(cores)}")
    if shutil.which("taskset") is None:
        sys.exit("Error: taskset not found (util-linux)")
    return cores[:2]


# ---- data --------------------------------------------------------------------------------
def data_folder(given: str | None, work: Path) -> tuple[Path, dict]:
    """The folder with train/ and test/, and its photos.json summary ({} when it has none)."""
    if given:
        folder = Path(given).resolve()
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from make_photo_folder import make

        folder = work / "data"
        if not (folder / "photos.json").exists():
            print("making the photo folder ...", flush=True)
            make(folder)
    for sub in ("train", "test"):
        if not (folder / sub).is_dir():
            sys.exit(f"Error: {folder / sub} is not a folder (--data needs train/ and test/)")
    summary = folder / "photos.json"
    return folder, json.loads(summary.read_text()) if summary.exists() else {}


# ---- runs --------------------------------------------------------------------------------
def fit_pair(train: Path, work: Path, budget: str, seed: int, cores: dict[str, int]) -> dict:
    """Both arms' fits at once, each on its core; {arm: (rc, wall seconds, log path)}."""
    env = {**os.environ, **ONE_THREAD, "AUTOPRESET_OFFLINE": "1"}
    procs = {}
    for arm, extra in ARMS.items():
        run = work / f"{arm}-{seed}"
        log = work / f"{arm}-{seed}.log"
        cmd = (["taskset", "-c", str(cores[arm])] + autopreset_cmd()
               + ["fit", str(train), "--budget", budget, "--seed", str(seed), "--out", str(run),
                  "--workers", "1", "--device", "cpu", "-q"] + extra)
        fh = open(log, "w")
        fh.write(" ".join(cmd) + "\n")
        fh.flush()
        procs[arm] = (subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env),
                      time.time(), fh, log)
    out = {}
    for arm, (proc, t0, fh, log) in procs.items():
        rc = proc.wait()
        out[arm] = (rc, time.time() - t0, log)
        fh.close()
    return out


def evaluate_pair(test: Path, work: Path, seed: int, cores: dict[str, int]) -> dict:
    """``autopreset evaluate --format json`` of both arms' models at once; {arm: result}."""
    env = {**os.environ, **ONE_THREAD, "AUTOPRESET_OFFLINE": "1"}
    procs = {}
    for arm in ARMS:
        model = work / f"{arm}-{seed}" / "model"
        if not (model / "model.json").exists():
            continue
        cmd = (["taskset", "-c", str(cores[arm])] + autopreset_cmd()
               + ["evaluate", str(model), str(test), "--format", "json", "-q"])
        procs[arm] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, env=env)
    out = {}
    for arm, proc in procs.items():
        stdout, stderr = proc.communicate()
        if proc.returncode != 0:
            out[arm] = {"error": (stderr.strip().splitlines() or [f"rc {proc.returncode}"])[-1]}
            continue
        result = json.loads(stdout)
        out[arm] = {"accuracy": result["accuracy"], "n_images": result["n_images"],
                    "macro_f1": result.get("macro_avg", {}).get("f1")}
    return out


def read_run(run: Path) -> dict:
    """What the run chose and scored: run.json's resolution and plan, model.json's metrics."""
    info: dict = {}
    try:
        doc = json.loads((run / "run.json").read_text())
    except (OSError, ValueError):
        return info
    plan = doc.get("plan", {})
    info["resolution"] = doc.get("resolution")
    info["budget_s"] = doc.get("budget_s")
    info["setup_s"] = round(float(doc.get("setup_s", 0.0)), 1)
    info["plan"] = {k: plan.get(k) for k in ("search_s", "max_resource", "eta", "n_workers",
                                              "crop_scale", "flip") if k in plan}
    info["plan"]["portfolio_configs"] = len(plan.get("portfolio", []))
    info["plan"].update({k: v for k, v in plan.items() if "resolution" in k})
    info["resolution_note"] = next((n for n in plan.get("notes", [])
                                    if str(n).startswith("resolution")), None)
    try:
        card = json.loads((run / "model" / "model.json").read_text())
        metrics = card.get("metrics", {})
        info.update(backbone=card.get("backbone"), input_size=card.get("input_size"),
                    val_accuracy=metrics.get("val_accuracy"), trials=metrics.get("trials"))
    except (OSError, ValueError):
        pass
    try:
        with open(run / "leaderboard.csv", newline="") as fh:
            info["leaderboard_rows"] = sum(1 for _ in csv.DictReader(fh))
    except OSError:
        pass
    return info


def run_seed(data: Path, work: Path, budget: str, seed: int, k: int, cores: list[int]) -> list:
    placed = dict(zip(ARMS, cores if k % 2 == 0 else cores[::-1]))
    print(f"seed {seed}: " + ", ".join(f"{a} on core {c}" for a, c in placed.items())
          + f" (load {load()})", flush=True)
    fits = fit_pair(data / "train", work, budget, seed, placed)
    tests = evaluate_pair(data / "test", work, seed, placed)
    rows = []
    for arm in ARMS:
        rc, wall, log = fits[arm]
        row = {"arm": arm, "seed": seed, "core": placed[arm], "rc": rc,
               "wall_s": round(wall, 1), **read_run(work / f"{arm}-{seed}")}
        test = tests.get(arm, {})
        row["test_accuracy"] = test.get("accuracy")
        row["test_images"] = test.get("n_images")
        if rc != 0 or "error" in test:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            row["error"] = test.get("error") or " / ".join(tail)
        rows.append(row)
        acc = row["test_accuracy"]
        print(f"  {arm:<5} {row.get('resolution')} px, {row.get('backbone')}, val "
              f"{_f(row.get('val_accuracy'))}, test {_f(acc)}, {row['wall_s']:.0f}s"
              + (f"  ERROR {row['error']}" if "error" in row else ""), flush=True)
    return rows


def _f(x, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


# ---- report ------------------------------------------------------------------------------
def summarize(runs: list[dict]) -> dict:
    out = {}
    for arm in ARMS:
        rows = [r for r in runs if r["arm"] == arm and r.get("test_accuracy") is not None]
        vals = [r["val_accuracy"] for r in rows if r.get("val_accuracy") is not None]
        tests = [r["test_accuracy"] for r in rows]
        out[arm] = {"runs": len(rows),
                    "test_median": statistics.median(tests) if tests else None,
                    "val_median": statistics.median(vals) if vals else None,
                    "resolutions": [r.get("resolution") for r in rows]}
    a, b = out["auto"]["test_median"], out["32px"]["test_median"]
    pairs = [(x, y) for x in runs if x["arm"] == "auto" for y in runs
             if y["arm"] == "32px" and y["seed"] == x["seed"]
             and x.get("test_accuracy") is not None and y.get("test_accuracy") is not None]
    out["gain"] = None if a is None or b is None else round(a - b, 4)
    out["ratio"] = None if a is None or not b else round(a / b, 3)
    out["auto_wins"] = sum(x["test_accuracy"] > y["test_accuracy"] for x, y in pairs)
    out["pairs"] = len(pairs)
    out["auto_above_32"] = all((r.get("resolution") or 0) > 32 for r in runs if r["arm"] == "auto")
    return out


def write_results(doc: dict, name: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n")
    m, s, d = doc["machine"], doc["summary"], doc["data"]
    edited = (" (autopreset/ had uncommitted edits)" if m.get("autopreset_edited") else "")
    lines = ["# fit's input size on colour photographs, against --resolution 32 (issue 15)", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, 1 torch thread per fit, Python "
             f"{m['python']}, torch {m['torch']}, timm {m['timm']}, {m['date']}, commit "
             f"{m['commit']}{edited}. Load average {doc['load_before']} at the start and "
             f"{doc['load_after']} at the end (nothing else on the machine was paused: seconds "
             f"are of a shared machine). Total {doc['total_s'] / 60:.1f} minutes.", "",
             "    " + doc["command"], ""]
    if d.get("description"):   # a folder that says what it is (make_quality_folder.py)
        lines += [d["description"], ""]
    elif d:
        lines += [f"Data: `benchmarks/make_photo_folder.py` (package `{d.get('package')}`): "
                  f"{len(d.get('classes', []))} classes (one per photograph), "
                  f"{d.get('train')} train and {d.get('test')} test images of {d.get('side')} px, "
                  f"square crops of {d['crop'][0]:.0%}-{d['crop'][1]:.0%} of the photo's shorter "
                  f"side with photometric jitter; train from the left {d['train_share']:.0%} of "
                  "each photo, test from the rest; seed "
                  f"{d.get('seed')}.", ""]
    lines += [f"Each seed runs both arms at once, each pinned to one core (`taskset -c`, "
              f"`--workers 1`, one torch thread), `--budget {doc['budget']}` each; the core each "
              "arm gets alternates between seeds. Test accuracy: `autopreset evaluate` of the "
              "saved model on the test folder (never used to select anything); validation "
              "accuracy: the model card's.", "",
              "| seed | arm | core | resolution | backbone | trials | val acc | test acc "
              "| wall s |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in doc["runs"]:
        lines.append(f"| {r['seed']} | {r['arm']} | {r['core']} | {r.get('resolution') or '-'} | "
                     f"{r.get('backbone') or '-'} | {r.get('trials') or '-'} | "
                     f"{_f(r.get('val_accuracy'), 4)} | {_f(r.get('test_accuracy'), 4)} | "
                     f"{r['wall_s']:.0f} |")
    lines += ["", "| arm | runs | resolutions | val acc (median) | test acc (median) |",
              "|---|---|---|---|---|"]
    for arm in ARMS:
        a = s[arm]
        lines.append(f"| {arm} | {a['runs']} | {', '.join(str(x) for x in a['resolutions'])} | "
                     f"{_f(a['val_median'], 4)} | {_f(a['test_median'], 4)} |")
    gain = "-" if s["gain"] is None else f"{s['gain']:+.4f}"
    ratio = "-" if s["ratio"] is None else f"{s['ratio']:.3f}"
    lines += ["", f"auto against 32px, median test accuracy: gain {gain}, ratio {ratio}; auto "
              f"better in {s['auto_wins']} of {s['pairs']} seeds; auto trained above 32 px in "
              f"every run: {'yes' if s['auto_above_32'] else 'no'}.", ""]
    notes = [f"- {r['arm']} seed {r['seed']}: {r['resolution_note']}" for r in doc["runs"]
             if r["arm"] == "auto" and r.get("resolution_note")]
    if notes:
        lines += ["The plans' resolution notes:", ""] + notes + [""]
    errors = [f"- {r['arm']} seed {r['seed']}: {r['error']}" for r in doc["runs"] if "error" in r]
    if errors:
        lines += ["Failures:", ""] + errors + [""]
    path = RESULTS / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="a folder with train/ and test/ (default: make_photo_folder "
                                   "into the work folder)")
    ap.add_argument("--budget", default="15m", help="fit --budget of every run (default 15m)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--work", help="scratch folder for the data and the run folders (default: a "
                                   "temporary one, removed at the end)")
    ap.add_argument("--out-name", default="photos",
                    help="results as benchmarks/results/NAME.json and NAME.md (default photos)")
    args = ap.parse_args(argv)
    from autopreset import parse_duration

    budget_s = parse_duration(args.budget)
    cores = two_cores()
    work = Path(args.work or tempfile.mkdtemp(prefix="photos-bench-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    t0, before = time.time(), load()
    doc = {"machine": machine(), "load_before": before, "budget": args.budget,
           "budget_s": budget_s, "seeds": args.seeds, "cores": cores,
           "command": "python benchmarks/photos.py " + " ".join(argv if argv is not None
                                                                else sys.argv[1:]),
           "runs": []}
    try:
        data, doc["data"] = data_folder(args.data, work)
        for k, seed in enumerate(args.seeds):
            for run in (work / f"{arm}-{seed}" for arm in ARMS):
                if run.exists():
                    shutil.rmtree(run)
            doc["runs"] += run_seed(data, work, args.budget, seed, k, cores)
        doc["load_after"], doc["total_s"] = load(), round(time.time() - t0, 1)
        doc["summary"] = summarize(doc["runs"])
        path = write_results(doc, args.out_name)
        print(path.read_text())
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
