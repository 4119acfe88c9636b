"""``zoo run``: record a learning curve for every (task, candidate config), resumably and in shards.

A *cell* is one config trained on one task for ``horizon`` epochs (one learning-rate schedule
over the horizon, exactly as a fit trial with R = horizon follows it). After each cell one JSON
line is appended to ``OUT/records/<machine>-shard<i>of<n>.jsonl`` (``<machine>``: a digest
of the host name; one write, then fsync): the per-epoch validation accuracy and loss, training
loss, wall and CPU seconds, training images/s, and the backbone's batch-1 latency at the task's
resolution, with the machine. The records are the journal: a rerun skips every cell recorded
in any file under ``OUT/records/``, so a killed run loses at most the cell in progress, and
shards run on different machines merge by copying their files into one folder. ``--shard i/n`` takes the configs whose rank in
the candidate list is i modulo n.

A task is a folder: a zoo task (``train/``, ``val/``, ``test/``: train and val are read, test
never), or any class folder (split 80/20 with seed 0, the way fit splits it), or a folder with
``train/`` and ``test/`` only (train is split). The task is keyed by its name and the
fingerprint of its train+val images, so a changed folder is a new task.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from autopreset.errors import InputError

__all__ = ["ZooTask", "load_task", "run_zoo", "read_records", "parse_shard", "machine_info",
           "RECORD_FORMAT"]

RECORD_FORMAT = "autopreset.zoo-record/1"


@dataclass(frozen=True)
class ZooTask:
    name: str
    root: str
    dataset: object            # autopreset.data.Dataset of train + val images
    train_idx: np.ndarray
    val_idx: np.ndarray
    split: str                 # "fixed" (train/ and val/ folders) or "seed 0, 20% validation"
    content: str = ""          # a zoo task's pixel hash of train+val (task.json), else ""

    @property
    def key(self) -> str:
        """Name and content: a zoo task by the hash of its decoded pixels (the same on every
        machine whatever the PNG encoder), any other folder by its file fingerprint."""
        return f"{self.name}@{(self.content or self.dataset.fingerprint)[:12]}"


def _merge(train, val):
    """One Dataset of a train and a val scan (classes matched by name)."""
    from autopreset.data import Dataset, fingerprint

    if tuple(train.classes) != tuple(val.classes):
        missing = sorted(set(train.classes) ^ set(val.classes))
        raise InputError(f"{val.root}: classes differ from {train.root}'s ({', '.join(missing[:3])})")
    labels = np.concatenate([train.labels, val.labels])
    hashes = tuple(train.file_hashes) + tuple(val.file_hashes)
    names = [train.classes[i] for i in labels]
    return Dataset(root=str(Path(train.root).parent), paths=tuple(train.paths) + tuple(val.paths),
                   labels=labels, classes=tuple(train.classes),
                   skipped=tuple(train.skipped) + tuple(val.skipped),
                   fingerprint=fingerprint(names, hashes), file_hashes=hashes,
                   sizes=tuple(train.sizes) + tuple(val.sizes))


def load_task(folder: str | os.PathLike) -> ZooTask:
    """Read a task folder (see the module docstring); test images are never opened."""
    from autopreset.data import scan, split

    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"zoo task {str(root)!r} is not a folder")
    name, content = root.name, ""
    meta = root / "task.json"
    if meta.exists():
        info = json.loads(meta.read_text())
        name = info.get("name", name)
        pix = info.get("pixels_sha256") or {}
        if pix.get("train") and pix.get("val"):
            content = hashlib.sha256(f"{pix['train']}{pix['val']}".encode()).hexdigest()
    if (root / "train").is_dir() and (root / "val").is_dir():
        train, val = scan(root / "train", n_jobs=1), scan(root / "val", n_jobs=1)
        ds = _merge(train, val)
        n = len(train)
        return ZooTask(name, str(root), ds, np.arange(n), np.arange(n, len(ds)), "fixed", content)
    ds = scan(root / "train" if (root / "train").is_dir() else root, n_jobs=1)
    tr, va = split(ds, val_fraction=0.2, random_state=0)
    return ZooTask(name, str(root), ds, np.asarray(tr), np.asarray(va), "seed 0, 20% validation")


def parse_shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(v) for v in str(text).split("/"))
    except ValueError:
        raise InputError(f"--shard must look like i/n (e.g. 0/4), got {text!r}") from None
    if n < 1 or not 0 <= i < n:
        raise InputError(f"--shard {text}: need 0 <= i < n")
    return i, n


def machine_tag() -> str:
    """This machine's name in record file names: a digest of its host name, so that presets
    built from the records (which list the files) can be shared without naming the host."""
    return "m" + hashlib.sha256((platform.node() or "host").encode()).hexdigest()[:10]


def machine_info(device: str, threads: int) -> dict:
    import timm
    import torch

    from autopreset.backbones import cpu_model

    info = {"cpu": cpu_model(), "cores": os.cpu_count(), "threads": threads, "device": device,
            "python": platform.python_version(), "torch": torch.__version__,
            "timm": timm.__version__, "numpy": np.__version__}
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def read_records(out: str | os.PathLike, *, digests: dict | None = None) -> list[dict]:
    """Every record under ``OUT/records/`` (a torn last line, from a kill, is skipped).
    ``digests``, when given, receives each file's SHA-256 of exactly the bytes read (a shard
    may be appending while this reads)."""
    rows = []
    for path in sorted(Path(out, "records").glob("*.jsonl")):
        data = path.read_bytes()
        if digests is not None:
            digests[path.name] = hashlib.sha256(data).hexdigest()
        for line in data.decode("utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and row.get("format") == RECORD_FORMAT:
                rows.append(row)
    return rows


def _append(path: Path, row: dict) -> None:
    data = (json.dumps(row, separators=(",", ":")) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _latency(backbone: str, size: int, device: str, threads: int) -> dict:
    from autopreset.backbones import profile_latency

    r = profile_latency([backbone], size, device=device, threads=threads, max_seconds=2.0)[backbone]
    return {"p50_ms": round(r.p50_ms, 4), "p95_ms": round(r.p95_ms, 4),
            "throughput": round(r.throughput, 1)}


def train_cell(task: ZooTask, cache, config: dict, *, horizon: int, flip: bool, device: str,
               threads: int, seed: int = 0) -> dict:
    """Train one config on one task for ``horizon`` epochs; the per-epoch record."""
    import torch

    from autopreset.training import TrainingTask, TrialFailedError, resolve_config
    from autopreset.training._epoch import EpochRunner

    cfg = resolve_config({**config, "augment": "crop_flip" if flip else "crop"})
    torch.set_num_threads(threads)
    tt = TrainingTask(cache=cache, labels=task.dataset.labels, train_idx=task.train_idx,
                      val_idx=task.val_idx, classes=task.dataset.classes, device=device,
                      threads=threads, pretrained=False)
    dev = torch.device(device if device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))
    epochs = {k: [] for k in ("val_acc", "val_loss", "train_loss", "seconds", "cpu_seconds",
                              "images_per_s")}
    error = None
    t0 = time.perf_counter()
    try:
        runner = EpochRunner(task=tt, cfg=cfg, device=dev, seed=seed, max_resource=horizon)
        build_s = time.perf_counter() - t0
        for epoch in range(horizon):
            w0, c0 = time.perf_counter(), time.process_time()
            stats = runner.train_epoch(epoch)
            acc, loss = runner.evaluate()
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            epochs["val_acc"].append(round(float(acc), 5))
            epochs["val_loss"].append(round(float(loss), 5))
            epochs["train_loss"].append(round(float(stats["train_loss"]), 5))
            epochs["seconds"].append(round(time.perf_counter() - w0, 4))
            epochs["cpu_seconds"].append(round(time.process_time() - c0, 4))
            epochs["images_per_s"].append(round(float(stats["images_per_second"]), 1))
    except TrialFailedError as exc:
        error = str(exc)
        build_s = locals().get("build_s", time.perf_counter() - t0)
    return {"epochs": epochs, "error": error, "build_s": round(build_s, 3),
            "augment": cfg["augment"], "wall_s": round(time.perf_counter() - t0, 3)}


def write_candidates(out: str | os.PathLike, candidates: list[dict]) -> Path:
    """``OUT/candidates.json`` holding ``candidates``, written atomically."""
    path = Path(out) / "candidates.json"
    doc = {"format": "autopreset.zoo-candidates/1", "candidates": list(candidates)}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    os.replace(tmp, path)
    return path


def cheapest_first(mine: list[tuple[int, dict]], records: list[dict], task_keys: list[str],
                   horizon: int) -> list[tuple[int, dict]]:
    """Reorder (rank, candidate) pairs by the seconds each still needs to be complete on every
    task: its missing cells times the median recorded wall seconds of a cell of its backbone.
    A backbone never recorded is priced from its GMACs at 224 px against the recorded backbones'
    median seconds per GMAC; with no records at all the rank order is kept. Ties keep rank."""
    from autopreset.backbones import get_spec

    keys = set(task_keys)
    walls: dict[str, list[float]] = {}
    have: dict[str, int] = {}
    for r in (r for r in records if r.get("horizon") == horizon):
        if r.get("error") is None and r.get("wall_s"):
            walls.setdefault(r["config"]["backbone"], []).append(float(r["wall_s"]))
        if r["task"]["key"] in keys:
            have[r["config_id"]] = have.get(r["config_id"], 0) + 1
    if not walls:
        return list(mine)
    per_cell = {b: float(np.median(w)) for b, w in walls.items()}
    per_gmac = float(np.median([s / max(get_spec(b).gmacs_224, 1e-3) for b, s in per_cell.items()]))

    def cost(item):
        rank, cand = item
        b = cand["config"]["backbone"]
        cell = per_cell.get(b)
        if cell is None:
            cell = per_gmac * max(get_spec(b).gmacs_224, 1e-3)
        left = max(len(keys) - have.get(cand["id"], 0), 0)
        return (left * cell, rank)

    return sorted(mine, key=cost)


def run_zoo(tasks: list[str], out: str | os.PathLike, *, candidates: list[dict] | None = None,
            shard: tuple[int, int] = (0, 1), horizon: int = 27, device: str = "cpu",
            threads: int = 1, seed: int = 0, max_cells: int | None = None,
            tiers: tuple[str, ...] | None = None, sources: tuple[str, ...] | None = None,
            order: str = "rank", stop_after_s: float | None = None, log: Callable[[str], None] = print,
            clock=time.monotonic) -> dict:
    """Record every missing cell of this shard; returns counts. See the module docstring.

    ``candidates`` default to ``OUT/candidates.json``, written from ``make_candidates()`` on
    the first run, so every later run and shard trains exactly the same list.
    ``stop_after_s`` ends the run before starting a cell once that many seconds have passed
    (the cells are resumable; this keeps a session's run inside its time). ``tiers`` keeps only
    the configs whose backbone is of those size tiers (say, a GPU takes the medium and large ones
    while CPU shards work through the rest). ``sources`` keeps only the candidates whose
    ``source`` starts with one of them (``local``: the second round of candidates, first).
    ``order="cheapest"`` records the configs that are cheapest to complete first (see
    :func:`cheapest_first`) instead of in candidate rank, so a session ends with as many configs
    complete on every task as its time allows.
    """
    from autopreset.data import build_cache
    from autopreset.pipeline._data import Prepared, mirror_check, working_resolution
    from autopreset.tasks import get_task

    from ._candidates import make_candidates

    if int(horizon) != horizon or horizon < 1:
        raise InputError(f"--horizon must be a positive integer, got {horizon!r}")
    out = Path(out)
    (out / "records").mkdir(parents=True, exist_ok=True)
    cand_path = out / "candidates.json"
    if candidates is None:
        if cand_path.exists():
            candidates = json.loads(cand_path.read_text())["candidates"]
        else:
            candidates = make_candidates()
            write_candidates(out, candidates)
    i, n = shard
    mine = [(rank, c) for rank, c in enumerate(candidates) if rank % n == i]
    if tiers:
        from autopreset.backbones import get_spec

        mine = [(rank, c) for rank, c in mine if get_spec(c["config"]["backbone"]).tier in tiers]
    if sources:
        mine = [(rank, c) for rank, c in mine
                if str(c.get("source") or "").startswith(tuple(sources))]
    if order not in ("rank", "cheapest"):
        raise InputError(f"--order {order!r}: choose rank or cheapest")
    loaded = [load_task(t) for t in tasks]
    names = [t.name for t in loaded]
    if len(set(names)) != len(names):
        raise InputError(f"two tasks are named {sorted(n for n in names if names.count(n) > 1)[0]!r}")
    records = read_records(out)
    done = {(r["task"]["key"], r["config_id"], r["horizon"]) for r in records}
    if order == "cheapest":
        mine = cheapest_first(mine, records, [t.key for t in loaded], int(horizon))
    info = machine_info(device, threads)
    tag = f"{machine_tag()}-shard{i}of{n}"
    path = out / "records" / f"{tag}.jsonl"
    kind = get_task("classification")
    prepared = {}
    for t in loaded:
        train_paths = [t.dataset.paths[k] for k in t.train_idx]
        res = working_resolution(train_paths, random_state=0)
        cache = build_cache(t.dataset, res, n_jobs=1)
        check = mirror_check(Prepared(t.dataset, t.train_idx, t.val_idx, res, cache, kind))
        prepared[t.name] = (res, cache, check.flip)
    start = clock()
    counts = {"done_before": 0, "recorded": 0, "failed": 0, "left": 0}
    for rank, cand in mine:
        for t in loaded:
            key = (t.key, cand["id"], int(horizon))
            if key in done:
                counts["done_before"] += 1
                continue
            if (max_cells is not None and counts["recorded"] >= max_cells) or (
                    stop_after_s is not None and clock() - start >= stop_after_s):
                counts["left"] += 1
                continue
            res, cache, flip = prepared[t.name]
            cell = train_cell(t, cache, cand["config"], horizon=int(horizon), flip=flip,
                              device=device, threads=threads, seed=seed)
            lat = _latency(cand["config"]["backbone"], res, "cuda" if device.startswith("cuda") else "cpu",
                           threads)
            row = {"format": RECORD_FORMAT,
                   "task": {"name": t.name, "key": t.key, "fingerprint": t.dataset.fingerprint,
                            "n_train": int(len(t.train_idx)), "n_val": int(len(t.val_idx)),
                            "n_classes": len(t.dataset.classes), "resolution": res, "flip": flip,
                            "split": t.split},
                   "config_id": cand["id"], "config": cand["config"], "source": cand.get("source"),
                   "rank": rank, "horizon": int(horizon), "seed": seed, **cell,
                   "latency_ms": lat, "machine": info,
                   "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            _append(path, row)
            done.add(key)
            counts["recorded"] += 1
            counts["failed"] += cell["error"] is not None
            best = max(cell["epochs"]["val_acc"], default=float("nan"))
            log(f"zoo: {t.name:<18} {cand['id']} {cand['config']['backbone']:<22} "
                f"best val {best:.3f} in {cell['wall_s']:.0f}s"
                + (f"  ({cell['error'][:60]})" if cell["error"] else ""))
    return counts
