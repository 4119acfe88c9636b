"""Multi-fidelity schedulers on a simulated clock: anytime regret versus wall-clock.

    .venv/bin/python benchmarks/schedulers.py [--seeds 10] [--jobs 2] [--quick]

Problems: BoTorch's AugmentedBranin and AugmentedHartmann (fidelity s = resource / 81), and two
learning-curve families with realistic shapes and per-config costs (autopreset.simulator).
Methods: FIFO with random search, synchronous successive halving, Hyperband, ASHA, BOHB-like
(Hyperband + BayesOptSearcher, random-forest surrogate), learning-curve stopping, and Optuna
(TPE + HyperbandPruner, driven through ask/tell on the same simulated clock and workers).
1 and 4 workers, the same wall-clock budget for both. Regret at time t is the true final
(max-fidelity, noise-free) value of the incumbent minus the optimum; the incumbent is the best
result at the highest resource reported so far (what a run would hand back at t).

Writes benchmarks/results/schedulers.json and .md.
"""
from __future__ import annotations

import argparse
import datetime
import heapq
import json
import math
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from autopreset.schedulers import ASHA, FIFO, CurveStopping, Hyperband, SuccessiveHalving
from autopreset.simulator import AugmentedBranin, AugmentedHartmann, LearningCurves, SimulatedExecutor
from autopreset.space import Categorical, Float, Int, Ordinal
from autopreset.tuner import Tuner

R = 81
N_FULL = 30   # budget: this many full-fidelity evaluations by one worker, at the mean cost
METHODS = ["random", "sh", "hyperband", "asha", "bohb", "curve_stopping", "optuna"]
WORKERS = [1, 4]
GRID = 400


def problems():
    return {"branin": AugmentedBranin(max_resource=R, min_fidelity=0.5),
            "branin_s0": AugmentedBranin(max_resource=R),
            "hartmann6": AugmentedHartmann(max_resource=R),
            "lc_power": LearningCurves(shape="power", max_resource=R, seed=0),
            "lc_overfit": LearningCurves(shape="overfit", max_resource=R, seed=0)}


def budget_of(bench) -> float:
    rng = np.random.default_rng(0)
    from autopreset.space import sample
    costs = [bench.curve(sample(bench.space, rng))[1].mean() for _ in range(200)]
    return float(N_FULL * R * np.mean(costs))


def scheduler(method: str, bench, seed: int):
    space = bench.space
    if method == "random":
        return FIFO(space=space, max_resource=R, random_state=seed)
    if method == "sh":
        return SuccessiveHalving(space=space, max_resource=R, n_configs=81, min_resource=1, eta=3, random_state=seed)
    if method == "hyperband":
        return Hyperband(space=space, max_resource=R, eta=3, random_state=seed)
    if method == "asha":
        return ASHA(space=space, max_resource=R, eta=3, random_state=seed)
    if method == "bohb":
        from autopreset.searchers import BayesOptSearcher
        searcher = BayesOptSearcher(space, mode="min", random_state=seed, surrogate="forest", n_candidates=128)
        return Hyperband(searcher=searcher, max_resource=R, eta=3, random_state=seed)
    if method == "curve_stopping":
        return CurveStopping(space=space, max_resource=R, random_state=seed)
    raise ValueError(method)


def run_ours(method, bench, seed, workers, budget):
    result = Tuner(bench, scheduler(method, bench, seed), executor=SimulatedExecutor(workers), budget_s=budget).run()
    return [(r["time"], t.trial_id, r["resource"], r["metric"], t.config) for t in result.trials for r in t.results]


def _optuna_distributions(space):
    import optuna
    out = {}
    for k, d in space.items():
        if isinstance(d, Float):
            out[k] = optuna.distributions.FloatDistribution(d.low, d.high, log=d.log)
        elif isinstance(d, Int):
            out[k] = optuna.distributions.IntDistribution(d.low, d.high, log=d.log)
        elif isinstance(d, Ordinal):
            out[k] = optuna.distributions.CategoricalDistribution(list(d.values))
        elif isinstance(d, Categorical):
            out[k] = optuna.distributions.CategoricalDistribution(list(d.choices))
    return out


def run_optuna(bench, seed, workers, budget):
    """TPE + HyperbandPruner via ask/tell, on the same event-driven simulated clock."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=R, reduction_factor=3))
    dists = _optuna_distributions(bench.space)
    consts = {k: v for k, v in bench.space.items() if k not in dists}
    events, heap, seq, now = [], [], 0, 0.0

    def start(t):
        nonlocal seq
        trial = study.ask(dists)
        config = {**consts, **trial.params}
        config = {k: config[k] for k in bench.space}
        metrics, seconds = bench.curve(config)
        seq += 1
        heapq.heappush(heap, (t + seconds[0], seq, trial, config, metrics, seconds, 1))

    for _ in range(workers):
        start(0.0)
    while heap:
        t, _, trial, config, metrics, seconds, r = heapq.heappop(heap)
        if t > budget:
            break
        now = t
        value = float(metrics[r - 1])
        if not math.isfinite(value):
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            start(now)
            continue
        events.append((now, trial.number, r, value, config))
        trial.report(value, r)
        if r >= R:
            study.tell(trial, value)
            start(now)
        elif trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            start(now)
        else:
            seq += 1
            heapq.heappush(heap, (now + seconds[r], seq, trial, config, metrics, seconds, r + 1))
    return events


def trajectory(events, bench, optimum, grid):
    """Regret of the incumbent (best result at the highest resource so far) on the time grid."""
    events = sorted(events, key=lambda e: e[0])
    times, regrets = [], []
    level, best, cache = 0, math.inf, {}
    for t, tid, r, metric, config in events:
        if not math.isfinite(metric):
            continue
        if r > level or (r == level and metric < best):
            if tid not in cache:
                cache[tid] = bench.final(config) - optimum
            level, best = r, metric
            times.append(t)
            regrets.append(cache[tid])
    out = np.full(len(grid), np.inf)
    if times:
        idx = np.searchsorted(np.array(times), grid, side="right") - 1
        ok = idx >= 0
        out[ok] = np.array(regrets)[idx[ok]]
    return out


def one_run(args):
    problem, method, workers, seed = args
    bench = problems()[problem]
    budget = budget_of(bench)
    optimum = bench.optimum
    grid = budget * np.logspace(-3, 0, GRID)
    t0 = time.perf_counter()
    events = run_optuna(bench, seed, workers, budget) if method == "optuna" else run_ours(method, bench, seed, workers, budget)
    seconds = time.perf_counter() - t0
    return problem, method, workers, seed, trajectory(events, bench, optimum, grid).tolist(), seconds, len({e[1] for e in events})


def first_hit(grid, curve, target):
    hit = np.nonzero(np.asarray(curve) <= target + 1e-12)[0]
    return float(grid[hit[0]]) if len(hit) else math.inf


def summarize(runs, seeds, methods, names):
    out = {}
    for problem in names:
        bench = problems()[problem]
        budget = budget_of(bench)
        grid = budget * np.logspace(-3, 0, GRID)
        out[problem] = {"budget_s": budget, "optimum": bench.optimum, "workers": {}}
        for w in WORKERS:
            curves = {m: np.array([runs[(problem, m, w, s)][0] for s in seeds]) for m in methods}
            med = {m: np.median(c, axis=0) for m, c in curves.items()}
            target = float(med["random"][-1])
            per = {}
            for m in methods:
                final = curves[m][:, -1]
                t_hit = first_hit(grid, med[m], target)
                paired = [first_hit(grid, curves[m][i], curves["random"][i, -1]) / budget for i in range(len(seeds))]
                per[m] = {"final_regret_q25_median_q75": [float(np.percentile(final, q)) for q in (25, 50, 75)],
                          "time_to_random_final_s": t_hit, "ratio_to_random_budget": t_hit / budget,
                          "paired_ratio_median": float(np.median(paired)),
                          "trials_median": float(np.median([runs[(problem, m, w, s)][2] for s in seeds])),
                          "cpu_s_per_run_median": float(np.median([runs[(problem, m, w, s)][1] for s in seeds])),
                          "median_curve": [[float(g), float(v)] for g, v in zip(grid[::20], med[m][::20])]}
            out[problem]["workers"][str(w)] = {"target_regret": target, "methods": per}
        # ASHA speed-up, 4 workers vs 1: time to reach (a) what ASHA with 1 worker has at the end
        # of its budget, (b) 1-worker random search's final regret (both median curves)
        if "asha" in methods:
            med = {w: np.median([runs[(problem, "asha", w, s)][0] for s in seeds], axis=0) for w in WORKERS}
            for name, target in [("asha1_final", float(med[1][-1])),
                                 ("random1_final", out[problem]["workers"]["1"]["target_regret"])]:
                t = {w: first_hit(grid, med[w], target) for w in WORKERS}
                out[problem][f"asha_speedup_4_vs_1_{name}"] = {
                    "target_regret": target, "time_s": {str(w): t[w] for w in WORKERS},
                    "speedup": t[1] / t[4] if 0 < t[4] < math.inf else math.nan}
    return out


def machine():
    import optuna
    import scipy
    import sklearn

    from autopreset.backbones import cpu_model
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "scikit-learn": sklearn.__version__, "optuna": optuna.__version__,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def write_md(summary, info, seeds, path):
    lines = ["# Multi-fidelity schedulers on a simulated clock", "",
             f"`benchmarks/schedulers.py`, {len(seeds)} seeds, max_resource {R}, eta 3, budget = {N_FULL} full "
             f"evaluations by one worker (same wall-clock for 1 and 4 workers). Machine: {info['cpu']}, "
             f"{info['cores']} cores; Python {info['python']}, numpy {info['numpy']}, scipy {info['scipy']}, "
             f"scikit-learn {info['scikit-learn']}, optuna {info['optuna']}; {info['date']}.", "",
             "Regret = true final value of the incumbent - optimum (median [q25, q75] over seeds). "
             "`t/T` = time for the median regret curve to reach random search's final median regret, "
             "as a fraction of the budget T (lower is better; inf: never). `paired` = median over seeds "
             "of the same per seed.", ""]
    for problem, p in summary.items():
        lines.append(f"## {problem} (budget {p['budget_s']:.0f} s simulated, optimum {p['optimum']:.5g})")
        lines.append("")
        lines.append("| method | workers | final regret median [q25, q75] | t/T | paired t/T | trials |")
        lines.append("|---|---|---|---|---|---|")
        for w, wp in p["workers"].items():
            for m, s in wp["methods"].items():
                q25, q50, q75 = s["final_regret_q25_median_q75"]
                lines.append(f"| {m} | {w} | {q50:.4g} [{q25:.4g}, {q75:.4g}] | {s['ratio_to_random_budget']:.3f} "
                             f"| {s['paired_ratio_median']:.3f} | {s['trials_median']:.0f} |")
        lines.append("")
        for name, what in [("asha1_final", "ASHA's own 1-worker final regret"),
                           ("random1_final", "1-worker random search's final regret")]:
            sp = p.get(f"asha_speedup_4_vs_1_{name}")
            if sp:
                lines.append(f"ASHA 4 workers vs 1, time to reach {what} ({sp['target_regret']:.4g}): "
                             f"{sp['time_s']['1']:.0f} s vs {sp['time_s']['4']:.0f} s, speed-up {sp['speedup']:.2f}x.")
                lines.append("")
    lines.append("## Criteria")
    lines.append("")
    for problem, p in summary.items():
        for w, wp in p["workers"].items():
            if not {"hyperband", "asha"} <= set(wp["methods"]):
                continue
            hb, asha = (wp["methods"][m]["ratio_to_random_budget"] for m in ("hyperband", "asha"))
            lines.append(f"- {problem}, {w} worker(s): Hyperband t/T = {hb:.3f}, ASHA t/T = {asha:.3f} "
                         f"({'meets' if max(hb, asha) <= 1 / 3 else 'misses'} <= 1/3)")
        sp = p.get("asha_speedup_4_vs_1_asha1_final")
        if sp:
            lines.append(f"- {problem}: ASHA 4 vs 1 worker speed-up {sp['speedup']:.2f}x to ASHA-1's final regret "
                         f"({'meets' if sp['speedup'] >= 3 else 'misses'} >= 3x); "
                         f"{p['asha_speedup_4_vs_1_random1_final']['speedup']:.2f}x to random-1's final regret")
    path.write_text("\n".join(lines) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--problems", default=",".join(problems()))
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "schedulers"))
    args = ap.parse_args(argv)
    methods = args.methods.split(",")
    seeds = list(range(args.seeds))
    names = args.problems.split(",")
    tasks = [(p, m, w, s) for s in seeds for p in names for w in WORKERS for m in methods]
    runs = {}
    t0 = time.time()
    with ProcessPoolExecutor(args.jobs) as pool:
        for i, (p, m, w, s, curve, sec, n) in enumerate(pool.map(one_run, tasks, chunksize=1)):
            runs[(p, m, w, s)] = (curve, sec, n)
            print(f"[{i + 1}/{len(tasks)} {time.time() - t0:.0f}s] {p} {m} w={w} seed={s}: "
                  f"final regret {curve[-1]:.4g}, {n} trials, {sec:.1f}s", flush=True)
    summary = summarize(runs, seeds, methods, names)
    info = machine()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"machine": info, "seeds": seeds, "max_resource": R, "n_full": N_FULL,
                               "methods": methods, "workers": WORKERS, "problems": summary}, indent=1))
    os.replace(tmp, out.with_suffix(".json"))
    write_md(summary, info, seeds, out.with_suffix(".md.tmp"))
    os.replace(out.with_suffix(".md.tmp"), out.with_suffix(".md"))
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    sys.exit(main())
