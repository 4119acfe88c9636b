"""Leave-one-task-out: do zoo-built portfolios transfer to a task they were not built on?

    .venv/bin/python benchmarks/portfolio_lodo.py                 # zoo_results/ -> results/portfolio_lodo.*
    .venv/bin/python benchmarks/portfolio_lodo.py --zoo other_zoo/ --out /tmp/lodo

For every task t of the zoo, and every preset family (the tiers of autopreset.zoo.PRESET_TIERS),
a greedy portfolio is built on the other tasks only, and its first k = 1, 2, 4, 8 configs are
scored on t: the normalized regret of their best member (0: the best of the zoo's configs on t,
1: the worst). Baselines on the same task: k configs drawn at random from the same family
(the exact expectation over all draws, not a sample), and the first k configs of the
hand-curated default preset that the zoo replaced (the candidates marked ``curated:default[i]``).
Horizons: the portfolio is built and scored at 3, 9 and 27 epochs, and the 27-epoch portfolio
is also scored at 3 and 9 (does one portfolio serve every budget?). Validation accuracy only:
zoo records hold no test accuracy.

If benchmarks/results/portfolio_replay.json exists (benchmarks/portfolio_replay.py), its summary
is included, so portfolio_lodo.md carries both halves of the evidence.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
KS = (1, 2, 4, 8)
HORIZONS = (3, 9, 27)


def curated_order(table) -> list[int]:
    found = []
    for i, c in enumerate(table.configs):
        src = str(c.get("source") or "")
        if src.startswith("curated:default["):
            found.append((int(src.split("[")[1].rstrip("]")), i))
    return [i for _, i in sorted(found)]


def lodo(table, *, tiers: tuple[str, ...], horizon: int, build_horizon: int | None = None) -> dict:
    """Per left-out task and preference: regret at ``horizon`` of the first k configs that the
    preference keeps of the portfolio built on the other tasks at ``build_horizon`` (default:
    the same), of k random configs it allows, and of the curated portfolio's first k it keeps.
    Regret on the left-out task is normalized among the configs the preference allows. The
    local candidates made from the left-out task's curves (``local:<task>:...``) are left out of
    its fold altogether: portfolio, random baseline and normalization."""
    from autopreset.zoo import (expected_random_regret, greedy_by_preference, normalized_regret,
                                preference_groups)

    build_horizon = build_horizon or horizon
    full = table
    rows = {p: [] for p in ("latency", "balanced", "accuracy")}
    for ti, task in enumerate(full.tasks):
        table = full.without_born_of(task)      # no candidate made from this task's curves
        allowed = np.array([t in tiers for t in table.tiers()])
        curated = curated_order(table)
        value = table.value(horizon)
        others = table.subset(tasks=[t for t in table.tasks if t != task])
        groups = preference_groups(others, allowed)     # latencies of the other tasks only
        order = greedy_by_preference(others.value(build_horizon), max(KS) * 2, groups,
                                     cost=others.cost(build_horizon).mean(axis=0))
        for pref, mask in groups.items():
            idx = np.flatnonzero(mask)
            r_task = np.full(len(table.configs), np.nan)
            r_task[idx] = normalized_regret(value[ti:ti + 1, idx])[0]
            kept = [i for i in order if mask[i]]
            cur = [i for i in curated if mask[i]]
            row = {"task": task, "portfolio": [table.configs[i]["id"] for i in kept[:max(KS)]]}
            for k in KS:
                row[f"zoo{k}"] = float(np.min(r_task[kept[:k]])) if kept else 1.0
                row[f"random{k}"] = expected_random_regret(r_task[idx], k)
                if len(cur) >= k:
                    row[f"curated{k}"] = float(np.min(r_task[cur[:k]]))
            rows[pref].append(row)
    return {"tiers": list(tiers), "horizon": horizon, "build_horizon": build_horizon,
            "n_allowed": int(np.array([t in tiers for t in full.tiers()]).sum()),
            "preferences": {p: {"rows": r, "summary": summarize(r)} for p, r in rows.items()}}


def summarize(rows: list[dict]) -> dict:
    out = {}
    for k in KS:
        zoo = [r[f"zoo{k}"] for r in rows]
        rnd = [r[f"random{k}"] for r in rows]
        s = {"zoo_median": statistics.median(zoo), "zoo_mean": statistics.fmean(zoo),
             "random_median": statistics.median(rnd), "random_mean": statistics.fmean(rnd)}
        s["zoo_over_random_median"] = (s["zoo_median"] / s["random_median"]
                                       if s["random_median"] > 0 else None)
        if all(f"curated{k}" in r for r in rows):
            cur = [r[f"curated{k}"] for r in rows]
            s["curated_median"] = statistics.median(cur)
            s["curated_mean"] = statistics.fmean(cur)
            s["below_curated"] = sum(z < c - 1e-12 for z, c in zip(zoo, cur))
            s["tie_curated"] = sum(abs(z - c) <= 1e-12 for z, c in zip(zoo, cur))
            s["above_curated"] = sum(z > c + 1e-12 for z, c in zip(zoo, cur))
        out[str(k)] = s
    return out


def markdown(doc: dict) -> str:
    z = doc["zoo"]
    lines = [
        "# Leave-one-task-out: zoo portfolios on tasks they were not built on", "",
        f"{doc['date']}; zoo: {z['configs']} configs x {z['tasks']} tasks recorded at {z['horizon']} epochs "
        f"({', '.join(z['machines'])}). Command: `{doc['command']}`.", "",
        "Normalized regret on the left-out task (0 = the best of the zoo's configs on it, 1 = the worst), of "
        "the best of the first k configs; validation accuracy (the zoo records no test accuracy). "
        "*random*: the exact expectation over k configs drawn from the same tiers; *curated*: the first k "
        "configs of the hand-curated default preset the zoo replaces.", ""]
    main = doc["families"]["default@27"]["preferences"]["accuracy"]
    s8 = main["summary"]["8"]
    lines += ["## Criteria (default preset's tiers, --prefer accuracy, 27 epochs, k = 8)", "",
              f"- median regret: zoo {s8['zoo_median']:.4f}, random {s8['random_median']:.4f}"
              + (f" (ratio {s8['zoo_over_random_median']:.2f}; needed <= 0.5)"
                 if s8.get("zoo_over_random_median") is not None else ""),
              ]
    if "below_curated" in s8:
        n = len(main["rows"])
        lines.append(f"- below the curated portfolio on {s8['below_curated']} of {n} tasks "
                     f"(tied on {s8['tie_curated']}, above on {s8['above_curated']}; needed >= {2 * n / 3:.1f})")
    lines += ["", "The same criteria at every horizon the presets are built for (default preset's tiers, "
              "--prefer accuracy, k = 8; a tie is most often a task where both portfolios hold its best "
              "config):", "",
              "| horizon | zoo median | random median | ratio | below / tie / above curated |",
              "|---|---|---|---|---|"]
    for h in HORIZONS:
        fam = doc["families"].get(f"default@{h}")
        if not fam:
            continue
        s = fam["preferences"]["accuracy"]["summary"]["8"]
        ratio = s.get("zoo_over_random_median")
        lines.append(f"| {h} | {s['zoo_median']:.4f} | {s['random_median']:.4f} | "
                     f"{'-' if ratio is None else f'{ratio:.2f}'} | "
                     f"{s.get('below_curated', '-')} / {s.get('tie_curated', '-')} / {s.get('above_curated', '-')} |")
    lines.append("")
    for key, fam in doc["families"].items():
        lines += [f"## {key}: tiers {', '.join(fam['tiers'])}, built at {fam['build_horizon']} epochs, "
                  f"scored at {fam['horizon']} ({fam['n_allowed']} candidates)", "",
                  "| prefer | k | zoo median | zoo mean | random median | random mean | curated median | below / tie / above curated |",
                  "|---|---|---|---|---|---|---|---|"]
        for pref, part in fam["preferences"].items():
            for k in KS:
                s = part["summary"][str(k)]
                cur = (f"{s['curated_median']:.4f} | {s['below_curated']} / {s['tie_curated']} / {s['above_curated']}"
                       if "curated_median" in s else "- | -")
                lines.append(f"| {pref} | {k} | {s['zoo_median']:.4f} | {s['zoo_mean']:.4f} | {s['random_median']:.4f} | "
                             f"{s['random_mean']:.4f} | {cur} |")
        lines.append("")
    lines += ["## Per task (default preset's tiers, --prefer accuracy, 27 epochs)", "",
              "| task | zoo 1 | zoo 8 | random 8 | curated 1 | curated 8 |", "|---|---|---|---|---|---|"]
    for r in main["rows"]:
        lines.append(f"| {r['task']} | {r['zoo1']:.3f} | {r['zoo8']:.3f} | {r['random8']:.3f} | "
                     f"{r.get('curated1', float('nan')):.3f} | {r.get('curated8', float('nan')):.3f} |")
    lines.append("")
    if doc.get("replay"):
        lines += ["## Replay of whole fit strategies (benchmarks/results/portfolio_replay.md)", "",
                  doc["replay"].strip(), ""]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoo", default=str(ROOT / "zoo_results"))
    ap.add_argument("--out", default=str(RESULTS / "portfolio_lodo"))
    args = ap.parse_args()

    from autopreset.zoo import PRESET_TIERS, ZooTable

    table = ZooTable.load(args.zoo, horizon=27)
    families = {}
    for name, tiers in PRESET_TIERS.items():
        for h in HORIZONS:
            families[f"{name}@{h}"] = lodo(table, tiers=tiers, horizon=h)
        for h in HORIZONS[:-1]:
            families[f"{name}@27-scored-at-{h}"] = lodo(table, tiers=tiers, horizon=h, build_horizon=27)
    replay = RESULTS / "portfolio_replay.md"
    doc = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": "benchmarks/portfolio_lodo.py " + " ".join(sys.argv[1:]),
        "python": platform.python_version(),
        "zoo": {"configs": len(table.configs), "tasks": len(table.tasks), "horizon": table.horizon,
                "task_names": list(table.tasks), "files": [{"path": p, "sha256": h} for p, h in table.files],
                "machines": sorted({f"{m.get('cpu')} ({m.get('device')}, {m.get('threads')} thread)"
                                    for m in table.machines})},
        "families": families,
        "replay": replay.read_text().split("\n", 1)[1] if replay.exists() else None,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(doc, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(doc))
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
