"""One trial's training state: model, optimizer, data on tensors, and the epoch loop.

Kept apart from :mod:`._task` so the task stays a small picklable description. Time spent
outside the model (batch gathering, augmentation, normalization) is measured separately
and reported as ``data_seconds``, which the trainer benchmark checks stays small.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from ..backbones import classifier_prefixes
from ..data import IMAGENET_MEAN, IMAGENET_STD, Augment, normalize
from ._checkpoint import jsonable, read_checkpoint, restore_training, save_checkpoint
from ._fidelity import fidelity_at, parse_fidelity, resolve_fidelity, stratified_subset
from ._reporter import TrialFailedError
from ._schedule import backbone_factor, lr_factor, warmup_steps_for

__all__ = ["EpochRunner"]


class EpochRunner:
    """Builds the model and data for one trial and runs its epochs."""

    def __init__(self, *, task, cfg: dict, device, seed: int, max_resource: int):
        import torch

        self.task, self.cfg, self.device, self.seed = task, cfg, device, seed
        self.max_resource = max(1, max_resource)
        torch.manual_seed(seed)
        self.kind = task.kind
        model, self.weights_source = self.kind.build_model(
            cfg["backbone"], len(task.classes), pretrained=task.weights_for(cfg["backbone"]))
        # fine-tuned from weights: the config's fine-tuning keys apply (._config)
        self.finetune = self.weights_source != "random"
        self.head = classifier_prefixes(model)
        self.mean, self.std = _mean_std(model)
        self.model = model.to(device=device, memory_format=torch.channels_last)
        self.optimizer = _make_optimizer(self.model, cfg, head=self.head if self.finetune else None)
        self._load_data()
        n_train = len(self.train_labels)
        self.batch_size = min(cfg["batch_size"], n_train)
        self.steps_per_epoch = n_train // self.batch_size
        self.total_steps = self.steps_per_epoch * self.max_resource
        self.warmup_steps = warmup_steps_for(self.total_steps, self.steps_per_epoch)
        self.lp_epochs = 0
        if self.finetune:
            if cfg["warmup_epochs"] is not None:
                self.warmup_steps = min(int(round(cfg["warmup_epochs"] * self.steps_per_epoch)),
                                        self.total_steps // 2)
            self.lp_epochs = min(cfg["lp_epochs"], self.max_resource - 1)
        self.augment = _make_augment(cfg)
        # the schedule's cheaper early epochs (._fidelity): size and share of the train images
        self.fidelity = resolve_fidelity(parse_fidelity(cfg.get("fidelity")), self.max_resource)
        self.full_px = int(task.input_size)
        self._px, self._fraction = self.full_px, 1.0
        self._subsets: dict[float, np.ndarray] = {}
        self.epoch = 0
        self.history: list[dict] = []
        self.best: dict | None = None
        self.best_state: dict | None = None
        self.amp_dtype = None
        self.scaler = None
        if device.type == "cuda":
            bf16 = torch.cuda.is_bf16_supported()
            self.amp_dtype = torch.bfloat16 if bf16 else torch.float16
            if not bf16:
                self.scaler = torch.amp.GradScaler("cuda")
        self.criterion = self.kind.loss(cfg)
        self.micro_batch: int | None = None     # set when a batch did not fit in memory

    def _load_data(self) -> None:
        import torch

        images = self.task.cache.open()
        labels = np.asarray(self.task.labels, dtype=np.int64)
        tr, va = np.asarray(self.task.train_idx), np.asarray(self.task.val_idx)
        self.train_labels = torch.from_numpy(labels[tr])
        self.val_labels = torch.from_numpy(labels[va])
        nbytes = images[0].nbytes * (len(tr) + len(va))
        if nbytes <= self.task.in_memory_limit:
            # Small enough: hold uint8 images (on the GPU when training there) and gather
            # batches by indexing, with no per-batch copies from disk or host.
            train = torch.from_numpy(np.ascontiguousarray(images[np.sort(tr)]))
            order = np.argsort(np.argsort(tr))            # rows of images[sorted] for tr
            self.train_images = train[torch.from_numpy(order)].to(self.device)
            self.val_images = torch.from_numpy(np.ascontiguousarray(images[va])).to(self.device)
            self.train_labels = self.train_labels.to(self.device)
            self.val_labels = self.val_labels.to(self.device)
            self.memmap = None
        else:
            self.train_images = self.val_images = None
            self.memmap, self.tr, self.va = images, tr, va

    def _gather(self, which: str, rows: np.ndarray):
        import torch

        if self.memmap is None:
            src = self.train_images if which == "train" else self.val_images
            return src[torch.from_numpy(rows).to(src.device)]
        idx = (self.tr if which == "train" else self.va)[rows]
        order = np.argsort(idx)
        out = torch.from_numpy(np.ascontiguousarray(self.memmap[idx[order]]))
        return out[torch.from_numpy(np.argsort(order))]

    # ---- epochs -------------------------------------------------------------------------
    def train_epoch(self, epoch: int) -> dict:
        import torch

        model, opt, dev = self.model, self.optimizer, self.device
        model.train()
        self._freeze_backbone(epoch < self.lp_epochs)
        lp_steps = self.lp_epochs * self.steps_per_epoch
        rng = np.random.default_rng([self.seed, epoch])
        px, fraction = fidelity_at(self.fidelity, epoch, self.full_px)
        self._px, self._fraction = px, fraction
        if fraction >= 1.0:
            perm = rng.permutation(len(self.train_labels))
            n_steps = self.steps_per_epoch
        else:
            subset = self._subset(fraction)
            perm = subset[rng.permutation(len(subset))]
            n_steps = max(1, len(subset) // self.batch_size)
        full_steps = self.steps_per_epoch
        base_lr = self.cfg["lr"]
        check_every = 1 if dev.type == "cpu" else 16
        loss_sum = torch.zeros((), device=dev)
        data_s = 0.0
        t_start = time.perf_counter()
        for b in range(n_steps):
            t0 = time.perf_counter()
            rows = perm[b * self.batch_size:(b + 1) * self.batch_size]
            x = self._gather("train", rows).to(dev, non_blocking=True)
            y = self.train_labels[torch.from_numpy(rows).to(self.train_labels.device)].to(
                dev, non_blocking=True)
            if self.augment is not None:
                x = self.augment(x, rng)
            x = normalize(x, self.mean, self.std)
            if px != self.full_px:
                x = _resize(x, px)
            # (an epoch on a fraction spreads its steps over the epoch's full-data schedule)
            step = epoch * full_steps + (b if n_steps == full_steps else b * full_steps // n_steps)
            lr = base_lr * lr_factor(step, self.total_steps, self.warmup_steps)
            if self.finetune:
                backbone_lr = base_lr * backbone_factor(step, self.total_steps,
                                                        self.warmup_steps, lp_steps)
                for group in opt.param_groups:
                    group["lr"] = lr if group["role"] == "head" else backbone_lr * group["lr_scale"]
            else:
                for group in opt.param_groups:
                    group["lr"] = lr
            data_s += time.perf_counter() - t0
            loss = self._step(x, y)
            loss_sum += loss.detach().float()
            if (b + 1) % check_every == 0 or b + 1 == n_steps:
                if not math.isfinite(float(loss_sum)):
                    raise TrialFailedError(
                        f"training loss became NaN/inf at epoch {epoch + 1}, step {b + 1} "
                        f"({self.cfg['backbone']}, lr={base_lr:g}, "
                        f"optimizer={self.cfg['optimizer']}); the learning rate is likely too high")
        self.epoch = epoch + 1
        n_img = min(n_steps * self.batch_size, len(perm))
        train_s = time.perf_counter() - t_start
        out = {"train_loss": float(loss_sum) / max(1, n_steps),
               "train_seconds": train_s, "data_seconds": data_s,
               "images_per_second": n_img / max(train_s, 1e-9), "lr": lr,
               "pretrained": self.finetune, "weights": self.weights_source}
        if self.finetune:
            out["backbone_lr"] = backbone_lr * self.cfg["backbone_lr_scale"]
        if self.fidelity:
            out["resolution"], out["data_fraction"] = px, fraction
            out["train_images"] = len(perm)
            out["full_fidelity"] = self.full_fidelity
        if self.micro_batch is not None:
            out["micro_batch"] = self.micro_batch      # the batch did not fit; see _step
        return out

    def _subset(self, fraction: float) -> np.ndarray:
        """Rows of the train tensors in the nested stratified subset of ``fraction``."""
        if fraction not in self._subsets:
            labels = self.train_labels.cpu().numpy()
            self._subsets[fraction] = stratified_subset(labels, fraction, self.seed)
        return self._subsets[fraction]

    @property
    def full_fidelity(self) -> bool:
        """Whether the last epoch trained at the cache's size on every training image."""
        return self._px == self.full_px and self._fraction >= 1.0

    def _freeze_backbone(self, frozen: bool) -> None:
        """During the linear probe of LP-FT only the head trains: the backbone's parameters get
        no gradient and its layers run in eval mode (BatchNorm statistics and dropout fixed)."""
        if not self.finetune or not self.lp_epochs:
            return
        for name, param in self.model.named_parameters():
            if not name.startswith(self.head):
                param.requires_grad_(not frozen)
        if frozen:
            for name, module in self.model.named_modules():
                if name and not f"{name}.".startswith(self.head):
                    module.training = False

    def _step(self, x, y):
        """One optimizer step on the batch (x, y); its mean loss. When the batch does not fit
        in memory it is split into micro-batches whose gradients add up to the batch's (the
        step, the learning rate and the config stay as they were), halving until it fits; the
        trial keeps the size that fitted (``micro_batch``)."""
        import torch

        model, opt = self.model, self.optimizer
        while True:
            micro = self.micro_batch or len(x)
            try:
                opt.zero_grad(set_to_none=True)
                total = torch.zeros((), device=x.device)
                for start in range(0, len(x), micro):
                    xb, yb = x[start:start + micro], y[start:start + micro]
                    with torch.autocast(self.device.type, dtype=self.amp_dtype,
                                        enabled=self.amp_dtype is not None):
                        loss = self.criterion(model(xb), yb) * (len(xb) / len(x))
                    if self.scaler is not None:
                        self.scaler.scale(loss).backward()
                    else:
                        loss.backward()
                    total += loss.detach().float()
                break
            except RuntimeError as err:
                if not _is_oom(err) or micro <= 2:     # (batch norm needs two images)
                    raise
                opt.zero_grad(set_to_none=True)
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                self.micro_batch = max(2, micro // 2)
        if self.scaler is not None:
            self.scaler.step(opt)
            self.scaler.update()
        else:
            opt.step()
        return total

    def evaluate(self) -> tuple[float, float]:
        """The task's validation metric (accuracy) and unsmoothed loss on the cached eval pixels."""
        import torch

        self.model.eval()
        n = len(self.val_labels)
        score_sum, loss_sum = 0.0, 0.0
        bs = self.task.eval_batch_size
        with torch.inference_mode():
            for start in range(0, n, bs):
                rows = np.arange(start, min(n, start + bs))
                x = normalize(self._gather("val", rows).to(self.device), self.mean, self.std)
                if self._px != self.full_px:
                    x = _resize(x, self._px)
                y = self.val_labels[start:start + len(rows)].to(self.device)
                with torch.autocast(self.device.type, dtype=self.amp_dtype,
                                    enabled=self.amp_dtype is not None):
                    logits = self.model(x).float()
                score, loss = self.kind.score_batch(logits, y)
                score_sum += score
                loss_sum += loss
        val_loss = loss_sum / n
        if not math.isfinite(val_loss):
            raise TrialFailedError(f"validation loss is NaN/inf after epoch {self.epoch} "
                                   f"({self.cfg['backbone']}, lr={self.cfg['lr']:g})")
        return score_sum / n, val_loss

    def record(self, epoch: int, result: dict) -> None:
        """Keep the epoch's result; its weights become the trial's best when they beat the
        best so far, full-fidelity epochs first (a model kept is one trained at full size on
        all the images, once the trial has one)."""
        self.history.append(dict(epoch=epoch, **result))
        full = self.full_fidelity
        if self.best is None or (full, result["metric"]) > (self.best.get("full", True),
                                                             self.best["metric"]):
            self.best = {"epoch": epoch, "metric": result["metric"]}
            if not full:
                self.best["full"] = False
            self.best_state = {k: v.detach().to("cpu", copy=True)
                               for k, v in self.model.state_dict().items()}

    # ---- checkpoints --------------------------------------------------------------------
    def save(self, directory: Path, config: dict, *, durable: bool = True) -> None:
        meta = {"epoch": self.epoch, "config": config, "backbone": self.cfg["backbone"],
                "classes": list(self.task.classes), "input_size": self.task.input_size,
                "mean": list(self.mean), "std": list(self.std), "seed": self.seed,
                "max_resource": self.max_resource, "weights_source": self.weights_source,
                "pretrained": self.finetune,
                "history": self.history, "best": self.best,
                # The LR schedule and data order are pure functions of these (no hidden state):
                "schedule": {"base_lr": self.cfg["lr"],
                             "global_step": self.epoch * self.steps_per_epoch,
                             "steps_per_epoch": self.steps_per_epoch,
                             "total_steps": self.total_steps, "warmup_steps": self.warmup_steps,
                             "lp_epochs": self.lp_epochs,
                             "backbone_lr_scale": (self.cfg["backbone_lr_scale"]
                                                   if self.finetune else 1.0)},
                "data_order": {"rule": "numpy.random.default_rng([seed, epoch])",
                               "seed": self.seed, "next_epoch": self.epoch},
                "scaler": self.scaler.state_dict() if self.scaler is not None else None}
        previous = read_meta(directory)
        if self.best_state is None and previous and previous.get("best_tensors"):
            meta["best_tensors"] = previous["best_tensors"]
        save_checkpoint(Path(directory), model=self.model, optimizer=self.optimizer,
                        meta=meta, best_state=self.best_state, durable=durable)
        self.best_state = None

    def restore(self, directory: Path, config: dict) -> int:
        """Load the checkpoint in ``directory`` if there is one; return the epoch to start at."""
        found = read_checkpoint(Path(directory))
        if found is None:
            return 0
        meta, tensors = found
        if meta["backbone"] != self.cfg["backbone"] or meta.get("config") != jsonable(config):
            raise ValueError(f"checkpoint in {str(directory)!r} is for config "
                             f"{meta.get('config')!r}, not {config!r}")
        restore_training(meta, tensors, self.model, self.optimizer)
        if self.scaler is not None and meta.get("scaler"):
            self.scaler.load_state_dict(meta["scaler"])
        self.epoch = int(meta["epoch"])
        self.history = list(meta.get("history", []))
        self.best = meta.get("best")
        return self.epoch


def read_meta(directory: Path) -> dict | None:
    import json

    path = Path(directory) / "checkpoint.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _resize(x, px: int):
    """A normalized NCHW batch at ``px`` x ``px`` (bilinear, antialiased), channels_last."""
    import torch
    import torch.nn.functional as F

    x = F.interpolate(x, size=(px, px), mode="bilinear", antialias=True, align_corners=False)
    return x.contiguous(memory_format=torch.channels_last)


def _mean_std(model) -> tuple[tuple[float, ...], tuple[float, ...]]:
    cfg = getattr(model, "pretrained_cfg", None) or {}
    mean, std = cfg.get("mean", IMAGENET_MEAN), cfg.get("std", IMAGENET_STD)
    if len(mean) != 3:
        return IMAGENET_MEAN, IMAGENET_STD
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)


def _make_optimizer(model, cfg: dict, *, head: tuple[str, ...] | None = None):
    """SGD or AdamW, biases and norms without weight decay (timm's rule). With ``head`` (a
    backbone fine-tuned from weights) the head's and the backbone's parameters are groups of
    their own (``role``), the backbone's with ``lr_scale = backbone_lr_scale``."""
    import torch
    from timm.optim import param_groups_weight_decay

    if head is None:
        groups = param_groups_weight_decay(model, cfg["weight_decay"])
    else:
        groups = _finetune_groups(model, cfg["weight_decay"], head, cfg["backbone_lr_scale"])
    if cfg["optimizer"] == "adamw":
        return torch.optim.AdamW(groups, lr=cfg["lr"])
    return torch.optim.SGD(groups, lr=cfg["lr"], momentum=cfg["momentum"])


def _finetune_groups(model, weight_decay: float, head: tuple[str, ...], scale: float) -> list:
    skip = set(model.no_weight_decay()) if hasattr(model, "no_weight_decay") else set()
    groups: dict[tuple[str, bool], list] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        role = "head" if name.startswith(head) else "backbone"
        decay = not (param.ndim <= 1 or name.endswith(".bias") or name in skip)
        groups.setdefault((role, decay), []).append(param)
    return [{"params": params, "weight_decay": weight_decay if decay else 0.0, "role": role,
             "lr_scale": 1.0 if role == "head" else float(scale)}
            for (role, decay), params in sorted(groups.items(), key=lambda kv: kv[0])]


def _make_augment(cfg: dict) -> Augment | None:
    aug = cfg["augment"]
    if aug == "none":
        return None
    scale = (cfg["crop_scale"], 1.0) if "crop" in aug else (1.0, 1.0)
    ratio = (3 / 4, 4 / 3) if "crop" in aug else (1.0, 1.0)
    return Augment(scale=scale, ratio=ratio, flip="flip" in aug)


def _is_oom(err: BaseException) -> bool:
    import torch

    if isinstance(err, getattr(torch, "OutOfMemoryError", ())):
        return True
    text = str(err).lower()
    return "out of memory" in text or "can't allocate memory" in text
