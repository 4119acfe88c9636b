"""On-device latency profiler: batch-1 p50/p95 latency and throughput per backbone.

Latency decides which backbones satisfy ``--prefer latency`` or ``--max-latency-ms``, and it
depends on this machine, so it is measured here, not looked up. Results are cached in
``<cache_dir>/latency/<machine key>.json`` per (backbone, input size, device, threads); the
machine key hashes the CPU model, core count, GPU name and torch version, so another
machine or a torch upgrade measures afresh.

    prof = profile_latency(["resnet18", "mobilenetv3_small_100"], input_size=64)
    prof["resnet18"].p50_ms
"""
from __future__ import annotations

import hashlib
import os
import platform
import time
from dataclasses import dataclass

import numpy as np

from ._measured import cached_measurements

__all__ = ["LatencyResult", "profile_latency", "machine_key"]


@dataclass(frozen=True)
class LatencyResult:
    """Batch-1 latency quantiles (ms) and batched inference throughput (images/s)."""

    name: str
    input_size: int
    device: str
    threads: int
    p50_ms: float
    p95_ms: float
    throughput: float
    batch_size: int
    n_runs: int


def cpu_model() -> str:
    """This machine's CPU model name (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_key(device: str = "cpu") -> str:
    """A short hash naming this machine's compute (CPU model, cores, GPU, torch version)."""
    import torch

    cpu = cpu_model()
    gpu = torch.cuda.get_device_name(0) if device.startswith("cuda") else ""
    text = f"{cpu}|{os.cpu_count()}|{gpu}|{torch.__version__}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def profile_latency(names, input_size: int, *, device: str = "cpu", threads: int | None = None,
                    cache_dir=None, batch_size: int = 32, max_seconds: float = 3.0,
                    refresh: bool = False) -> dict[str, LatencyResult]:
    """Measure (or read from the cache) each backbone's latency on ``device``.

    Each backbone gets a few warm-up runs, then batch-1 timed runs until ``max_seconds``
    have passed (at least 5, at most 200), then a throughput pass at ``batch_size``.
    """
    import torch

    from ..data import cache_dir as default_cache_dir

    if isinstance(names, str):
        names = [names]
    if int(input_size) != input_size or input_size < 8:
        raise ValueError(f"input_size must be an integer >= 8, got {input_size!r}")
    if threads:
        torch.set_num_threads(int(threads))
    threads = torch.get_num_threads()
    path = default_cache_dir(cache_dir) / "latency" / f"{machine_key(device)}.json"
    keys = {f"{name}|{input_size}|{device}|{threads}": name for name in names}
    return cached_measurements(
        path, keys, lambda name: _measure(name, int(input_size), device, threads, batch_size, max_seconds),
        LatencyResult, refresh=refresh)


def _measure(name, input_size, device, threads, batch_size, max_seconds) -> LatencyResult:
    import timm
    import torch

    dev = torch.device(device)
    model = timm.create_model(name, pretrained=False, num_classes=10).eval()
    model = model.to(dev, memory_format=torch.channels_last)
    x1 = torch.randn(1, 3, input_size, input_size, device=dev).contiguous(
        memory_format=torch.channels_last)
    xb = torch.randn(batch_size, 3, input_size, input_size, device=dev).contiguous(
        memory_format=torch.channels_last)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    times = []
    with torch.inference_mode():
        for _ in range(3):
            model(x1)
        sync()
        deadline = time.perf_counter() + max_seconds / 2
        while len(times) < 200 and (len(times) < 5 or time.perf_counter() < deadline):
            t0 = time.perf_counter()
            model(x1)
            sync()
            times.append(time.perf_counter() - t0)
        model(xb)
        sync()
        n_img, t0 = 0, time.perf_counter()
        while n_img < 3 * batch_size or time.perf_counter() - t0 < max_seconds / 4:
            model(xb)
            n_img += batch_size
            if n_img >= 50 * batch_size:
                break
        sync()
        elapsed = time.perf_counter() - t0
    ms = np.asarray(times) * 1000
    return LatencyResult(name=name, input_size=input_size, device=str(dev), threads=threads,
                         p50_ms=float(np.percentile(ms, 50)), p95_ms=float(np.percentile(ms, 95)),
                         throughput=n_img / elapsed, batch_size=batch_size, n_runs=len(times))
