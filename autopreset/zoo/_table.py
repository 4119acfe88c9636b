"""The zoo's records as arrays, and what portfolios are judged by: normalized regret.

    table = ZooTable.load("zoo_results")          # every task, the configs recorded on all
    r = table.regret(horizon=27)                  # (tasks, configs), 0 = the task's best config
    table.subset(tasks=[...])                     # e.g. all tasks but one, for leave-one-out

Value of a cell at horizon h: the best validation accuracy within its first h epochs (fit keeps
the best epoch's weights). A run that diverged keeps the best it reached, or chance if it never
finished an epoch. Normalized regret on a task is ``(best - value) / (best - worst)`` over the
table's configs at that horizon (Auto-sklearn 2.0's min-max normalization), so every task counts
the same whatever its accuracy range.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autopreset.errors import InputError

__all__ = ["ZooTable", "normalized_regret", "expected_random_regret"]


@dataclass(frozen=True)
class ZooTable:
    tasks: tuple[str, ...]
    task_info: tuple[dict, ...]
    configs: tuple[dict, ...]          # {"id", "config", "source"}
    acc: np.ndarray                    # (T, C, H) validation accuracy per epoch, NaN after a failure
    seconds: np.ndarray                # (T, C, H) seconds per epoch (CPU seconds on 1 CPU thread)
    latency_ms: np.ndarray             # (T, C) batch-1 p50 at the task's resolution
    failed: np.ndarray                 # (T, C) bool
    files: tuple[tuple[str, str], ...] = ()   # (records file, sha256)
    machines: tuple[dict, ...] = field(default=())
    cell_sha256: np.ndarray | None = None      # (T, C) SHA-256 of each cell's record

    @property
    def horizon(self) -> int:
        return int(self.acc.shape[2])

    @property
    def ids(self) -> list[str]:
        return [c["id"] for c in self.configs]

    def cells_sha256(self) -> str:
        """One SHA-256 over the records of every cell the table holds (task key, config id and
        each record's canonical JSON, sorted by task and config): the same for the same cells
        however many more the zoo's files hold since, and different if any of them changed."""
        if self.cell_sha256 is None:
            raise InputError("this zoo table was not loaded from records: it has no cell digests")
        lines = sorted(f"{info.get('key')} {c['id']} {self.cell_sha256[ti, ci]}"
                       for ti, info in enumerate(self.task_info)
                       for ci, c in enumerate(self.configs))
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    @classmethod
    def load(cls, out: str | os.PathLike, *, horizon: int = 27, tasks: list[str] | None = None,
             min_tasks: int = 1, configs: list[str] | None = None) -> "ZooTable":
        """Every recorded task (or those named), and the configs recorded on all of them (or
        those of ``configs``, by id, each of which must be recorded on every task)."""
        from ._run import read_records

        out = Path(out)
        digests: dict[str, str] = {}
        rows = [r for r in read_records(out, digests=digests) if int(r["horizon"]) == horizon]
        if not rows:
            raise InputError(f"{out}: no zoo records at horizon {horizon} under {out / 'records'}")
        by_task: dict[str, dict[str, dict]] = {}
        info: dict[str, dict] = {}
        order: dict[str, tuple[int, dict]] = {}
        for r in rows:
            name = r["task"]["name"]
            by_task.setdefault(name, {})[r["config_id"]] = r
            info[name] = r["task"]
            order.setdefault(r["config_id"], (int(r.get("rank", 0)),
                                              {"id": r["config_id"], "config": r["config"],
                                               "source": r.get("source")}))
        names = sorted(by_task) if tasks is None else list(tasks)
        missing = [t for t in names if t not in by_task]
        if missing:
            raise InputError(f"{out}: no records of task {missing[0]!r}")
        if len(names) < min_tasks:
            raise InputError(f"{out}: {len(names)} task(s) recorded, at least {min_tasks} needed")
        ids = [cid for cid, _ in sorted(order.items(), key=lambda kv: kv[1][0])
               if all(cid in by_task[t] for t in names)]
        if configs is not None:
            for cid in configs:
                gap = next((t for t in names if cid not in by_task[t]), None)
                if gap is not None:
                    raise InputError(f"{out}: config {cid!r} is not recorded on task {gap!r}")
            wanted = set(configs)
            ids = [cid for cid in ids if cid in wanted]
        if not ids:
            raise InputError(f"{out}: no config is recorded on all {len(names)} tasks")
        T, C = len(names), len(ids)
        acc = np.full((T, C, horizon), np.nan)
        sec = np.full((T, C, horizon), np.nan)
        lat = np.full((T, C), np.nan)
        failed = np.zeros((T, C), bool)
        cells = np.empty((T, C), object)
        machines = {}
        for ti, t in enumerate(names):
            for ci, cid in enumerate(ids):
                r = by_task[t][cid]
                e = r["epochs"]
                n = len(e["val_acc"])
                acc[ti, ci, :n] = e["val_acc"]
                m = r.get("machine", {})
                one_cpu = m.get("device", "cpu") == "cpu" and int(m.get("threads", 0)) == 1
                sec[ti, ci, :n] = e["cpu_seconds"] if one_cpu and e.get("cpu_seconds") else e["seconds"]
                lat[ti, ci] = r.get("latency_ms", {}).get("p50_ms", np.nan)
                failed[ti, ci] = bool(r.get("error"))
                cells[ti, ci] = hashlib.sha256(json.dumps(
                    r, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
                machines[m.get("cpu", "?") + "|" + m.get("device", "?")] = m
        files = tuple((f"records/{name}", digest) for name, digest in sorted(digests.items()))
        return cls(tuple(names), tuple(info[t] for t in names), tuple(order[c][1] for c in ids),
                   acc, sec, lat, failed, files, tuple(machines.values()), cells)

    def chance(self) -> np.ndarray:
        return np.array([1.0 / max(2, int(i.get("n_classes", 2))) for i in self.task_info])

    def value(self, horizon: int | None = None) -> np.ndarray:
        """(T, C) best validation accuracy within the first ``horizon`` epochs."""
        h = self.horizon if horizon is None else int(horizon)
        if not 1 <= h <= self.horizon:
            raise InputError(f"horizon must be in 1..{self.horizon}, got {horizon!r}")
        part = self.acc[:, :, :h]
        best = np.where(np.isnan(part), -np.inf, part).max(axis=2)
        return np.where(np.isfinite(best), best, self.chance()[:, None])

    def regret(self, horizon: int | None = None) -> np.ndarray:
        return normalized_regret(self.value(horizon))

    def cost(self, horizon: int | None = None) -> np.ndarray:
        """(T, C) seconds to train ``horizon`` epochs (a failed run costs what it ran)."""
        h = self.horizon if horizon is None else int(horizon)
        return np.nansum(self.seconds[:, :, :h], axis=2)

    def tiers(self) -> list[str]:
        from autopreset.backbones import get_spec

        return [get_spec(c["config"]["backbone"]).tier for c in self.configs]

    def subset(self, *, tasks: list[str] | None = None, configs: list[int] | None = None) -> "ZooTable":
        ti = [self.tasks.index(t) for t in tasks] if tasks is not None else list(range(len(self.tasks)))
        ci = list(configs) if configs is not None else list(range(len(self.configs)))
        ix = np.ix_(ti, ci)
        return ZooTable(tuple(self.tasks[i] for i in ti), tuple(self.task_info[i] for i in ti),
                        tuple(self.configs[i] for i in ci), self.acc[ix], self.seconds[ix],
                        self.latency_ms[ix], self.failed[ix], self.files, self.machines,
                        None if self.cell_sha256 is None else self.cell_sha256[ix])

    def without_born_of(self, task: str) -> "ZooTable":
        """The table without the candidates made from ``task``'s own curves (local candidates,
        ``source`` ``local:<task>:...``: :func:`~._candidates.local_candidates`), for a fold
        that leaves ``task`` out: what was chosen on a task's validation split must not stand
        for transfer to it."""
        keep = [i for i, c in enumerate(self.configs)
                if not str(c.get("source") or "").startswith(f"local:{task}:")]
        return self if len(keep) == len(self.configs) else self.subset(configs=keep)


def normalized_regret(value: np.ndarray) -> np.ndarray:
    """(T, C) values (higher is better) to (best - v) / (best - worst) per task, in [0, 1]."""
    best = value.max(axis=1, keepdims=True)
    worst = value.min(axis=1, keepdims=True)
    span = np.where(best - worst > 0, best - worst, 1.0)
    return (best - value) / span


def expected_random_regret(regret_row: np.ndarray, k: int) -> float:
    """Expected min regret of ``k`` configs drawn without replacement from one task's row
    (exact: the j-th smallest is the minimum with probability C(n-j, k-1) / C(n, k))."""
    from math import comb

    r = np.sort(np.asarray(regret_row, float))
    n = len(r)
    k = min(k, n)
    total = comb(n, k)
    return float(sum(r[j] * comb(n - 1 - j, k - 1) for j in range(n - k + 1)) / total)
