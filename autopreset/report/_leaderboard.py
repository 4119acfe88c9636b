"""The leaderboard (one CSV row per trial, best first) and the latency/metric Pareto front."""
from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from autopreset._atomic import write_bytes_atomic

from ._records import TrialRecord, check_mode, coerce_all, rank

FIXED_COLUMNS = ("rank", "trial_id", "phase", "status", "best_metric", "resource_at_best",
                 "resource_reached", "final_metric", "time_at_best_s", "latency_ms")


def leaderboard_rows(trials: Iterable[TrialRecord | Mapping[str, Any]],
                     mode: str = "max") -> list[dict[str, Any]]:
    """One dict per trial, best first, with the fixed columns then one column per config key.

    Config columns keep the order in which keys first appear; a trial without a key gets "".
    """
    records = rank(coerce_all(trials), mode)
    with_weights = any(r.weights is not None for r in records)   # a "weights" column then
    keys: list[str] = []
    for r in records:
        keys.extend(k for k in r.config if k not in keys)
    rows = []
    for i, r in enumerate(records, start=1):
        best = r.best(mode)
        finite = r.finite_results()
        last = max(finite, key=lambda x: (x["resource"], x.get("time", 0.0))) if finite else None
        row: dict[str, Any] = {
            "rank": i, "trial_id": r.trial_id, "phase": r.phase or "", "status": r.status,
            "best_metric": "" if best is None else float(best["metric"]),
            "resource_at_best": "" if best is None else int(best["resource"]),
            "resource_reached": r.resource_reached(),
            "final_metric": "" if last is None else float(last["metric"]),
            "time_at_best_s": "" if best is None or best.get("time") is None else round(float(best["time"]), 3),
            "latency_ms": "" if r.latency_ms is None else round(r.latency_ms, 4),
        }
        if with_weights:
            row["weights"] = r.weights or ""
        for k in keys:
            row[k if k not in FIXED_COLUMNS and k != "weights" else f"config.{k}"] = _cell(
                r.config.get(k, ""))
        rows.append(row)
    return rows


def write_leaderboard(trials: Iterable[TrialRecord | Mapping[str, Any]], path: str | os.PathLike,
                      mode: str = "max") -> list[dict[str, Any]]:
    """Write ``leaderboard.csv`` atomically (temp file, then ``os.replace``); return its rows.

    >>> write_leaderboard([{"trial_id": 0, "config": {"lr": 0.1}, "status": "completed",
    ...     "results": [{"resource": 1, "metric": 0.9, "time": 2.0}]}], "/tmp/lb.csv")[0]["rank"]
    1
    """
    check_mode(mode)
    rows = leaderboard_rows(trials, mode)
    columns = list(rows[0]) if rows else list(FIXED_COLUMNS)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(Path(path), buf.getvalue().encode("utf-8"))
    return rows


def pareto_front(points: Sequence[Sequence[float]], mode: str = "max") -> list[int]:
    """Indices of the non-dominated ``(latency, metric)`` points, by increasing latency.

    Lower latency is better; the metric is better higher (``mode="max"``) or lower. A point is
    dominated when another is at least as good in both and strictly better in one; equal
    points do not dominate each other, so both stay. Points with a non-finite coordinate are
    never on the front. Sorting once and sweeping makes it O(n log n).

    >>> pareto_front([(1.0, 0.90), (2.0, 0.95), (3.0, 0.93), (0.5, 0.80)])
    [3, 0, 1]
    """
    check_mode(mode)
    sign = 1.0 if mode == "max" else -1.0
    items = []
    for i, p in enumerate(points):
        if len(p) != 2:
            raise ValueError(f"pareto_front needs (latency, metric) pairs; point {i} is {p!r}")
        lat, met = float(p[0]), float(p[1])
        if math.isfinite(lat) and math.isfinite(met):
            items.append((lat, -sign * met, i))  # both coordinates: lower is better
    items.sort()
    front: list[int] = []
    best_so_far = math.inf  # best (lowest) second coordinate among strictly faster points
    j = 0
    while j < len(items):
        k = j
        while k < len(items) and items[k][0] == items[j][0]:
            k += 1
        group = items[j:k]  # same latency: only the best metric in it can be on the front
        g_best = group[0][1]
        if g_best < best_so_far:
            front.extend(i for lat, m, i in group if m == g_best)
            best_so_far = g_best
        j = k
    return front


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and ``os.replace``."""
    write_bytes_atomic(path, data)


def _cell(v: Any) -> Any:
    if isinstance(v, (list, tuple, dict)):
        import json
        return json.dumps(v, sort_keys=True)
    return v
