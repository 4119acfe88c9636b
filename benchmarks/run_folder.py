"""Run-folder size during a fit: weights deleted as trials retire, against every weight kept.

    .venv/bin/python benchmarks/run_folder.py --dataset digits --budget 120s [--device cpu] [--seeds 0 1]

For each seed, one after the other on the same data: ``autopreset fit`` as it ships (a trial's
weights go once it can no longer run and the final pick can no longer choose it) and
``autopreset fit --keep-checkpoints`` (every weight kept until the end). While each runs, the run
folder's size is read every half second; reports the peak, the size once the fit ended, the
number of trials, the chosen trial and held-out test accuracy. Same data and seed, but the budget
is wall-clock, so the two runs' trial counts (and then picks) can differ a little; that pruning
never changes the pick of a given search is tested on replayed curves
(tests/schedulers/test_portfolio.py). Results: benchmarks/results/run_folder.json and .md by default
(``--output``); committed: run_folder_cuda (a lent H200) and run_folder_cpu (its 16 CPU cores).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from fit import folder_bytes  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def run_fit(data: Path, test: Path, out: Path, budget: str, device: str, seed: int,
            keep: bool) -> dict:
    cmd = [sys.executable, "-m", "autopreset", "fit", str(data), "--budget", budget,
           "--out", str(out), "--device", device, "--seed", str(seed), "--quiet"]
    if keep:
        cmd.append("--keep-checkpoints")
    peak, done = [0], threading.Event()

    def poll():
        while not done.is_set():
            if out.exists():
                peak[0] = max(peak[0], folder_bytes(out))
            time.sleep(0.5)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    done.set()
    watcher.join()
    if proc.returncode:
        raise SystemExit(f"fit failed ({' '.join(cmd)}):\n{proc.stderr[-2000:]}")
    card = json.loads((out / "model" / "model.json").read_text())
    ev = subprocess.run([sys.executable, "-m", "autopreset", "evaluate", str(out / "model"), str(test),
                         "--format", "json"], capture_output=True, text=True)
    accuracy = json.loads(ev.stdout)["accuracy"] if ev.returncode == 0 else None
    return {"keep_checkpoints": keep, "seed": seed, "wall_s": round(wall, 1),
            "peak_mb": round(peak[0] / 1e6, 1), "final_mb": round(folder_bytes(out) / 1e6, 1),
            "trials": card["metrics"].get("trials"), "chosen_trial": card["metrics"].get("trial_id"),
            "backbone": card["backbone"], "test_accuracy": accuracy}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits", choices=["digits", "mnist", "textures"])
    parser.add_argument("--budget", default="120s")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--work", default=None)
    parser.add_argument("--output", default=str(RESULTS / "run_folder.json"))
    args = parser.parse_args()

    from autopreset.datasets import write_dataset

    work = Path(args.work or tempfile.mkdtemp(prefix="autopreset-runfolder-"))
    data = work / args.dataset
    if not (data / "train").is_dir():
        write_dataset(args.dataset, data, test_fraction=0.2)
    rows = []
    for seed in args.seeds:
        for keep in (False, True):
            out = work / f"run-s{seed}-{'keep' if keep else 'prune'}"
            row = run_fit(data / "train", data / "test", out, args.budget, args.device, seed, keep)
            print(json.dumps(row), flush=True)
            rows.append(row)
    import torch

    doc = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                       "device": args.device,
                       "gpu": torch.cuda.get_device_name(0) if args.device == "cuda" else None,
                       "torch": torch.__version__, "date": time.strftime("%Y-%m-%d")},
           "dataset": args.dataset, "budget": args.budget, "rows": rows}
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1))
    os.replace(tmp, output)
    write_markdown(doc, output.with_suffix(".md"))


def write_markdown(doc: dict, path: Path) -> None:
    m = doc["machine"]
    lines = [f"# Run-folder size during a fit ({doc['dataset']}, budget {doc['budget']}, "
             f"device {m['device']})", "",
             "    .venv/bin/python benchmarks/run_folder.py --dataset {} --budget {} --device {}".format(
                 doc["dataset"], doc["budget"], m["device"]), "",
             f"Machine: {m['gpu'] or 'CPU'}, {m['cpus']} CPU cores, torch {m['torch']}, "
             f"{m['platform']}, {m['date']}.", "",
             "| seed | weights | peak MB | final MB | trials | chosen trial | backbone | test accuracy | wall s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in doc["rows"]:
        acc = "-" if r["test_accuracy"] is None else f"{r['test_accuracy']:.4f}"
        lines.append(f"| {r['seed']} | {'all kept' if r['keep_checkpoints'] else 'deleted as trials retire'} "
                     f"| {r['peak_mb']} | {r['final_mb']} | {r['trials']} | {r['chosen_trial']} "
                     f"| {r['backbone']} | {acc} | {r['wall_s']} |")
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
