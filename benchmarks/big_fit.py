"""fit on a 100,000-image folder: a cheaper first rung (a stratified subset) against full epochs.

    .venv/bin/python benchmarks/make_big_folder.py /work/big
    .venv/bin/python benchmarks/make_big_folder.py /work/bigtest -n 5000 --seed 1
    .venv/bin/python benchmarks/big_fit.py /work/big --test /work/bigtest --budget 20m

Two arms run side by side, each pinned to its own core (``taskset``), at the same budget and
seed: ``autopreset fit BIG`` as it ships (``--fidelity auto``: where full epochs are too
expensive to rank configs the first rung trains on a stratified subset) and ``--fidelity full``
(every epoch on every image). Each arm is then scored with ``autopreset evaluate`` on a folder
generated with another seed (never read by fit). Measured: wall seconds of the whole command
against the budget, what the plan decided (resolution, fidelity, portfolio size), how many
epochs trained on a subset, the trials, validation and test accuracy. The arms swap cores from
seed to seed.

Results: benchmarks/results/big_fit.json and big_fit.md, with the machine and its load.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
ARMS = ("auto", "full")


def machine() -> dict:
    import timm
    import torch

    from autopreset.backbones import cpu_model

    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__, "timm": timm.__version__,
            "date": time.strftime("%Y-%m-%d"), "commit": commit}


def start(arm: str, core: int, args, seed: int, work: Path):
    out = work / f"{arm}-{seed}"
    cmd = ["taskset", "-c", str(core), sys.executable, "-m", "autopreset", "fit", args.folder,
           "--budget", args.budget, "--seed", str(seed), "--out", str(out), "--fidelity", arm,
           "-q"]
    log = open(work / f"{arm}-{seed}.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    return out, log, time.perf_counter(), proc


def collect(arm: str, seed: int, out: Path, wall: float, rc: int, args) -> dict:
    row = {"arm": arm, "seed": seed, "rc": rc, "wall_s": round(wall, 1)}
    run = json.loads((out / "run.json").read_text()) if (out / "run.json").is_file() else {}
    plan = run.get("plan", {})
    row.update(resolution=run.get("resolution"), fidelity=plan.get("fidelity", ""),
               portfolio=len(plan.get("portfolio", [])), max_resource=plan.get("max_resource"),
               notes=[n for n in plan.get("notes", []) if n.startswith(("fidelity", "resolution"))])
    subset_epochs = full_epochs = 0
    trials = set()
    journal = out / "journal.jsonl"
    if journal.is_file():
        for line in journal.read_text().splitlines():
            rec = json.loads(line)
            res = rec.get("result") or {}
            if rec.get("event") == "reported" and res:
                trials.add(rec.get("trial_id"))
                if res.get("data_fraction", 1.0) < 1.0:
                    subset_epochs += 1
                else:
                    full_epochs += 1
    row.update(trials=len(trials), subset_epochs=subset_epochs, full_epochs=full_epochs)
    model = out / "model" / "model.json"
    if model.is_file():
        card = json.loads(model.read_text())
        row.update(backbone=card.get("backbone"),
                   val_accuracy=card.get("metrics", {}).get("val_accuracy"))
        ev = subprocess.run([sys.executable, "-m", "autopreset", "evaluate", str(out / "model"),
                             args.test, "--format", "json", "-q"], capture_output=True,
                            text=True, cwd=ROOT)
        if ev.returncode == 0:
            row["test_accuracy"] = json.loads(ev.stdout)["accuracy"]
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--test", required=True, help="a folder fit never reads, for test accuracy")
    ap.add_argument("--budget", default="20m")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--work", default="/tmp/big-fit")
    ap.add_argument("--out-name", default="big_fit")
    args = ap.parse_args(argv)
    from autopreset._duration import parse_duration

    budget_s = parse_duration(args.budget)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    info = machine()
    info["load_start"] = [round(x, 2) for x in os.getloadavg()]
    rows = []
    for i, seed in enumerate(args.seeds):
        cores = (0, 1) if i % 2 == 0 else (1, 0)
        running = [(arm, *start(arm, core, args, seed, work)) for arm, core in zip(ARMS, cores)]
        for arm, out, log, t0, proc in running:
            rc = proc.wait()
            log.close()
            rows.append(collect(arm, seed, out, time.perf_counter() - t0, rc, args))
            print(json.dumps(rows[-1]), flush=True)
    info["load_end"] = [round(x, 2) for x in os.getloadavg()]
    result = {"machine": info, "budget_s": budget_s, "folder": args.folder, "test": args.test,
              "command": " ".join(["python", "benchmarks/big_fit.py", *(argv or sys.argv[1:])]),
              "rows": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out_name}.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / f"{args.out_name}.md").write_text(report(result))
    print((RESULTS / f"{args.out_name}.md").read_text())
    return 0


def report(r: dict) -> str:
    m = r["machine"]

    def med(arm, key):
        vals = [row[key] for row in r["rows"] if row["arm"] == arm and row.get(key) is not None]
        return statistics.median(vals) if vals else None

    lines = [f"# fit on {r['folder']}: a stratified first rung vs full epochs (issue 15)", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, torch {m['torch']}, "
             f"timm {m['timm']}, {m['date']}, commit {m['commit']}. Load average "
             f"{m['load_start']} at the start, {m['load_end']} at the end. Each arm pinned to one "
             "core, both at once.", "", f"    {r['command']}", "",
             f"Budget {r['budget_s']:.0f} s for the whole command (scan, cache, plan, search, "
             f"finish). Test accuracy on {r['test']}, generated with another seed.", "",
             "| arm | seed | wall s | within budget | resolution | first rung | portfolio | R "
             "| trials | subset epochs | full epochs | backbone | val | test |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in r["rows"]:
        fmt = lambda v: "-" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v))
        lines.append(
            f"| {row['arm']} | {row['seed']} | {row['wall_s']:.0f} | "
            f"{'yes' if row['wall_s'] <= r['budget_s'] and row['rc'] == 0 else 'NO'} | "
            f"{fmt(row.get('resolution'))} | {row.get('fidelity') or 'full'} | "
            f"{row.get('portfolio')} | {row.get('max_resource')} | {row.get('trials')} | "
            f"{row.get('subset_epochs')} | {row.get('full_epochs')} | {row.get('backbone')} | "
            f"{fmt(row.get('val_accuracy'))} | {fmt(row.get('test_accuracy'))} |")
    lines += ["", "Medians: " + "; ".join(
        f"{arm}: test {med(arm, 'test_accuracy')}, wall {med(arm, 'wall_s')} s"
        for arm in ARMS), "", "What each plan decided:", ""]
    for row in r["rows"]:
        for note in row.get("notes", []):
            lines.append(f"- {row['arm']} seed {row['seed']}: {note}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
