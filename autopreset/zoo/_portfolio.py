"""Greedy portfolios from the zoo, and the preset files that ship them.

Greedy forward selection (Auto-sklearn 2.0, Feurer et al. 2022, Algorithm 1): start empty and
repeatedly add the config that most lowers the mean over tasks of the portfolio's normalized
regret, the regret of its best member on each task. Ties go to the cheaper config (fewer
seconds to train the horizon), so a budget that affords only the first few reaches the fast
ones. Once every task is covered as well as the candidates allow, the rest follow by their
own mean regret (the most robust single configs first).

    order = greedy_portfolio(table.regret(27), k=12, allowed=mask, cost=table.cost(27).mean(0))
    doc = build_preset(table, name="latency", tiers=("tiny", "small"), horizon=27, k=12)

One preset serves every ``--prefer``: fit keeps the fastest third (latency), two thirds
(balanced) or all (accuracy) of the portfolio's backbones, so the portfolio is chosen for all
three at once (``greedy_by_preference``): each candidate is scored by the mean, over the three
preferences, of the regret of the portfolio's members that preference keeps, normalized among
the configs that preference allows. A fast config counts for every preference, a slow one for
accuracy only; the order then reads well whichever prefix a preference keeps.
"""
from __future__ import annotations

import datetime as dt
import platform

import numpy as np

from autopreset.errors import InputError

from ._table import ZooTable, normalized_regret

__all__ = ["greedy_portfolio", "greedy_by_preference", "preference_groups", "portfolio_regret",
           "build_preset", "check_preset", "PRESET_TIERS", "PREFERENCE_SHARES"]

#: As fit's --prefer (autopreset.pipeline.SHARES): the share of backbones, fastest first, kept.
PREFERENCE_SHARES = {"latency": 1 / 3, "balanced": 2 / 3, "accuracy": 1.0}

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


def preference_groups(table: ZooTable, allowed: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Config masks per preference: the configs whose backbone is among the fastest third,
    two thirds or all of the ``allowed`` configs' backbones, by the zoo's measured batch-1
    latency (median over tasks)."""
    import math

    allowed = np.ones(len(table.configs), bool) if allowed is None else np.asarray(allowed, bool)
    backbones = [c["config"]["backbone"] for c in table.configs]
    lat: dict[str, list[float]] = {}
    for j, b in enumerate(backbones):
        if allowed[j]:
            lat.setdefault(b, []).extend(v for v in table.latency_ms[:, j] if np.isfinite(v))
    ranked = sorted(lat, key=lambda b: (float(np.median(lat[b])) if lat[b] else math.inf, b))
    groups = {}
    for pref, share in PREFERENCE_SHARES.items():
        keep = set(ranked[:max(1, math.ceil(share * len(ranked) - 1e-9))])
        groups[pref] = np.array([allowed[j] and b in keep for j, b in enumerate(backbones)])
    return groups


def greedy_by_preference(value: np.ndarray, k: int, groups: dict[str, np.ndarray], *,
                         cost: np.ndarray | None = None) -> list[int]:
    """Greedy forward selection on the mean over ``groups`` (config masks) of each group's
    portfolio regret, normalized within the group; a config outside a group leaves that
    group's term as it is. ``value``: (tasks, configs), higher is better."""
    value = np.asarray(value, float)
    T, C = value.shape
    cost = np.zeros(C) if cost is None else np.asarray(cost, float)
    masks = [np.asarray(m, bool) for m in groups.values()]
    regrets = []
    for m in masks:
        r = np.full((T, C), np.nan)
        if m.any():
            r[:, m] = normalized_regret(value[:, m])
        regrets.append(r)
    union = np.any(masks, axis=0)
    current = [np.ones(T) for _ in masks]            # an empty portfolio: the worst regret
    stacked = np.stack(regrets)                      # (groups, tasks, configs), NaN outside a group
    seen = np.isfinite(stacked).sum(axis=(0, 1))
    mean_alone = np.where(seen > 0, np.nansum(stacked, axis=(0, 1)) / np.maximum(seen, 1), 1.0)
    chosen: list[int] = []
    for _ in range(min(k, int(union.sum()))):
        best, best_key = -1, None
        for c in np.flatnonzero(union):
            if c in chosen:
                continue
            score = float(np.mean([np.minimum(cur, r[:, c]).mean() if m[c] else cur.mean()
                                   for cur, r, m in zip(current, regrets, masks)]))
            key = (round(score, 12), round(float(mean_alone[c]), 12), cost[c], c)
            if best_key is None or key < best_key:
                best, best_key = int(c), key
        chosen.append(best)
        current = [np.minimum(cur, r[:, best]) if m[best] else cur
                   for cur, r, m in zip(current, regrets, masks)]
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
                 zoo_dir: str = "zoo_results", proposals: str = "random",
                 inner: str = "hyperband", max_resource: int | None = None) -> dict:
    """A preset document: the greedy portfolio of ``table``'s configs in ``tiers`` at
    ``horizon``, the default preset's space widened to every config it holds, and provenance
    (zoo files and their hashes, tasks, machines, date, versions, the command). ``proposals``
    and ``inner``: what fit runs after the portfolio (the replay study decides:
    benchmarks/portfolio_replay.py). ``max_resource``: the longest schedule fit may give a trial
    (default ``horizon``; a preset for long budgets may allow more than the zoo recorded)."""
    from autopreset.backbones import get_spec
    from autopreset.space import Ordinal, space_to_json

    from ._candidates import CROP_SCALES, zoo_space

    tier_of = table.tiers()
    allowed = np.array([t in tiers for t in tier_of])
    if not allowed.any():
        raise InputError(f"no zoo config has a backbone of tier {'/'.join(tiers)}")
    value = table.value(horizon)
    regret = np.full(value.shape, np.nan)
    regret[:, allowed] = normalized_regret(value[:, allowed])   # among the configs allowed here
    cost = table.cost(horizon).mean(axis=0)
    groups = preference_groups(table, allowed)
    order = greedy_by_preference(value, k, groups, cost=cost)
    space = zoo_space()
    picked = [table.configs[i]["config"] for i in order]
    latency = {}
    for j, c in enumerate(table.configs):
        if allowed[j]:
            latency.setdefault(c["config"]["backbone"], []).extend(table.latency_ms[:, j].tolist())
    # fastest first, as the curated space was ordered (narrowing keeps ordinal neighbours)
    backbones = sorted(latency, key=lambda b: (float(np.nanmedian(latency[b])), get_spec(b).params_m, b))
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
            "tags": ["zoo", f"greedy-{rank + 1}", str(table.configs[i].get("source", "")).split(":")[0]]
                    + [f"prefer-{p}" for p, m in groups.items() if m[i]],
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
                    "horizon": int(horizon), "configs": len(table.configs), "machines": machines,
                    "tiers": list(tiers), "size": int(k),
                    **({"cells": {"count": int(table.acc.shape[0] * table.acc.shape[1]),
                                  "horizon": table.horizon, "sha256": table.cells_sha256(),
                                  "configs": table.ids}}
                       if table.cell_sha256 is not None else {})},
            "curation": ("Greedy forward selection "
                         f"minimizing mean normalized regret (best-within-{horizon}-epochs validation "
                         f"accuracy, min-max normalized per task over the zoo's configs) over "
                         f"{int(allowed.sum())} candidate configs of tier {', '.join(tiers)}, on the mean over "
                         f"fit's three preferences (latency: the fastest third of the backbones by the zoo's "
                         f"batch-1 latency, balanced: two thirds, accuracy: all) of the regret of the members "
                         f"each keeps; ties to the cheaper config. Validation splits only: no test split was read. Machines: "
                         f"{'; '.join(machines)}. Portfolio regret by size: "
                         + ", ".join(f"k={n} {float(portfolio_regret(regret, order, n).mean()):.3f}"
                                     for n in (1, 2, 4, 8, len(order)) if n <= len(order))),
        },
        "space": space_to_json(space),
        "portfolio": entries,
        "hyperband": {"eta": 3, "min_resource": 1, "max_resource": int(max_resource or horizon),
                      "resource": "epochs",
                      **({"proposals": proposals} if proposals != "random" else {}),
                      **({"inner": inner} if inner != "hyperband" else {})},
    }
    from autopreset.portfolio import Preset

    Preset.from_json(doc, source=f"preset {name!r}")      # validate before anyone writes it
    return doc


def check_preset(preset, zoo_dir) -> str:
    """Whether the zoo at ``zoo_dir`` still holds the cells a zoo-built ``preset`` (a Preset)
    was chosen from, unchanged, and whether greedy selection on them gives the same portfolio.
    The record files may have grown since (their hashes in the provenance are those of the day
    the preset was built); the cells themselves are compared by their digest. A one-line
    summary; :class:`InputError` naming what differs otherwise."""
    name = preset.name
    zoo = preset.provenance.zoo
    if not zoo:
        raise InputError(f"preset {name!r} was not built from a zoo (no provenance.zoo)")
    cells = zoo.get("cells")
    if not cells or "tiers" not in zoo or "size" not in zoo:
        raise InputError(f"preset {name!r} records no zoo cells (built before presets did): "
                         "rebuild it with autopreset zoo portfolio")
    keys = dict((str(t).split(" ") + [""])[:2] for t in zoo["tasks"])     # "name key" lines
    table = ZooTable.load(zoo_dir, horizon=int(cells.get("horizon", zoo["horizon"])),
                          tasks=list(keys), configs=list(cells["configs"]))
    for t, info in zip(table.tasks, table.task_info):
        if keys[t] and info.get("key") != keys[t]:
            raise InputError(f"{zoo_dir}: task {t!r} is recorded as {info.get('key')}, preset "
                             f"{name!r} was built on {keys[t]}")
    digest = table.cells_sha256()
    if digest != cells["sha256"]:
        raise InputError(f"{zoo_dir}: the {cells['count']} cells preset {name!r} was built from "
                         f"differ from its records (sha256 {digest[:12]}, preset says "
                         f"{cells['sha256'][:12]})")
    doc = build_preset(table, name=name, tiers=tuple(zoo["tiers"]), horizon=int(zoo["horizon"]),
                       k=int(zoo["size"]))
    ours = [e["config"] for e in doc["portfolio"]]
    theirs = [dict(e.config) for e in preset.portfolio]
    if ours != theirs:
        at = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
        raise InputError(f"preset {name!r}: rebuilt from its {cells['count']} cells, portfolio "
                         f"entry {at + 1} differs ({len(ours)} configs rebuilt, {len(theirs)} in the preset)")
    return (f"{name}: its {cells['count']} cells ({len(table.tasks)} tasks x {len(table.configs)} "
            f"configs) are in {zoo_dir} unchanged, and greedy selection on them gives its "
            f"{len(theirs)} configs in the same order")
