"""Side-by-side benchmark of ``autopreset fit`` against Optuna, random search and a fixed default.

    python benchmarks/fit.py                                  # the full grid (hours)
    python benchmarks/fit.py --datasets digits --budgets 300 --seeds 0 1 2 --prefer latency

For every dataset (written with a held-out test split by ``autopreset demo-data``), budget,
seed and preference, each method runs in its own process with the same trainer, the same
train/validation split and the same test split. By default the runs go one after another
(never two at once); ``--lanes N`` runs N at once, each pinned to its own core (CPU affinity),
so every method gets one dedicated core, and re-measures the chosen backbones' latency at the
end, on a quiet machine:

* autopreset: ``autopreset fit TRAIN --budget B --prefer P --seed S``
* optuna:     TPE + HyperbandPruner over the lecture's full space (benchmarks/_fit_baselines.py)
* random:     random search over the same space, trials of 10 epochs
* default:    one fixed resnet18 recipe trained for the whole budget

Reported per cell: test accuracy (median, min, max over seeds), wall-clock (overrun = wall -
budget), the chosen backbone and its batch-1 latency, and the time each method needs to reach
the final validation accuracy of random search (from its anytime trace). Results go to
benchmarks/results/fit.json and fit.md (merged with earlier cells of the same grid).
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
METHODS = ("autopreset", "optuna", "random", "default")


def code_commit() -> str:
    """The commit of the code that ran (rows of one grid may come from several runs)."""
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine(lanes: int = 1) -> dict:
    import optuna
    import timm
    import torch

    from autopreset.backbones import cpu_model

    return {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__, "timm": timm.__version__, "optuna": optuna.__version__,
            "date": time.strftime("%Y-%m-%d"), "runs_at_once": lanes,
            "cores_per_run": 1 if lanes > 1 else os.cpu_count()}


def make_data(name: str, work: Path) -> Path:
    folder = work / name
    if not (folder / "test").exists():
        subprocess.run([sys.executable, "-m", "autopreset", "demo-data", name, str(folder),
                        "--test-fraction", "0.2", "--seed", "0"], check=True, stdout=subprocess.DEVNULL)
    return folder


def autopreset_trace(run_dir: Path, start_wall: float) -> tuple[list, float]:
    """Best validation accuracy so far against seconds since launch, from the run's journals."""
    events = []
    for journal in run_dir.rglob("journal.jsonl"):
        for line in journal.read_text().splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event.get("event") == "reported" and isinstance(event.get("result"), dict):
                events.append((float(event["t"]) - start_wall, float(event["result"]["metric"])))
    trace, best = [], float("-inf")
    for t, metric in sorted(events):
        if metric > best:
            best = metric
            trace.append((t, metric))
    return trace, best


def folder_bytes(root: Path) -> int:
    """Bytes of the files under ``root`` (0 when it does not exist)."""
    total = 0
    for dirpath, _, files in os.walk(root):
        for name in files:
            try:
                total += os.stat(os.path.join(dirpath, name)).st_size
            except OSError:            # deleted while we walked
                pass
    return total


def run_cell(method, data, budget, seed, prefer, work, core=None) -> dict:
    out = work / "runs" / f"{data.name}-{budget}-{prefer}-{method}-{seed}"
    result_file = out.with_suffix(".json")
    shutil.rmtree(out, ignore_errors=True)     # a rerun starts clean
    result_file.unlink(missing_ok=True)
    start_wall, start = time.time(), time.monotonic()
    if method == "autopreset":
        cmd = [sys.executable, "-m", "autopreset", "fit", str(data / "train"), "--budget", str(budget),
               "--prefer", prefer, "--seed", str(seed), "--out", str(out), "--quiet"]
    else:
        cmd = [sys.executable, str(ROOT / "benchmarks" / "_fit_baselines.py"), "--method", method,
               "--train", str(data / "train"), "--test", str(data / "test"), "--budget", str(budget),
               "--seed", str(seed), "--out", str(out), "--result", str(result_file)]
    peak, running = [0], threading.Event()

    def watch():                   # the run folder's largest size (disk a long fit needs)
        while not running.wait(2.0):
            peak[0] = max(peak[0], folder_bytes(out))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        pin = None if core is None else (lambda: os.sched_setaffinity(0, {core}))
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=2 * budget + 300,
                              preexec_fn=pin)
    except subprocess.TimeoutExpired:
        return {"method": method, "seed": seed, "error": f"killed after {2 * budget + 300}s",
                "wall_s": time.monotonic() - start}
    finally:
        running.set()
        watcher.join()
    wall = time.monotonic() - start
    if method != "autopreset":      # fit drops its trials' weights itself; baselines' are GBs
        from autopreset.training import drop_weights

        for meta in out.glob("**/checkpoint.json"):
            drop_weights(meta.parent)
    if done.returncode != 0:
        return {"method": method, "seed": seed, "error": (done.stderr or done.stdout).strip()[-400:],
                "wall_s": wall}
    if method == "autopreset":
        from autopreset.model import load

        predictor = load(out / "model")
        acc = predictor.evaluate(data / "test")["accuracy"]
        trace, best_val = autopreset_trace(out, start_wall)
        row = {"test_accuracy": acc, "backbone": predictor.card.backbone, "trace": trace,
               "val_accuracy": predictor.card.metrics.get("val_accuracy", best_val)}
    else:
        row = json.loads(result_file.read_text())
    row.update(method=method, seed=seed, wall_s=wall, overrun_s=wall - budget, commit=code_commit(),
               peak_run_mb=round(peak[0] / 1e6, 1),
               latency_ms=latency_of(row["backbone"], data) if core is None else None)
    return row


_LATENCY: dict = {}


def latency_of(backbone: str, data: Path) -> float:
    """Batch-1 p50 latency on this CPU at the working resolution (32 px for these datasets)."""
    if backbone not in _LATENCY:
        from autopreset.backbones import profile_latency

        # One thread, measured afresh: a busy machine makes multi-threaded figures meaningless.
        _LATENCY[backbone] = profile_latency([backbone], 32, device="cpu", threads=1,
                                             refresh=True)[backbone].p50_ms
    return _LATENCY[backbone]


def time_to_reach(trace: list, target: float) -> float | None:
    for t, metric in trace:
        if metric >= target - 1e-12:
            return t
    return None


def summarize(cells: dict) -> str:
    lines = ["| dataset | budget | prefer | method | test acc median [min, max] | overrun s (max) | "
             "time to random's final val acc (median s) | chosen backbone (latency ms) | "
             "peak run folder MB (max) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(cells):
        dataset, budget, prefer = key.split("|")
        runs = cells[key]
        random_final = [r["val_accuracy"] for r in runs if r.get("method") == "random" and "error" not in r]
        target = statistics.median(random_final) if random_final else None
        for method in METHODS:
            ok = [r for r in runs if r.get("method") == method and "error" not in r]
            failed = [r for r in runs if r.get("method") == method and "error" in r]
            if not ok:
                if failed:
                    lines.append(f"| {dataset} | {budget} | {prefer} | {method} | failed: {failed[0]['error'][-80:]} ||||||")
                continue
            accs = [r["test_accuracy"] for r in ok]
            reach = [time_to_reach(r["trace"], target) for r in ok] if target is not None else []
            reached = [t for t in reach if t is not None]
            reach_txt = (f"{statistics.median(reached):.0f} ({len(reached)}/{len(ok)} reached)"
                         if reached else ("n/a" if target is None else f"never (0/{len(ok)})"))
            backbones = sorted({f"{r['backbone']} ({r['latency_ms']:.2f})" if r.get("latency_ms")
                                else r["backbone"] for r in ok})
            peaks = [r["peak_run_mb"] for r in ok if r.get("peak_run_mb") is not None]
            peak_txt = f"{max(peaks):.0f} ({len(peaks)}/{len(ok)} runs)" if peaks else "-"
            # a run that saved no model is left out of the median, and said so in its cell
            failed_txt = f" ({len(failed)} of {len(ok) + len(failed)} runs failed)" if failed else ""
            lines.append(
                f"| {dataset} | {budget} | {prefer} | {method} | {statistics.median(accs):.4f} "
                f"[{min(accs):.4f}, {max(accs):.4f}]{failed_txt} | {max(r['overrun_s'] for r in ok):+.1f} | "
                f"{reach_txt} | {', '.join(backbones)} | {peak_txt} |")
    # baselines appear in every preference's cell (the set lists them once); fit runs per preference
    errors = sorted({(key if r["method"] == "autopreset" else key.rsplit("|", 1)[0], r["method"],
                      r["seed"], r["error"].strip().splitlines()[-1])
                     for key, runs in cells.items() for r in runs if "error" in r})
    if errors:
        lines += ["", "Failed runs (no model saved; left out of the medians above):", ""]
        for where, method, seed, why in errors:
            dataset, budget, *prefer = where.split("|")
            who = f"{method} --prefer {prefer[0]}" if prefer else method
            lines.append(f"- {dataset} {budget}s, {who}, seed {seed}: {why}")
    return "\n".join(lines)


def share_baselines(cells: dict) -> None:
    """Baselines ignore the preference: every preference's cell of a dataset and budget shows the
    same baseline runs, the union over those cells of one row per (method, seed)."""
    groups: dict = {}
    for key in cells:
        dataset, budget, _ = key.split("|")
        groups.setdefault((dataset, budget), []).append(key)
    for keys in groups.values():
        shared: dict = {}
        for key in keys:
            for r in cells[key]:
                if r.get("method") != "autopreset":
                    shared.setdefault((r.get("method"), r.get("seed")), r)
        rows = sorted(shared.values(), key=lambda r: (METHODS.index(r["method"])
                                                      if r["method"] in METHODS else 99, r["seed"]))
        for key in keys:
            cells[key] = [r for r in cells[key] if r.get("method") == "autopreset"] + rows


def save(output: Path, cells: dict, argv, command: str | None = None, lanes: int = 1) -> None:
    """Write fit.json and fit.md after every run, atomically, so a stopped benchmark keeps its cells."""
    share_baselines(cells)
    if command is None:
        command = "python benchmarks/fit.py " + " ".join(argv if argv is not None else sys.argv[1:])
    doc = {"machine": machine(lanes), "command": command, "cells": cells}
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1))
    os.replace(tmp, output)
    md = output.with_suffix(".md")
    md.write_text(f"# fit benchmark\n\nMachine: {json.dumps(doc['machine'])}\n\n"
                  f"Last command: `{command}`\n\n{provenance(cells)}\n\n" + summarize(cells) + "\n")


def provenance(cells: dict) -> str:
    """Which commit ran which rows (a grid is often filled by several invocations)."""
    by: dict = {}
    for key, runs in cells.items():
        dataset, budget, prefer = key.split("|")
        for r in runs:
            who = r.get("method") if r.get("method") != "autopreset" else f"autopreset --prefer {prefer}"
            by.setdefault(r.get("commit", "unrecorded"), {}).setdefault(who, set()).add(f"{dataset} {budget}s")
    return "Code that ran the rows: " + "; ".join(
        f"commit {c}: " + ", ".join(f"{who} ({', '.join(sorted(where))})" for who, where in sorted(v.items()))
        for c, v in sorted(by.items()))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["mnist", "digits", "textures"])
    parser.add_argument("--budgets", nargs="+", type=int, default=[300, 900])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--prefer", nargs="+", default=["latency", "accuracy"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--lanes", type=int, default=1,
                        help="Runs at once, each pinned to its own core (default 1: one after another).")
    parser.add_argument("--work", default=None, help="Scratch folder (default: a temp folder).")
    parser.add_argument("--output", default=str(RESULTS / "fit.json"))
    parser.add_argument("--remeasure-latency", action="store_true",
                        help="Only re-measure the chosen backbones' latency in OUTPUT and rewrite it.")
    args = parser.parse_args(argv)
    if args.remeasure_latency:
        output = Path(args.output)
        doc = json.loads(output.read_text())
        cells = doc["cells"]
        for runs in cells.values():
            for row in runs:
                if "backbone" in row:
                    row["latency_ms"] = latency_of(row["backbone"], Path())
        save(output, cells, argv, command=doc.get("command", "python benchmarks/fit.py (see fit.json)"),
             lanes=int(doc.get("machine", {}).get("runs_at_once", 1)))
        print(summarize(cells))
        return

    work = Path(args.work or tempfile.mkdtemp(prefix="autopreset-fitbench-"))
    output = Path(args.output)
    previous = json.loads(output.read_text()) if output.exists() else {}
    cells = previous.get("cells", {})
    jobs = []
    for name in args.datasets:
        data = make_data(name, work)
        for budget in args.budgets:
            for prefer in args.prefer:
                key = f"{name}|{budget}|{prefer}"
                # rerunning some methods or seeds replaces just those rows of the cell; a rerun
                # baseline replaces its rows in every preference's cell (they share them)
                cells.setdefault(key, [])
                for other in [k for k in cells if k.startswith(f"{name}|{budget}|")]:
                    cells[other] = [r for r in cells[other]
                                    if not (r.get("method") in args.methods and r.get("seed") in args.seeds
                                            and (other == key or r.get("method") != "autopreset"))]
                for seed in args.seeds:
                    for method in args.methods:
                        # baselines ignore the preference: they run once, under the first one
                        if method == "autopreset" or prefer == args.prefer[0]:
                            jobs.append((key, method, data, budget, seed, prefer))
    lock = threading.Lock()
    cores = itertools.cycle(sorted(os.sched_getaffinity(0)))
    free_cores = [next(cores) for _ in range(args.lanes)] if args.lanes > 1 else [None]
    if args.lanes > 1:
        import torch

        torch.set_num_threads(1)         # the parent's test evaluations stay off the lanes' cores

    def lane(job):
        key, method, data, budget, seed, prefer = job
        with lock:
            core = free_cores.pop()
        try:
            row = run_cell(method, data, budget, seed, prefer, work, core=core)
        finally:
            with lock:
                free_cores.append(core)
        with lock:
            print(json.dumps({k: v for k, v in row.items() if k != "trace"}), flush=True)
            cells[key].append(row)
            save(output, cells, argv, lanes=args.lanes)

    with ThreadPoolExecutor(max_workers=args.lanes) as pool:
        for future in [pool.submit(lane, job) for job in jobs]:
            future.result()
    if args.lanes > 1:                   # latency measured now, with nothing else running
        for runs in cells.values():
            for row in runs:
                if "backbone" in row and not row.get("latency_ms"):
                    row["latency_ms"] = latency_of(row["backbone"], Path())
        save(output, cells, argv, lanes=args.lanes)
    print(summarize(cells))


if __name__ == "__main__":
    main()
