"""Measured training speed: images per second of a few real optimizer steps per backbone.

Measured on this machine at the working resolution (a handful of SGD steps on random
tensors, after one warm-up step), cached per machine like the latency profiler
(``<cache_dir>/speed/<machine key>.json`` per backbone, size, batch, device and threads), so a
second run on the same machine plans at once. Inference (validation) speed is measured alongside.

    speeds = measure_train_speed(["resnet18", "lcnet_050"], input_size=32, batch_size=64)
    speeds["resnet18"].train_ips      # images per second of training steps
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from ._latency import machine_key
from ._measured import cached_measurements

__all__ = ["TrainSpeed", "measure_train_speed"]


@dataclass(frozen=True)
class TrainSpeed:
    """Training and evaluation throughput (images/s) and the seconds to build the model."""

    name: str
    input_size: int
    batch_size: int
    device: str
    train_ips: float
    eval_ips: float
    build_s: float


def measure_train_speed(names, input_size: int, *, batch_size: int = 64, n_classes: int = 10,
                        device: str = "cpu", threads: int | None = None, steps: int = 3,
                        cache_dir=None, refresh: bool = False) -> dict[str, TrainSpeed]:
    """Measure (or read from the per-machine cache) each backbone's training throughput."""
    import torch

    from ..data import cache_dir as default_cache_dir

    if isinstance(names, str):
        names = [names]
    if threads:
        torch.set_num_threads(int(threads))
    threads = torch.get_num_threads()
    path = default_cache_dir(cache_dir) / "speed" / f"{machine_key(device)}.json"
    keys = {f"{name}|{input_size}|{batch_size}|{device}|{threads}": name for name in names}
    return cached_measurements(
        path, keys, lambda name: _measure(name, int(input_size), int(batch_size), n_classes, device, steps),
        TrainSpeed, refresh=refresh)


def _measure(name, size, batch_size, n_classes, device, steps) -> TrainSpeed:
    import torch

    from ._create import create_backbone

    dev = torch.device(device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    t0 = time.perf_counter()
    model, _ = create_backbone(name, n_classes, pretrained=False)
    model = model.to(dev, memory_format=torch.channels_last).train()
    build_s = time.perf_counter() - t0
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch_size, 3, size, size, generator=gen).to(dev).contiguous(
        memory_format=torch.channels_last)
    y = torch.randint(0, n_classes, (batch_size,), generator=gen).to(dev)
    times = []
    for _ in range(steps + 1):
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        sync()
        times.append(time.perf_counter() - t)
    train_s = min(times[1:])
    model.eval()
    with torch.inference_mode():
        model(x)
        sync()
        t = time.perf_counter()
        model(x)
        sync()
        eval_s = time.perf_counter() - t
    return TrainSpeed(name=name, input_size=size, batch_size=batch_size, device=str(dev),
                      train_ips=batch_size / max(train_s, 1e-9),
                      eval_ips=batch_size / max(eval_s, 1e-9), build_s=build_s)
