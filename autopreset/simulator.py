"""Simulated backend: replay learning curves on a simulated clock with N simulated workers.

A benchmark gives, per config, the metric after each unit of resource and the seconds each unit
takes. ``SimulatedExecutor`` plugs into the ``Tuner`` like any executor, but its clock is
simulated: whole multi-worker tuning runs, deadline included, take seconds without training or
sleeping (the idea of Syne Tune's simulator backend). Benchmarks are also ordinary picklable
objectives (``benchmark(config, reporter)``, instant, with a JSON checkpoint), so the same
problems test the real executors.

    bench = AugmentedBranin(max_resource=81)
    result = Tuner(bench, ASHA(space=bench.space, max_resource=81),
                   executor=SimulatedExecutor(n_workers=4), budget_s=3600).run()

Problems: ``TabularBenchmark`` (recorded curves), ``SyneTuneCurves`` (Syne Tune's test metric
100 / (10 + width * step) + 0.1 * height), ``AugmentedBranin`` and ``AugmentedHartmann``
(BoTorch's multi-fidelity versions: the fidelity s = resource / max_resource enters the
function), and ``LearningCurves`` (families with realistic shapes and per-config costs).
"""
from __future__ import annotations

import heapq
import json
import math
import os
import zlib
from pathlib import Path

import numpy as np

from autopreset.executors._base import Executor, Job
from autopreset.reporting import Reporter
from autopreset.space import Categorical, Float, Ordinal, sample


class CurveBenchmark:
    """Base class: ``curve(config) -> (metrics, seconds)``, arrays of length max_resource."""

    mode = "min"
    max_resource: int
    space: dict
    optimum: float | None = None

    def curve(self, config: dict) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def final(self, config: dict) -> float:
        """The noise-free value at max_resource (what regret is measured on)."""
        return float(self.curve(config)[0][-1])

    def __call__(self, config: dict, reporter: Reporter) -> None:
        """As an objective: continue from the checkpoint, one report per unit, instantly."""
        path = Path(reporter.checkpoint_dir) / "sim_checkpoint.json"
        start = json.loads(path.read_text())["resource"] if path.exists() else 0
        metrics, seconds = self.curve(config)
        reached = start
        for r in range(start + 1, min(reporter.target_resource, self.max_resource) + 1):
            reached = r
            if not reporter.report(resource=r, metric=float(metrics[r - 1]), seconds=float(seconds[r - 1])):
                break
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"resource": reached}))
        os.replace(tmp, path)


def _config_rng(config: dict, seed: int) -> np.random.Generator:
    key = json.dumps(config, sort_keys=True, default=str).encode()
    return np.random.default_rng([zlib.crc32(key), seed])


class TabularBenchmark(CurveBenchmark):
    """Recorded curves: rows of {"config": ..., "metrics": [per unit], "seconds": [per unit] or
    one number}. The space is the row index, so searchers pick among recorded configs."""

    def __init__(self, rows: list[dict], *, mode: str = "min"):
        if not rows:
            raise ValueError("TabularBenchmark needs at least one row")
        lengths = {len(r["metrics"]) for r in rows}
        if len(lengths) != 1:
            raise ValueError(f"all curves must have the same length; got lengths {sorted(lengths)}")
        self.mode = mode
        self.max_resource = lengths.pop()
        self.rows = rows
        self.space = {"row": Categorical(list(range(len(rows))))}
        finals = [float(r["metrics"][-1]) for r in rows if math.isfinite(float(r["metrics"][-1]))]
        self.optimum = (min if mode == "min" else max)(finals) if finals else None

    def curve(self, config: dict) -> tuple[np.ndarray, np.ndarray]:
        row = self.rows[int(config["row"])]
        metrics = np.asarray(row["metrics"], dtype=float)
        seconds = row.get("seconds", 1.0)
        seconds = np.full(self.max_resource, float(seconds)) if np.isscalar(seconds) else np.asarray(seconds, float)
        return metrics, seconds


class SyneTuneCurves(CurveBenchmark):
    """Syne Tune's synthetic scheduler test: metric(step) = 100 / (10 + width * step) + 0.1 * height."""

    def __init__(self, *, max_resource: int = 100, seconds_per_unit: float = 1.0):
        self.max_resource = max_resource
        self.seconds_per_unit = seconds_per_unit
        self.space = {"width": Float(0.0, 20.0), "height": Float(-100.0, 100.0)}
        self.optimum = 100.0 / (10.0 + 20.0 * max_resource) - 10.0

    def curve(self, config: dict) -> tuple[np.ndarray, np.ndarray]:
        steps = np.arange(1, self.max_resource + 1, dtype=float)
        metrics = 100.0 / (10.0 + config["width"] * steps) + 0.1 * config["height"]
        return metrics, np.full(self.max_resource, self.seconds_per_unit)


class AugmentedBranin(CurveBenchmark):
    """BoTorch's AugmentedBranin: x1 in [-5, 10], x2 in [0, 15], fidelity s = r / max_resource;
    t1 = x2 - (5.1 / (4 pi^2) - 0.1 (1 - s)) x1^2 + 5 x1 / pi - 6; f = t1^2 + 10 (1 - 1/(8 pi)) cos x1 + 10.
    Minimum 0.397887 at s = 1. Each unit of resource costs ``seconds_per_unit``. The fidelity
    runs from ``min_fidelity`` to 1: s = min_fidelity + (1 - min_fidelity) r / max_resource
    (BoTorch's discrete-fidelity tutorial uses s in {0.5, 0.75, 1})."""

    optimum = 0.397887

    def __init__(self, *, max_resource: int = 81, seconds_per_unit: float = 1.0, min_fidelity: float = 0.0):
        self.max_resource = max_resource
        self.seconds_per_unit = seconds_per_unit
        self.min_fidelity = min_fidelity
        self.space = {"x1": Float(-5.0, 10.0), "x2": Float(0.0, 15.0)}

    def curve(self, config: dict) -> tuple[np.ndarray, np.ndarray]:
        s = self.min_fidelity + (1 - self.min_fidelity) * np.arange(1, self.max_resource + 1) / self.max_resource
        x1, x2 = config["x1"], config["x2"]
        t1 = x2 - (5.1 / (4 * math.pi ** 2) - 0.1 * (1 - s)) * x1 ** 2 + 5 / math.pi * x1 - 6
        f = t1 ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10
        return f, np.full(self.max_resource, self.seconds_per_unit)


class AugmentedHartmann(CurveBenchmark):
    """BoTorch's AugmentedHartmann (6-d): the first coefficient alpha_1 becomes
    alpha_1 - 0.1 (1 - s) with fidelity s = min_fidelity + (1 - min_fidelity) r / max_resource.
    Minimum -3.32237 at s = 1."""

    optimum = -3.32237
    _ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
    _A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                   [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
    _P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                          [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])

    def __init__(self, *, max_resource: int = 81, seconds_per_unit: float = 1.0, min_fidelity: float = 0.0):
        self.max_resource = max_resource
        self.seconds_per_unit = seconds_per_unit
        self.min_fidelity = min_fidelity
        self.space = {f"x{i}": Float(0.0, 1.0) for i in range(1, 7)}

    def curve(self, config: dict) -> tuple[np.ndarray, np.ndarray]:
        x = np.array([config[f"x{i}"] for i in range(1, 7)])
        inner = np.exp(-np.sum(self._A * (x - self._P) ** 2, axis=1))   # (4,)
        s = self.min_fidelity + (1 - self.min_fidelity) * np.arange(1, self.max_resource + 1) / self.max_resource
        f = -(self._ALPHA[0] - 0.1 * (1 - s)) * inner[0] - float(self._ALPHA[1:] @ inner[1:])
        return f, np.full(self.max_resource, self.seconds_per_unit)


class LearningCurves(CurveBenchmark):
    """Validation-error curves with realistic shapes and costs for an image classifier's
    hyperparameters (lr, width, batch size, weight decay).

    ``shape="power"``: e(t) = e_inf + (0.9 - e_inf)(1 + t / tau)^-alpha, a power-law approach to
    an asymptote set by lr (a sweet spot that shifts with batch size), width and weight decay;
    wide nets and big batches learn slower per epoch but end lower, so curves cross.
    ``shape="overfit"``: the same, plus a late rise of the error for weakly regularised wide nets
    (validation error turns up after its minimum), so early leaders can lose at the end.
    Too large a learning rate diverges (error stays at chance, 0.9); beyond it the loss is NaN.
    Seconds per epoch grow with width and shrink with batch size (2 s to ~15 s), with +-5% jitter;
    metrics carry Gaussian noise (sd ``noise``), reproducible per config and seed.
    """

    def __init__(self, *, shape: str = "power", max_resource: int = 81, noise: float = 0.005, seed: int = 0):
        if shape not in ("power", "overfit"):
            raise ValueError(f"shape must be 'power' or 'overfit'; got {shape!r}")
        self.shape, self.max_resource, self.noise, self.seed = shape, max_resource, noise, seed
        self.space = {"lr": Float(1e-5, 1.0, log=True), "width": Ordinal([16, 32, 64, 128, 256]),
                      "batch_size": Ordinal([32, 64, 128, 256]), "weight_decay": Float(1e-6, 1e-2, log=True),
                      "momentum": Float(0.8, 0.99)}
        self._optimum = None

    def _clean_curve(self, c: dict) -> tuple[np.ndarray, float]:
        lr, w, b, wd, mom = c["lr"], c["width"], c["batch_size"], c["weight_decay"], c["momentum"]
        t = np.arange(1, self.max_resource + 1, dtype=float)
        lr_opt = 0.03 * math.sqrt(b / 64) * (1 - 0.9) / (1 - mom)   # effective step size lr / (1 - momentum)
        gap = math.log10(lr / lr_opt)
        e_inf = (0.03 + 0.06 * gap ** 2 + 0.08 / math.sqrt(w / 16)
                 + 0.015 * (math.log10(wd) + 3.5) ** 2 + 0.5 * (mom - 0.9) ** 2)
        tau = 1.5 * (w / 16) ** 0.25 * math.sqrt(b / 64) / min(10.0, (lr / lr_opt) ** 0.4)
        e = e_inf + (0.9 - e_inf) * (1 + t / tau) ** -1.0
        if self.shape == "overfit":
            strength = 0.2 * math.sqrt(w / 256) * max(0.0, -math.log10(wd) - 3.0) / 3.0
            onset = 8 * tau
            e = e + strength * np.clip((t - onset) / self.max_resource, 0, None)
        if gap > 1.3:   # 20x too large a step: training diverges, error stays at chance
            e = np.full_like(t, 0.9)
        e = np.minimum(e, 0.9)
        seconds = 2.0 * (w / 16) ** 0.7 * (64 / b) ** 0.2
        return e, seconds

    def curve(self, config: dict) -> tuple[np.ndarray, np.ndarray]:
        e, sec = self._clean_curve(config)
        rng = _config_rng(config, self.seed)
        metrics = np.clip(e + rng.normal(0.0, self.noise, size=e.shape), 0.0, 1.0)
        if config["lr"] > 0.5:
            metrics[min(2, len(metrics) - 1):] = np.nan   # the loss blew up
        seconds = sec * rng.uniform(0.95, 1.05, size=e.shape)
        return metrics, seconds

    def final(self, config: dict) -> float:
        return float(self._clean_curve(config)[0][-1])

    @property
    def optimum(self) -> float:
        """Best noise-free final error, from 20,000 configs sampled with a fixed seed."""
        if self._optimum is None:
            rng = np.random.default_rng(12345)
            self._optimum = min(self.final(sample(self.space, rng)) for _ in range(20_000))
        return self._optimum


class SimulatedExecutor(Executor):
    """Runs a ``CurveBenchmark`` objective on a simulated clock with ``n_workers`` workers.

    A job resumes from the simulated checkpoint of its trial (the last resource it reported)
    and reports one unit at a time, each ``seconds[r]`` later, plus ``overhead_s`` per job
    start. ``wait`` jumps the clock to the next event; at the deadline, running jobs end at once.
    """

    simulated = True

    def __init__(self, n_workers: int = 1, *, overhead_s: float = 0.0):
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            raise ValueError(f"n_workers must be a positive integer; got {n_workers!r}")
        self.n_workers = n_workers
        self.overhead_s = float(overhead_s)
        self._now = 0.0
        self._heap: list[tuple[float, int, int]] = []
        self._jobs: dict[int, tuple[Job, np.ndarray, np.ndarray, int]] = {}
        self._ckpt: dict[int, int] = {}
        self._seq = 0

    def clock(self) -> float:
        return self._now

    def start(self, objective, *, on_report, on_done) -> None:
        if not isinstance(objective, CurveBenchmark):
            raise ValueError(f"SimulatedExecutor runs CurveBenchmark objectives; got {type(objective).__name__}")
        super().start(objective, on_report=on_report, on_done=on_done)

    @property
    def n_running(self) -> int:
        return len(self._jobs)

    def submit(self, job: Job) -> None:
        if len(self._jobs) >= self.n_workers:
            raise ValueError(f"no free simulated worker for trial {job.trial_id}")
        metrics, seconds = self._objective.curve(job.config)
        if job.trial_id not in self._ckpt:   # a trial from an earlier run may have a checkpoint file
            path = Path(job.checkpoint_dir) / "sim_checkpoint.json"
            self._ckpt[job.trial_id] = json.loads(path.read_text())["resource"] if path.exists() else 0
        start = self._ckpt[job.trial_id]
        if start >= min(job.target_resource, len(metrics)):
            self._jobs[job.trial_id] = (job, metrics, seconds, start)
            self._push(self._now + self.overhead_s, job.trial_id)   # nothing to do: ends at once
            return
        self._jobs[job.trial_id] = (job, metrics, seconds, start + 1)
        self._push(self._now + self.overhead_s + float(seconds[start]), job.trial_id)

    def _push(self, t: float, tid: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, tid))

    def wait(self, timeout: float) -> None:
        horizon = self._now + max(0.0, timeout)
        while self._heap and self._heap[0][0] <= horizon:
            t, _, tid = heapq.heappop(self._heap)
            self._now = max(self._now, t)
            job, metrics, seconds, r = self._jobs[tid]
            if r > min(job.target_resource, len(metrics)) or r == self._ckpt.get(tid, 0):
                del self._jobs[tid]
                self._on_done(tid, None)
                return
            go = self._on_report(tid, {"resource": r, "metric": float(metrics[r - 1]), "seconds": float(seconds[r - 1])})
            self._ckpt[tid] = r
            if go and r < min(job.target_resource, len(metrics)):
                self._jobs[tid] = (job, metrics, seconds, r + 1)
                self._push(self._now + float(seconds[r]), tid)
            else:
                del self._jobs[tid]
                self._on_done(tid, None)
                return
        if not self._heap or self._heap[0][0] > horizon:
            self._now = max(self._now, horizon) if math.isfinite(horizon) else self._now

    def stop(self, grace_s: float, *, reason: str = "") -> None:
        """The deadline: every running job ends now (the unit in progress is lost)."""
        self._heap.clear()
        for tid in list(self._jobs):
            del self._jobs[tid]
            self._on_done(tid, None)
