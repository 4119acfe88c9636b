"""Greedy portfolios from the zoo, and the preset files that ship them.

Greedy forward selection (Auto-sklearn 2.0, Feurer et al. 2022, Algorithm 1): start empty and
repeatedly add the config that most lowers the mean over tasks of the portfolio's normalized
regret, the regret of its best member on each task. Ties go to the cheaper config (fewer
seconds to train the horizon), so a budget that affords only the first few reaches the fast
ones. Once every task is covered as well as the candidates allow, the rest follow by their
own mean regret (the most robust single configs first).

    order = greedy_portfolio(table.regret(27), k=12, allowed=mask, cost=table.cost(27).mean(0))
    doc = build_preset(table, name="latency", tiers=("tiny", "small"), horizon=27, k=12)
"""
from __future__ import annotations

import datetime as dt
import platform

import numpy as np

from autopreset.errors import InputError

from ._table import ZooTable

__all__ = ["greedy_portfolio", "portfolio_regret", "build_preset", "PRESET_TIERS"]

#: The shipped presets, each a greedy portfolio over the candidates of these tiers.
PRESET_TIERS = {
    "latency": ("tiny", "small"),
    "default": ("tiny", "small", "medium"),
    "accuracy": ("tiny", "small", "medium", "large"),
}


def greedy_portfolio(regret: np.ndarray, k: int, *, allowed: np.ndarray | None = None,
                     cost: np.ndarray | None = None) -> list[int]:
    """Indices of ``k`` configs (columns of the (tasks, configs) ``regret``), in order."""
    regret = np.asarray(regret, float)
    T, C = regret.shape
    ok = np.ones(C, bool) if allowed is None else np.asarray(allowed, bool)
    cost = np.zeros(C) if cost is None else np.asarray(cost, float)
    chosen: list[int] = []
    current = np.full(T, np.inf)
    for _ in range(min(k, int(ok.sum()))):
        best, best_key = -1, None
        for c in np.flatnonzero(ok):
            if c in chosen:
                continue
            score = float(np.minimum(current, regret[:, c]).mean())
            key = (round(score, 12), round(float(regret[:, c].mean()), 12), cost[c], c)
            if best_key is None or key < best_key:
                best, best_key = int(c), key
        chosen.append(best)
        current = np.minimum(current, regret[:, best])
    return chosen


def portfolio_regret(regret: np.ndarray, order: list[int], k: int) -> np.ndarray:
    """(tasks,) regret of the first ``k`` configs of ``order``: the best member per task."""
    return np.asarray(regret)[:, list(order[:k])].min(axis=1)


def _versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("autopreset", "torch", "timm", "numpy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def build_preset(table: ZooTable, *, name: str, tiers: tuple[str, ...], horizon: int = 27,
                 k: int = 12, description: str = "", command: str = "",
                 zoo_dir: str = "zoo_results") -> dict:
    """A preset document: the greedy portfolio of ``table``'s configs in ``tiers`` at
    ``horizon``, the default preset's space widened to every config it holds, and provenance
    (zoo files and their hashes, tasks, machines, date, versions, the command)."""
    from autopreset.backbones import get_spec
    from autopreset.portfolio import load_preset
    from autopreset.space import Ordinal, space_to_json

    from ._candidates import CROP_SCALES

    tier_of = table.tiers()
    allowed = np.array([t in tiers for t in tier_of])
    if not allowed.any():
        raise InputError(f"no zoo config has a backbone of tier {'/'.join(tiers)}")
    regret = table.regret(horizon)
    cost = table.cost(horizon).mean(axis=0)
    order = greedy_portfolio(regret, k, allowed=allowed, cost=cost)
    base = load_preset("default")
    space = dict(base.space)
    picked = [table.configs[i]["config"] for i in order]
    backbones = sorted({c["config"]["backbone"] for c, a in zip(table.configs, allowed) if a},
                       key=lambda b: (get_spec(b).params_m, b))
    space["backbone"] = Ordinal(backbones)
    space["crop_scale"] = Ordinal(sorted(set(CROP_SCALES) | {c["crop_scale"] for c in picked}))
    for key in ("lr", "weight_decay", "momentum", "label_smoothing"):
        dom = space.get(key)
        values = [c[key] for c in picked if key in c]
        if dom is not None and values and hasattr(dom, "low"):
            space[key] = type(dom)(min(dom.low, min(values)), max(dom.high, max(values)), log=dom.log)
    mean_r = regret.mean(axis=0)
    entries = []
    for rank, i in enumerate(order):
        cfg = dict(table.configs[i]["config"])
        gain = portfolio_regret(regret, order, rank) if rank else np.ones(len(table.tasks))
        now = portfolio_regret(regret, order, rank + 1)
        wins = [t for t, r in zip(table.tasks, regret[:, i]) if r == 0.0]
        entries.append({
            "config": cfg,
            "reason": (f"greedy pick {rank + 1} at {horizon} epochs: portfolio mean normalized regret "
                       f"{float(gain.mean()):.3f} -> {float(now.mean()):.3f} over {len(table.tasks)} zoo "
                       f"tasks; alone {float(mean_r[i]):.3f}; best config on "
                       f"{', '.join(wins) if wins else 'no task'}; zoo config {table.configs[i]['id']} "
                       f"({table.configs[i].get('source')})"),
            "tags": ["zoo", f"greedy-{rank + 1}", str(table.configs[i].get("source", "")).split(":")[0]],
            "tier": tier_of[i],
        })
    final = portfolio_regret(regret, order, len(order))
    machines = sorted({f"{m.get('cpu')} ({m.get('device')}, {m.get('threads')} thread(s))"
                       for m in table.machines})
    doc = {
        "format": "autopreset.preset/1",
        "name": name,
        "description": description or (
            f"Zoo-built: greedy portfolio of {len(order)} configs over backbones of tier "
            f"{', '.join(tiers)}, chosen on recorded learning curves of {len(table.configs)} configs "
            f"x {len(table.tasks)} tasks at {horizon} epochs (mean normalized regret "
            f"{float(final.mean()):.3f})."),
        "provenance": {
            "sources": [f"zoo records: {zoo_dir}/{path} sha256:{digest}" for path, digest in table.files]
                       + ["Feurer et al. 2022, Auto-sklearn 2.0 (greedy portfolio on normalized regret)"],
            "datasets": [f"{t} ({i.get('n_train')} train / {i.get('n_val')} validation images, "
                         f"{i.get('n_classes')} classes, {i.get('resolution')} px; key {i.get('key')})"
                         for t, i in zip(table.tasks, table.task_info)],
            "date": dt.date.today().isoformat(),
            "versions": _versions(),
            "command": command or "autopreset zoo portfolio",
            "zoo": {"files": [{"path": f"{zoo_dir}/{path}", "sha256": digest} for path, digest in table.files],
                    "tasks": [f"{t} {i.get('key')}" for t, i in zip(table.tasks, table.task_info)],
                    "horizon": int(horizon), "configs": len(table.configs), "machines": machines},
            "curation": ("Greedy forward selection "
                         f"minimizing mean normalized regret (best-within-{horizon}-epochs validation "
                         f"accuracy, min-max normalized per task over the zoo's configs) over "
                         f"{int(allowed.sum())} candidate configs of tier {', '.join(tiers)}; ties to the "
                         f"cheaper config. Validation splits only: no test split was read. Machines: "
                         f"{'; '.join(machines)}. Portfolio regret by size: "
                         + ", ".join(f"k={n} {float(portfolio_regret(regret, order, n).mean()):.3f}"
                                     for n in (1, 2, 4, 8, len(order)) if n <= len(order))),
        },
        "space": space_to_json(space),
        "portfolio": entries,
        "hyperband": {"eta": 3, "min_resource": 1, "max_resource": int(horizon), "resource": "epochs"},
    }
    from autopreset.portfolio import Preset

    Preset.from_json(doc, source=f"preset {name!r}")      # validate before anyone writes it
    return doc
