"""The replay study (issue 14): whole search strategies on the zoo's recorded learning curves.

    .venv/bin/python benchmarks/portfolio_replay.py [--zoo zoo_results] [--budgets 2x,8x,32x]
        [--seeds 5] [--strategies fit,fit+bo_forest,...] [--k 12]

Each zoo task is left out in turn: fit's portfolio is the greedy one built on the other tasks
(``loo_portfolio``), and every strategy runs on the left-out task's recorded curves on the
simulated clock of ``autopreset.zoo._replay`` (one worker, 1 s per job start, each epoch its
recorded CPU seconds). Strategies: fit (make_plan + PortfolioHyperband, as ``autopreset fit``
runs it) with random or model-based proposals after the portfolio phase and with Hyperband or
curve stopping there; plain Hyperband; random search (27 epochs each); Optuna TPE with its
HyperbandPruner. Runs on whatever part of the zoo is recorded (``ZooTable.load`` keeps the
configs recorded on every task).

Budgets: ``Nx`` is N times the task's median cost of one whole recorded run (27 epochs and a
job start, median over the recorded configs), so that random search trains about N configs
whatever the task and however much of the zoo is recorded; ``300s`` or ``5m`` are absolute.
On the zoo's tasks (a few hundred images at 16-64 px, one CPU thread) a 27-epoch run costs from
seconds (timm's test-sized nets) to minutes (ResNet-50 class), so the defaults 2x, 8x and 32x
span fit's short to hour-long budgets: random search trains from a couple of configs to about a
quarter of the candidates (the report gives every budget in seconds). Each is 4x the one
before, and fit's strategies also run at a quarter of the smallest, so that "fit at a quarter of
random search's budget" is a row at every budget. The replay's CPU time grows with the number
of trials, so budgets relative to the recorded costs also keep the study short on a zoo that
holds only fast configs so far.

Per task, strategy, budget and seed: the final best validation accuracy, its normalized regret
on the task (0 = the task's best recorded config, 1 = its worst), and the time to reach random
search's final accuracy at that budget and seed, as a fraction of the budget (never: inf). The
issue's check: at every budget B, fit run with B/4 ends at least as high as random search with
B (in at least half of the (task, seed) pairs), and fit with B ends at least as high as plain
Hyperband and Optuna with B (median over tasks and seeds, and paired mean difference); each
variant of fit against the shipped one with bootstrap intervals over tasks.
Writes benchmarks/results/portfolio_replay.json and .md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autopreset.zoo import ZooTable  # noqa: E402
from autopreset.zoo._replay import (STRATEGIES, ZooReplay, loo_portfolio,  # noqa: E402
                                    replay_space)

DEFAULT_STRATEGIES = ["fit", "fit+bo_forest", "fit+evolution", "fit+cs", "fit+bo_forest+cs",
                      "hyperband", "random", "optuna"]
SHIPPED = "fit"
PEERS = ("hyperband", "optuna")


def parse_budget(text: str) -> tuple[str, float, str]:
    """'8x' -> ('8x', 8.0, 'x') (times the task's median whole run); '300s', '5m' -> seconds."""
    text = text.strip()
    unit = text[-1] if text[-1] in "xsm" else "s"
    value = float(text[:-1] if text[-1] in "xsm" else text)
    if not value > 0:
        raise ValueError(f"a budget must be positive; got {text!r}")
    if unit == "m":
        return text, 60.0 * value, "s"
    return text, value, unit


def budget_seconds(budget: tuple[str, float, str], bench: ZooReplay) -> float:
    _, value, unit = budget
    return value * bench.full_run_s if unit == "x" else value


def quarters(budgets) -> list[tuple[str, float, str]]:
    """B/4 of each budget B that is not a budget itself (fit's strategies also run there, for the
    check of the issue: fit at a quarter of random search's budget)."""
    out = []
    for _, value, unit in budgets:
        if not any(u == unit and math.isclose(v, value / 4) for _, v, u in budgets + out):
            out.append((f"{value / 4:g}{unit}", value / 4, unit))
    return out


def run_all(table: ZooTable, budgets, seeds, strategies, k: int, say=print) -> tuple[list[dict], dict]:
    space = replay_space(table)
    extra = quarters(budgets)
    rows, portfolios, seconds, optima = [], {}, {}, {}
    cpu = {s: 0.0 for s in strategies}
    recorded = [c["config"] for c in table.configs]
    for task in table.tasks:
        bench = ZooReplay(table, task, space=space)
        portfolio = loo_portfolio(table, task, k=k)
        portfolios[task] = [table.ids[recorded.index(c)] for c in portfolio]
        seconds[task] = {"full_run_s": round(bench.full_run_s, 2)}
        optima[task] = bench.optimum
        for budget in budgets + extra:
            budget_s = budget_seconds(budget, bench)
            seconds[task][budget[0]] = round(budget_s, 1)
            names = strategies if budget in budgets else [n for n in strategies if n.startswith("fit")]
            for seed in seeds:
                for name in names:
                    t0 = time.process_time()
                    run = STRATEGIES[name](bench, budget_s, seed, portfolio)
                    cpu[name] += time.process_time() - t0
                    rows.append({"budget": budget[0], **run.to_json()})
        say(f"  {task}: done ({sum(cpu.values()):.0f} s CPU so far)", flush=True)
    return rows, {"portfolios": portfolios, "seconds": seconds, "optima": optima,
                  "cpu_s": {k: round(v, 2) for k, v in cpu.items()}}


def _time_to(trace, target) -> float | None:
    for t, best in trace:
        if best >= target:
            return t
    return None


def add_ratios(rows: list[dict]) -> None:
    """Each run's time to reach random search's final accuracy (same task, budget and seed), as a
    fraction of the budget: inf when it never does."""
    random_final = {(r["task"], r["budget"], r["seed"]): r["final"] for r in rows if r["strategy"] == "random"}
    for r in rows:
        target = random_final.get((r["task"], r["budget"], r["seed"]))
        t = None if target is None else _time_to(r["trace"], target)
        r["random_final"] = target
        r["reached_random"] = None if target is None else t is not None
        r["ratio_to_random"] = None if target is None else math.inf if t is None else t / r["budget_s"]


def _med(values) -> float:
    v = [x for x in values if x is not None]
    return float(np.median(v)) if v else math.nan


def summarize(rows: list[dict], budgets, strategies, horizon: int) -> dict:
    by = {}
    for r in rows:
        by.setdefault((r["strategy"], r["budget"]), []).append(r)
    out = {}
    for b, _, _ in budgets:
        for s in strategies:
            rs = by.get((s, b), [])
            if not rs:
                continue
            ratios = [r["ratio_to_random"] for r in rs if r["ratio_to_random"] is not None]
            out[f"{s}@{b}"] = {
                "strategy": s, "budget": b, "budget_s_median": _med(r["budget_s"] for r in rs),
                "runs": len(rs),
                "final_median": _med(r["final"] for r in rs),
                "final_mean": float(np.mean([r["final"] for r in rs])),
                "regret_median": _med(r["regret"] for r in rs),
                "regret_mean": float(np.mean([r["regret"] for r in rs])),
                "ratio_median": _med(ratios),
                "reach_quarter": float(np.mean([x <= 0.25 for x in ratios])) if ratios else math.nan,
                "reach_ever": float(np.mean([math.isfinite(x) for x in ratios])) if ratios else math.nan,
                "trials_median": _med(r["n_trials"] for r in rs),
                # fit's plans whose schedule the replay's curves cannot hold exactly
                "short_schedule": float(np.mean([r["info"].get("max_resource", horizon) < horizon for r in rs])),
                "cut_to_horizon": float(np.mean([bool(r["info"].get("cut_to_horizon")) for r in rs])),
                "searched_after_portfolio": float(np.mean([r["info"].get("phase") in ("hyperband", "asha", "curve_stopping")
                                                           for r in rs])),
                "epochs_median": _med(r["epochs"] for r in rs),
                "distinct_median": _med(r["info"].get("distinct_configs") for r in rs),
                "trials_after_portfolio_median": _med(r["info"].get("trials_after_portfolio") for r in rs),
                "configs_after_portfolio_median": _med(r["info"].get("configs_after_portfolio") for r in rs),
            }
    return out


def paired(rows: list[dict], a: str, b: str, budget: str) -> dict:
    """a against b on the same (task, seed) at one budget: mean difference of final accuracy and
    of regret, and how often a is at least as good."""
    fa = {(r["task"], r["seed"]): r for r in rows if r["strategy"] == a and r["budget"] == budget}
    fb = {(r["task"], r["seed"]): r for r in rows if r["strategy"] == b and r["budget"] == budget}
    keys = sorted(set(fa) & set(fb))
    if not keys:
        return {}
    d = np.array([fa[k]["final"] - fb[k]["final"] for k in keys])
    dr = np.array([fa[k]["regret"] - fb[k]["regret"] for k in keys])
    return {"n": len(keys), "final_diff_mean": float(d.mean()), "regret_diff_mean": float(dr.mean()),
            "at_least_as_good": float(np.mean(d >= 0)), "better": float(np.mean(d > 0)),
            "worse": float(np.mean(d < 0))}


def quarter_budget(rows: list[dict], s: str, budgets) -> list[dict]:
    """Strategy ``s`` at budget B against random search at 4 B (where both were run)."""
    out = []
    for b, value, unit in budgets:
        big = next((lab for lab, v, u in budgets if u == unit and math.isclose(v, 4 * value)), None)
        if big is None:
            continue
        fs = {(r["task"], r["seed"]): r["final"] for r in rows if r["strategy"] == s and r["budget"] == b}
        fr = {(r["task"], r["seed"]): r["final"] for r in rows if r["strategy"] == "random" and r["budget"] == big}
        keys = sorted(set(fs) & set(fr))
        if keys:
            d = np.array([fs[k] - fr[k] for k in keys])
            out.append({"strategy": s, "budget": b, "random_budget": big, "n": len(keys),
                        "final_median": _med(fs[k] for k in keys), "random_final_median": _med(fr[k] for k in keys),
                        "at_least_as_good": float(np.mean(d >= 0)), "diff_mean": float(d.mean())})
    return out


def variant_effects(rows: list[dict], budgets, variants, base: str = SHIPPED, n_boot: int = 2000) -> list[dict]:
    """Each fit variant against ``base`` at each budget: the mean over tasks of the per-task mean
    (over seeds) difference of final accuracy and of regret, with a 95% bootstrap interval over
    tasks (seeds of one task are not independent evidence: tasks are the unit)."""
    rng = np.random.default_rng(0)
    out = []
    for b, _, _ in budgets:
        ref = {(r["task"], r["seed"]): r for r in rows if r["strategy"] == base and r["budget"] == b}
        for v in variants:
            if v == base:
                continue
            per_task: dict[str, list[tuple[float, float, float]]] = {}
            for r in rows:
                k = (r["task"], r["seed"])
                if r["strategy"] == v and r["budget"] == b and k in ref:
                    per_task.setdefault(r["task"], []).append(
                        (r["final"] - ref[k]["final"], r["regret"] - ref[k]["regret"],
                         _log_ratio(r["ratio_to_random"], ref[k]["ratio_to_random"])))
            if not per_task:
                continue
            if not per_task:
                continue
            d = np.array([np.mean(v_, axis=0) for v_ in per_task.values()])      # (tasks, 3)
            boot = d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1)  # (n_boot, 3)
            lo, hi = np.percentile(boot, [2.5, 97.5], axis=0)
            out.append({"variant": v, "base": base, "budget": b, "tasks": len(d),
                        "final_diff": float(d[:, 0].mean()), "final_ci": [float(lo[0]), float(hi[0])],
                        "regret_diff": float(d[:, 1].mean()), "regret_ci": [float(lo[1]), float(hi[1])],
                        "log2_time_ratio": float(d[:, 2].mean()),
                        "log2_time_ci": [float(lo[2]), float(hi[2])]})
    return out


def _log_ratio(a: float | None, b: float | None) -> float:
    """log2 of a's time to reach random search's final over b's (never: capped at one budget;
    no random search at this budget: 0)."""
    if a is None or b is None:
        return 0.0
    a, b = min(a, 1.0), min(b, 1.0)
    return float(np.log2(max(a, 1e-3) / max(b, 1e-3)))


def verdict(effects: list[dict], variant: str) -> str:
    mine = [e for e in effects if e["variant"] == variant]
    better = [e["budget"] for e in mine if e["final_ci"][0] > 0]
    worse = [e["budget"] for e in mine if e["final_ci"][1] < 0]
    if worse and not better:
        return f"worse than fit at {', '.join(worse)}"
    if better and not worse:
        return f"better than fit at {', '.join(better)}"
    if better and worse:
        return f"better at {', '.join(better)}, worse at {', '.join(worse)}"
    return "no difference from fit outside the 95% intervals"


def checks(summary: dict, rows: list[dict], budgets, strategy: str, quarter: list[dict]) -> dict:
    """The issue's done-when on the replay, for one strategy, at every budget B: run with B/4, it
    ends at least as high as random search with B in at least half of the (task, seed) pairs
    (fit plans for its budget, so a run at B/4 is how soon it gets there; the time at which a
    run planned for B first passes random search's final, ``ratio_median``, is reported beside
    it), and at B its final accuracy is at least plain Hyperband's and Optuna's (median over
    tasks and seeds, and paired mean difference)."""
    out = {"strategy": strategy, "budgets": {}}
    ok_all = True
    for b, _, _ in budgets:
        me = summary.get(f"{strategy}@{b}")
        if me is None:
            continue
        q = next((q for q in quarter if q["strategy"] == strategy and q["random_budget"] == b), None)
        item = {"ratio_median": me["ratio_median"], "anytime_quarter": me["ratio_median"] <= 0.25,
                "quarter_budget": None if q is None else q["budget"],
                "quarter_share": None if q is None else q["at_least_as_good"],
                "reach_quarter": q is not None and q["at_least_as_good"] >= 0.5}
        for peer in PEERS:
            p = summary.get(f"{peer}@{b}")
            if p is None:
                continue
            pr = paired(rows, strategy, peer, b)
            item[f"vs_{peer}"] = {"final_median": me["final_median"], "peer_final_median": p["final_median"],
                                  "paired_mean_diff": pr.get("final_diff_mean"),
                                  "ok": me["final_median"] >= p["final_median"] and pr.get("final_diff_mean", 0) >= 0}
        item["ok"] = item["reach_quarter"] and all(v["ok"] for k, v in item.items() if k.startswith("vs_"))
        ok_all &= item["ok"]
        out["budgets"][b] = item
    out["ok"] = bool(ok_all)
    return out


def _fmt(x, digits=4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return "never"
    return f"{x:.{digits}f}"


def write_md(path: Path, doc: dict) -> None:
    s, strategies, zoo = doc["summary"], doc["strategies"], doc["zoo"]
    labels = [b["label"] for b in doc["budgets"]] + doc["quarter_budgets"]
    per_task = doc["seconds"]
    full = [v["full_run_s"] for v in per_task.values()]
    lines = [
        "# Replay study: whole search strategies on the zoo's recorded curves",
        "",
        f"`{doc['command']}`",
        "",
        f"Zoo: {zoo['configs']} configs recorded on all of {zoo['tasks']} tasks at {zoo['horizon']} epochs "
        f"(`ZooTable.load` keeps the configs recorded on every task), recorded on "
        f"{'; '.join(zoo['recorded_on'])}. Each task left out in turn: fit's portfolio is the greedy one "
        f"(k={doc['k']}, tiers tiny/small/medium) built on the other {zoo['tasks'] - 1} tasks. One "
        f"simulated worker, {doc['job_s']:g} s per job start, each epoch its recorded CPU seconds. "
        f"{doc['seeds']} seeds per (task, strategy, budget). CPU time of this study: {doc['cpu_s']:.0f} s "
        f"({', '.join(f'{k} {v:.0f}' for k, v in doc['cpu_by_strategy'].items())}).",
        "",
        f"Machine: {doc['machine']}. Date: {doc['date']}.",
        "",
        f"Budgets: `Nx` = N times the task's median cost of one whole recorded run (27 epochs + a job "
        f"start; median over tasks {np.median(full):.0f} s, range {min(full):.0f}-{max(full):.0f} s), "
        "so random search trains about N configs. In simulated seconds:",
        "",
        "| budget | median over tasks | min | max |", "|---|---|---|---|",
        *[f"| {b} | {np.median([v[b] for v in per_task.values()]):.0f} s | "
          f"{min(v[b] for v in per_task.values()):.0f} s | {max(v[b] for v in per_task.values()):.0f} s |"
          for b in labels],
        "",
        "Zoo record files:",
        "",
        *[f"- `{f['path']}` sha256 `{f['sha256']}`" for f in zoo["files"]],
        "",
        "Strategies: `fit` = make_plan + PortfolioHyperband as fit ships it (random proposals in "
        "Hyperband over the narrowed space); `+bo_forest` / `+bo_gp` = model-based proposals there "
        "(BayesOptSearcher with a random-forest or GP surrogate: BOHB-like), `+evolution` = regularized "
        "evolution there (DEHB-like); `+cs` = curve stopping (CurveStopping, Domhan et al. 2015) instead "
        "of Hyperband after the portfolio; `hyperband` = Hyperband (eta 3, 1..27 epochs) with random "
        "proposals over the whole space; `random` = random search, 27 epochs each; `optuna` = Optuna "
        "TPE + HyperbandPruner (eta 3) by ask/tell on the same curves and clock. Proposals replay the "
        "nearest recorded config (same backbone first, then the space's unit-cube encoding).",
        "",
        "Columns: over tasks x seeds. `regret` = normalized regret on the task (0 = its best recorded "
        "config, 1 = its worst); `t/B` = time to reach random search's final accuracy (same task, "
        "budget, seed) as a fraction of the budget (`never` when the median run does not reach it); "
        "`<=B/4` = share of runs that reach it within a quarter of the budget; `reached` = share that "
        "reach it at all; `trials` = trials started, `configs` = distinct recorded configs they replayed "
        "(medians).",
        "",
    ]
    for b in labels:
        note = " (fit's strategies only: a quarter of the next budget)" if b in doc["quarter_budgets"] else ""
        lines += [f"## Budget {b}{note}", "",
                  "| strategy | final acc median | mean | regret median | mean | t/B median | <=B/4 | reached | trials | configs | epochs |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for st in strategies:
            e = s.get(f"{st}@{b}")
            if e:
                lines.append(f"| {st} | {_fmt(e['final_median'])} | {_fmt(e['final_mean'])} | "
                             f"{_fmt(e['regret_median'], 3)} | {_fmt(e['regret_mean'], 3)} | "
                             f"{_fmt(e['ratio_median'], 3)} | {_fmt(e['reach_quarter'], 2)} | {_fmt(e['reach_ever'], 2)} | "
                             f"{e['trials_median']:.0f} | {e['distinct_median']:.0f} | {e['epochs_median']:.0f} |")
        lines.append("")
        e = s.get(f"{SHIPPED}@{b}")
        if e:
            lines += [f"fit's plans at {b}: {e['searched_after_portfolio']:.0%} of the runs searched after the "
                      f"portfolio phase (the rest continued the survivors: no brackets fit), "
                      f"{e['short_schedule']:.0%} trained a schedule shorter than {zoo['horizon']} epochs and "
                      f"{e['cut_to_horizon']:.0%} a single config cut at the horizon (both replayed "
                      "pessimistically, see autopreset/zoo/_replay.py).", ""]
        pairs = doc["paired"].get(b, {})
        if pairs:
            lines += ["Paired on (task, seed): mean difference of final accuracy, share of pairs at least as "
                      "good / better / worse.", "",
                      "| a vs b | mean diff | >= | > | < |", "|---|---|---|---|---|"]
            for key, p in pairs.items():
                if p:
                    lines.append(f"| {key} | {p['final_diff_mean']:+.4f} | {p['at_least_as_good']:.2f} | "
                                 f"{p['better']:.2f} | {p['worse']:.2f} |")
            lines.append("")
    if doc["quarter"]:
        lines += ["## At a quarter of the budget", "",
                  "Each strategy at budget B against random search at 4 B, paired on (task, seed).", "",
                  "| strategy | B | random at | final median | random's final median | share >= random |",
                  "|---|---|---|---|---|---|"]
        for q in doc["quarter"]:
            lines.append(f"| {q['strategy']} | {q['budget']} | {q['random_budget']} | {_fmt(q['final_median'])} | "
                         f"{_fmt(q['random_final_median'])} | {q['at_least_as_good']:.2f} |")
        lines.append("")
    if doc["effects"]:
        lines += ["## What fit should use after the portfolio phase", "",
                  "Each variant against `fit` (random proposals in Hyperband): mean over tasks of the "
                  "per-task mean difference (over seeds) of final accuracy and of normalized regret, and "
                  "of log2 of the time to reach random search's final accuracy (negative: faster), with "
                  "95% bootstrap intervals over tasks.", "",
                  "| variant | budget | final acc diff [95%] | regret diff [95%] | log2 time ratio [95%] |",
                  "|---|---|---|---|---|"]
        for e in doc["effects"]:
            lines.append(f"| {e['variant']} | {e['budget']} | {e['final_diff']:+.4f} [{e['final_ci'][0]:+.4f}, "
                         f"{e['final_ci'][1]:+.4f}] | {e['regret_diff']:+.3f} [{e['regret_ci'][0]:+.3f}, "
                         f"{e['regret_ci'][1]:+.3f}] | {e['log2_time_ratio']:+.2f} [{e['log2_time_ci'][0]:+.2f}, "
                         f"{e['log2_time_ci'][1]:+.2f}] |")
        lines += ["", *[f"- `{v}`: {text}" for v, text in doc["verdicts"].items()], ""]
    e = s.get(f"{SHIPPED}@{labels[len(doc['budgets']) - 1]}")
    if e:
        lines += ["## What the replay can and cannot tell", "",
                  f"- Only recorded configs have curves. After the portfolio phase fit searches a space "
                  f"narrowed to the survivors' backbones, where the zoo holds a few configs each: at "
                  f"{e['budget']} fit's runs started {e['trials_after_portfolio_median']:.0f} trials after the "
                  f"portfolio phase (median) that replayed {e['configs_after_portfolio_median']:.0f} distinct "
                  f"recorded configs. Proposals that differ in the "
                  "replay's eyes only by which of those few they land nearest cannot show much difference "
                  "between proposal rules, and a proposal near an already trained config replays its curve "
                  "again (no new information), which understates any search inside the narrowed space.",
                  "- Curves follow one learning-rate schedule over the horizon: a plan with a shorter "
                  "schedule (fit at the smallest budgets) is replayed on curves that have not decayed yet, "
                  "which is pessimistic for it (see the notes under each budget).",
                  f"- {zoo['configs']} of the zoo's {zoo.get('candidates') or '?'} candidates are recorded on "
                  f"all {zoo['tasks']} tasks so far, the fast ones first; the study reruns as the zoo grows, "
                  "and its absolute budgets grow with the recorded costs.",
                  "- Every curve is one training run: the best validation accuracy of many configs and "
                  "epochs is partly noise, for every strategy alike.", ""]
    lines += ["## The done-when on the replay", "",
              "At every budget B: run with B/4, the strategy reaches random search's final accuracy at B "
              "(at least as high in at least half of the (task, seed) pairs; fit plans for its budget, so "
              "a run at B/4 says how soon it gets there, and the time at which a run planned for B passes "
              "random search's final is shown beside it), and at B it ends at least as high as plain "
              "Hyperband and Optuna (median final accuracy and paired mean difference):", ""]
    for c in doc["checks"]:
        lines.append(f"- `{c['strategy']}`: {'holds' if c['ok'] else 'does not hold'}")
        for b, item in c["budgets"].items():
            peers = "; ".join(f"vs {k[3:]} {_fmt(v['final_median'])} vs {_fmt(v['peer_final_median'])}, paired "
                              f"{v['paired_mean_diff']:+.4f}" for k, v in item.items() if k.startswith("vs_"))
            share = "-" if item["quarter_share"] is None else f"{item['quarter_share']:.2f}"
            lines.append(f"  - {b}: at {item['quarter_budget']} at least random search's final at {b} in "
                         f"{share} of the runs ({'>=' if item['reach_quarter'] else '<'} 0.5); within a run "
                         f"planned for {b}, t/B median {_fmt(item['ratio_median'], 3)}; {peers}: "
                         f"{'ok' if item['ok'] else 'no'}")
    top = doc["budgets"][-1]["label"]
    shown = [st for st in strategies if st in (SHIPPED, "hyperband", "random", "optuna")] + \
        [st for st in strategies if st.startswith("fit") and st != SHIPPED]
    lines += ["", f"## Per task at {top}", "",
              "Mean over seeds of the final validation accuracy (the task's best recorded config in the "
              "last column).", "",
              "| task | " + " | ".join(shown) + " | best config |", "|---" * (len(shown) + 2) + "|"]
    for task in per_task:
        cells = []
        for st in shown:
            v = [r["final"] for r in doc["runs"] if r["task"] == task and r["strategy"] == st and r["budget"] == top]
            cells.append(_fmt(float(np.mean(v))) if v else "-")
        lines.append(f"| {task} | " + " | ".join(cells) + f" | {_fmt(doc['optima'][task])} |")
    lines += ["", "## Portfolios (leave-one-task-out, zoo config ids, best first)", ""]
    for task, ids in doc["portfolios"].items():
        lines.append(f"- {task}: {', '.join(ids)}")
    lines.append("")
    path.write_text("\n".join(lines))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import optuna
    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, numpy {np.__version__}, "
            f"optuna {optuna.__version__}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--zoo", default="zoo_results")
    p.add_argument("--budgets", default="2x,8x,32x",
                   help="comma-separated: Nx = N whole runs of the task's median config, or 300s, 5m")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--strategies", default=",".join(DEFAULT_STRATEGIES))
    p.add_argument("--tasks", default=None, help="comma-separated task names (default: all)")
    p.add_argument("--k", type=int, default=12, help="portfolio size")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "portfolio_replay"))
    args = p.parse_args(argv)
    budgets = [parse_budget(b) for b in args.budgets.split(",")]
    strategies = args.strategies.split(",")
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        p.error(f"unknown strategies {unknown}; known: {', '.join(STRATEGIES)}")
    if "random" not in strategies:
        strategies.append("random")       # every ratio is to random search
    table = ZooTable.load(args.zoo, min_tasks=2)
    if args.tasks:
        table = table.subset(tasks=args.tasks.split(","))
    print(f"zoo: {len(table.configs)} configs x {len(table.tasks)} tasks; budgets {args.budgets}; "
          f"{args.seeds} seeds; {', '.join(strategies)}", flush=True)
    t0 = time.process_time()
    rows, extra = run_all(table, budgets, list(range(args.seeds)), strategies, args.k)
    add_ratios(rows)
    summary = summarize(rows, budgets + quarters(budgets), strategies, table.horizon)
    fits = [s for s in strategies if s.startswith("fit")]
    pairs = {b: {f"{a} vs {o}": paired(rows, a, o, b) for a in fits
                 for o in strategies if o != a and (o in PEERS + ("random",) or a == SHIPPED)}
             for b, _, _ in budgets}
    quarter = [q for s in strategies for q in quarter_budget(rows, s, budgets + quarters(budgets))]
    effects = variant_effects(rows, budgets + quarters(budgets), fits)
    doc = {
        "command": " ".join([".venv/bin/python", "benchmarks/portfolio_replay.py", *(argv if argv is not None else sys.argv[1:])]),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "zoo": {"dir": args.zoo, "configs": len(table.configs), "tasks": len(table.tasks),
                "candidates": _n_candidates(Path(args.zoo)),
                "task_names": list(table.tasks), "horizon": table.horizon,
                "files": [{"path": f"{args.zoo}/{f}", "sha256": h} for f, h in table.files],
                "recorded_on": [f"{m.get('cpu')} ({m.get('device')}, {m.get('threads')} thread(s))"
                                for m in table.machines]},
        "budgets": [{"label": b, "value": v, "unit": u} for b, v, u in budgets],
        "quarter_budgets": [b for b, _, _ in quarters(budgets)],
        "seconds": extra["seconds"], "optima": extra["optima"], "seeds": args.seeds, "k": args.k, "job_s": 1.0, "strategies": strategies,
        "cpu_s": time.process_time() - t0, "cpu_by_strategy": extra["cpu_s"],
        "summary": summary, "paired": pairs, "quarter": quarter, "effects": effects,
        "verdicts": {v: verdict(effects, v) for v in fits if v != SHIPPED},
        "checks": [checks(summary, rows, budgets, s, quarter) for s in fits],
        "portfolios": extra["portfolios"], "runs": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out.with_suffix(".json"), doc)
    write_md(out.with_suffix(".md"), doc)
    print(out.with_suffix(".md").read_text())
    return 0


def _n_candidates(zoo: Path) -> int | None:
    """How many candidate configs the zoo is recording (its candidates.json), if it says."""
    try:
        return len(json.loads((zoo / "candidates.json").read_text())["candidates"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_json(path: Path, doc: dict) -> None:
    """The study as JSON: the summaries indented, the runs one compact line each (a ratio that
    never reached random search's final is null with ``reached_random`` false)."""
    body = {k: v for k, v in doc.items() if k != "runs"}
    text = json.dumps(_finite(_rounded(body, 6)), indent=1, default=_json_default)[:-2]
    runs = ",\n  ".join(json.dumps(_finite(_rounded(r)), separators=(",", ":"), default=_json_default)
                         for r in doc["runs"])
    path.write_text(f'{text},\n "runs": [\n  {runs}\n ]\n}}\n')


def _rounded(x, digits: int = 5):
    if isinstance(x, float):
        return round(x, digits)
    if isinstance(x, dict):
        return {k: _rounded(v, digits) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_rounded(v, digits) for v in x]
    return x


def _finite(x):
    """JSON without NaN/Infinity: a ratio that never reached its target is null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


def _json_default(x):
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    raise TypeError(type(x))


if __name__ == "__main__":
    sys.exit(main())
