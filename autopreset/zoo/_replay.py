"""Replaying whole search strategies on the zoo's recorded learning curves (issue 14).

One zoo task becomes a benchmark of the simulator (:class:`ZooReplay`, a
:class:`~autopreset.simulator.CurveBenchmark` in mode "max"): the curve of a config is its
recorded per-epoch validation accuracy, each epoch costs its recorded seconds, and every job (a
trial started or resumed) costs ``JOB_S`` more on the simulated clock. Strategies search the
space the zoo's candidates were drawn from (:func:`replay_space`); only the recorded configs have
curves, so each proposal is replayed as the nearest recorded config of the task
(:meth:`ZooReplay.nearest`):

1. the recorded configs with the proposal's backbone; when none has it, those whose backbone is
   nearest to it in the order of the space's backbone domain (the zoo's backbones are ordered
   small to large, by latency);
2. among them, the nearest in the space's unit-cube encoding of the other keys
   (:func:`autopreset.space.encode`: log scale for the learning rate and the weight decay, one
   coordinate per ordinal such as the batch size or the crop scale, one-hot for the optimizer,
   so a different optimizer counts as far as the whole range of a numeric key), Euclidean
   distance, ties to the config recorded first; keys the zoo did not record play no part.

A recorded config is always replayed as itself. Strategies, each ``f(table, budget_s, seed,
portfolio) -> ReplayRun`` on one task of ``table`` (or on a prepared :class:`ZooReplay`), on one
simulated worker:

- :func:`run_fit`: what ``autopreset fit`` does: ``make_plan`` with a cost model built from the
  task's recorded seconds (:func:`replay_cost_model`), the portfolio given (fit's preset; for a
  fair study the leave-one-task-out portfolio of :func:`loo_portfolio`), then
  ``PortfolioHyperband`` driven by the tuner on the simulated executor; ``proposals`` and
  ``inner`` choose what runs after the portfolio phase (random or model-based proposals,
  Hyperband or curve stopping);
- :func:`run_hyperband`: Hyperband (Li et al. 2018, eta 3, epochs 1 to the horizon) with random
  proposals over the whole space;
- :func:`run_random`: random search, every config trained for the whole horizon;
- :func:`run_optuna`: Optuna's TPE sampler with its HyperbandPruner, driven by ask/tell on the
  same curves and clock: each epoch is reported, a trial is pruned when Optuna says so, and the
  recorded seconds are charged.

A strategy's score is the best validation accuracy any of its trials reported (fit keeps the
best epoch's weights), ``ReplayRun.trace`` the best so far against simulated seconds. Curves
are recorded with one learning-rate schedule over the zoo's horizon; a fit plan with a shorter
schedule (R below the horizon, at small budgets) is replayed on the horizon's curves cut at R,
which a real R-epoch schedule would beat (its learning rate would have decayed by then); a plan
that trains a single config for longer than the horizon (the smallest budgets) is cut at the
horizon, where fit would go on training. The replay is pessimistic for such plans;
``ReplayRun.info`` says when either happened (``max_resource``, ``cut_to_horizon``).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from autopreset.simulator import CurveBenchmark

from ._table import ZooTable

__all__ = ["ZooReplay", "ReplayRun", "replay_space", "replay_cost_model", "loo_portfolio",
           "run_fit", "run_hyperband", "run_random", "run_optuna", "STRATEGIES", "JOB_S",
           "PORTFOLIO_TIERS"]

JOB_S = 1.0                                     # simulated seconds to start or resume a job
PORTFOLIO_TIERS = ("tiny", "small", "medium")   # the default preset's tiers
ETA = 3


# ----------------------------------------------------------------------------- the space

def replay_space(table: ZooTable | None = None) -> dict:
    """The space the zoo's candidates were drawn from (``make_candidates``): the default preset's
    space, its backbones followed by the large ones, ``crop_scale`` over ``CROP_SCALES``; with a
    table, widened to hold every recorded config (backbones appended, ordinal values added,
    numeric ranges stretched)."""
    from autopreset.space import Categorical, Float, Int, Ordinal

    from ._candidates import CROP_SCALES, LARGE_BACKBONES, zoo_space

    space = zoo_space()
    crop = space.get("crop_scale")
    space["crop_scale"] = Ordinal(sorted(set(CROP_SCALES) | set(getattr(crop, "values", ()))))
    space.setdefault("momentum", Float(0.85, 0.98))
    backbones = list(_values(space["backbone"]))
    backbones += [b for b in LARGE_BACKBONES if b not in backbones]
    configs = [c["config"] for c in table.configs] if table is not None else []
    backbones += list(dict.fromkeys(c["backbone"] for c in configs if c["backbone"] not in backbones))
    space["backbone"] = Ordinal(backbones)
    for name, dom in list(space.items()):
        used = [c[name] for c in configs if name in c]
        if not used or name == "backbone":
            continue
        if isinstance(dom, Ordinal):
            extra = [v for v in used if not dom.contains(v)]
            if extra:
                space[name] = Ordinal(sorted(set(dom.values) | set(extra)))
        elif isinstance(dom, Categorical):
            extra = list(dict.fromkeys(v for v in used if not dom.contains(v)))
            if extra:
                space[name] = Categorical(list(dom.choices) + extra)
        elif isinstance(dom, (Float, Int)):
            low, high = min(dom.low, min(used)), max(dom.high, max(used))
            if (low, high) != (dom.low, dom.high):
                space[name] = type(dom)(low, high, log=dom.log)
    return space


def _values(dom) -> tuple:
    return tuple(getattr(dom, "values", None) or getattr(dom, "choices", None) or (dom,))


# ----------------------------------------------------------------------------- the benchmark

class ZooReplay(CurveBenchmark):
    """One zoo task as a simulator benchmark (see the module docstring); build it once per task
    and replay any number of runs on it."""

    mode = "max"

    def __init__(self, table: ZooTable, task: str | int | None = None, *, space: dict | None = None):
        from autopreset.space import domains

        if task is None:
            if len(table.tasks) != 1:
                raise ValueError(f"the table holds {len(table.tasks)} tasks; name the one to replay")
            task = 0
        ti = table.tasks.index(task) if isinstance(task, str) else int(task)
        self.table, self.task, self.index = table, table.tasks[ti], ti
        self.info = dict(table.task_info[ti])
        self.space = replay_space(table) if space is None else space
        self.max_resource = table.horizon
        self.configs = [dict(c["config"]) for c in table.configs]
        self.ids = table.ids
        self.acc = np.array(table.acc[ti], float)                     # (C, H)
        self.seconds = _fill_seconds(np.array(table.seconds[ti], float))
        value = table.value()[ti]
        self.value = value                                            # (C,) best within the horizon
        self.optimum, self.worst = float(value.max()), float(value.min())
        doms = domains(self.space)
        self._key = "backbone"
        self._order = {b: i for i, b in enumerate(_values(doms[self._key]))}
        recorded = set.intersection(*(set(c) for c in self.configs))
        self._rest = [(n, d) for n, d in doms.items() if n != self._key and n in recorded]
        self._backbones = np.array([self._order[c[self._key]] for c in self.configs])
        self._X = np.array([self._encode(c) for c in self.configs])
        self._cache: dict[str, int] = {}

    @property
    def full_run_s(self) -> float:
        """Median simulated seconds of one whole recorded run (every epoch, one job start)."""
        return float(np.median(self.seconds.sum(axis=1))) + JOB_S

    def _encode(self, config: dict) -> np.ndarray:
        parts = [dom.to_unit(config[name]) for name, dom in self._rest]
        return np.concatenate(parts) if parts else np.zeros(0)

    def nearest(self, config: dict) -> int:
        """Index of the recorded config a proposal is replayed as (module docstring)."""
        from autopreset.space import config_key

        key = config_key({k: config[k] for k in self.space if k in config})
        hit = self._cache.get(key)
        if hit is None:
            pos = self._order.get(config[self._key])
            if pos is None:
                raise ValueError(f"backbone {config[self._key]!r} is not in the replay space")
            gap = np.abs(self._backbones - pos)
            rows = np.flatnonzero(gap == gap.min())
            d = np.linalg.norm(self._X[rows] - self._encode(config), axis=1)
            hit = self._cache[key] = int(rows[int(np.argmin(d))])
        return hit

    def curve(self, config: dict) -> tuple[np.ndarray, np.ndarray]:
        i = self.nearest(config)
        return self.acc[i], self.seconds[i]

    def final(self, config: dict) -> float:
        return float(self.value[self.nearest(config)])

    def regret(self, accuracy: float) -> float:
        """Normalized regret of a best validation accuracy on this task: (best - a) / (best -
        worst) over the recorded configs' best-within-the-horizon values (``ZooTable.regret``'s
        normalization): 0 is the task's best config, 1 its worst trained whole, above 1 worse
        than that (a run that trained only a few epochs). No result at all counts as chance, as
        in ``ZooTable.value``."""
        if not math.isfinite(accuracy):
            accuracy = 1.0 / max(2, int(self.info.get("n_classes", 2)))
        span = self.optimum - self.worst
        return float((self.optimum - accuracy) / span) if span > 0 else 0.0


def _fill_seconds(sec: np.ndarray) -> np.ndarray:
    """Epochs not recorded (after a failure) cost the cell's median epoch (the task's when the
    cell has none): the epoch that failed took about that long before its NaN appeared."""
    out = sec.copy()
    task_median = float(np.nanmedian(sec)) if np.isfinite(sec).any() else 1.0
    for row in out:
        bad = ~np.isfinite(row)
        if bad.any():
            row[bad] = float(np.nanmedian(row)) if (~bad).any() else task_median
    return out


# ----------------------------------------------------------------------------- fit's inputs

def replay_cost_model(bench: ZooReplay):
    """fit's :class:`~autopreset.pipeline.CostModel` for the task, from its recorded seconds:
    each backbone's training speed is the median over its recorded configs of the speed that
    makes the plan's estimate (``SPEED_MARGIN`` x ``epoch_seconds``) equal the config's median
    recorded epoch, with evaluation 3x as fast as training and no fixed epoch overhead (the
    recorded seconds hold it). Like fit's measured model, it knows speeds per backbone, not per
    config."""
    from autopreset.pipeline import SPEED_MARGIN, CostModel

    n_train, n_val = int(bench.info.get("n_train", 1000)), int(bench.info.get("n_val", 250))
    probe = CostModel(n_train=n_train, n_val=n_val, train_ips={}, eval_ips={}, epoch_overhead_s=0.0,
                      job_overhead_s=JOB_S)
    speeds: dict[str, list[float]] = {}
    for c, sec in zip(bench.configs, bench.seconds):
        s = float(np.median(sec)) / SPEED_MARGIN
        bs = int(c.get("batch_size", probe.ref_batch))
        imgs = (n_train // max(1, min(bs, n_train))) * min(bs, n_train)
        work = imgs / probe.batch_factor(bs) + n_val / 3.0     # images at the reference speed
        if s > 0:
            speeds.setdefault(c["backbone"], []).append(work / s)
    ips = {b: float(np.median(v)) for b, v in speeds.items()}
    return CostModel(n_train=n_train, n_val=n_val, train_ips=ips,
                     eval_ips={b: 3.0 * v for b, v in ips.items()}, epoch_overhead_s=0.0,
                     job_overhead_s=JOB_S, notes=[f"from the zoo's recorded seconds of {bench.task}"])


def loo_portfolio(table: ZooTable, task: str, *, k: int = 12, tiers: tuple[str, ...] = PORTFOLIO_TIERS,
                  horizon: int | None = None) -> list[dict]:
    """The greedy portfolio (``greedy_portfolio``, Auto-sklearn 2.0) of ``k`` configs of the
    given tiers, built on every task of ``table`` but ``task``: the left-out task's curves play
    no part in it, nor do the local candidates made from them."""
    from ._portfolio import greedy_portfolio

    others = [t for t in table.tasks if t != task]
    if not others:
        raise ValueError(f"leave-one-task-out needs another task than {task!r}")
    table = table.without_born_of(task)       # nor do the candidates made from them
    sub = table.subset(tasks=others)
    allowed = np.array([t in tiers for t in table.tiers()])
    order = greedy_portfolio(sub.regret(horizon), k, allowed=allowed, cost=sub.cost(horizon).mean(axis=0))
    return [dict(table.configs[i]["config"]) for i in order]


# ----------------------------------------------------------------------------- runs

@dataclass
class ReplayRun:
    """One strategy's run on one task: the best validation accuracy so far against simulated
    seconds (a point at each improvement), the final best, and what ran."""

    strategy: str
    task: str
    budget_s: float
    seed: int
    trace: list[tuple[float, float]] = field(default_factory=list)
    final: float = -math.inf
    regret: float = math.inf
    spent_s: float = 0.0
    n_trials: int = 0
    epochs: int = 0
    reports: list[tuple[float, int, int, float]] = field(default_factory=list, repr=False)
    info: dict = field(default_factory=dict)

    def time_to(self, target: float) -> float | None:
        """Simulated seconds until the best so far first reached ``target`` (None: never)."""
        for t, best in self.trace:
            if best >= target:
                return t
        return None

    def to_json(self) -> dict:
        """Everything but the reports (the trace holds what the study reads)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "reports"}
        out.update(trace=[[round(t, 3), b] for t, b in self.trace], info=dict(self.info))
        return out


class _Recorder:
    """Collects a run's reports: (simulated seconds, recorded config index, epoch, metric)."""

    def __init__(self, bench: ZooReplay, run: ReplayRun):
        self.bench, self.run = bench, run
        self.configs: dict[int, int] = {}

    def add(self, t: float, index: int, resource: int, metric: float) -> None:
        run = self.run
        run.reports.append((float(t), index, int(resource), float(metric)))
        run.epochs += 1
        if metric > run.final:
            run.final = float(metric)
            run.trace.append((float(t), float(metric)))

    def __call__(self, event: dict) -> None:      # the tuner's on_event
        kind = event["event"]
        if kind == "started":
            self.configs[event["trial_id"]] = self.bench.nearest(event["config"])
            self.run.n_trials += 1
        elif kind == "reported":
            r = event["result"]
            self.add(r["time"], self.configs[event["trial_id"]], r["resource"], r["metric"])

    def done(self, spent_s: float) -> ReplayRun:
        run = self.run
        run.spent_s = float(spent_s)
        run.regret = self.bench.regret(run.final)
        run.info["distinct_configs"] = len({i for _, i, _, _ in run.reports})   # recorded configs replayed
        return run


def _bench(table, task) -> ZooReplay:
    return table if isinstance(table, ZooReplay) else ZooReplay(table, task)


def _tune(bench: ZooReplay, scheduler, budget_s: float, seed: int, strategy: str,
          info: dict) -> tuple[ReplayRun, dict[int, int]]:
    """The run, and the recorded config each trial replayed (trial id -> index)."""
    from autopreset.simulator import SimulatedExecutor
    from autopreset.tuner import Tuner

    rec = _Recorder(bench, ReplayRun(strategy, bench.task, float(budget_s), int(seed), info=info))
    result = Tuner(bench, scheduler, executor=SimulatedExecutor(1, overhead_s=JOB_S),
                   budget_s=float(budget_s), seed=seed, on_event=rec).run()
    return rec.done(result.spent_s), rec.configs


def run_fit(table, budget_s: float, seed: int, portfolio: list[dict], *, proposals: str = "random",
            inner: str = "hyperband", task=None, strategy: str | None = None) -> ReplayRun:
    """fit's search on the replayed task: its plan for ``budget_s`` over ``portfolio`` (no refit:
    the study compares searches, and a refit's gain is not on the validation curves; nothing
    reserved for finishing, as for every strategy; every backbone allowed, as ``--prefer
    accuracy`` without a latency bound), then PortfolioHyperband with ``proposals`` and
    ``inner`` (its defaults are fit as it ships)."""
    from autopreset.pipeline import make_plan
    from autopreset.schedulers import PortfolioHyperband

    bench = _bench(table, task)
    cost = replay_cost_model(bench)
    plan = make_plan(budget_s=budget_s, left_s=budget_s, reserve_s=0.0, cost=cost,
                     portfolio=[dict(c) for c in portfolio], n_workers=1, eta=ETA,
                     max_resource_cap=bench.max_resource, random_state=seed, refit=False)
    plan = dataclasses.replace(plan, flip=bool(bench.info.get("flip", True)))
    planned, cut = plan.max_resource, plan.max_resource > bench.max_resource
    if cut:   # one config given every epoch the budget affords: the curves end at the horizon
        plan = dataclasses.replace(plan, max_resource=bench.max_resource,
                                   portfolio_rungs=[[1, bench.max_resource]])
    sched = PortfolioHyperband(space=bench.space, plan=plan.schedule(), allowed=None, mode="max",
                               random_state=seed, proposals=proposals, inner=inner,
                               max_resource_cap=bench.max_resource)
    run, replayed = _tune(bench, sched, budget_s, seed, strategy or _fit_name(proposals, inner),
                          {"plan_max_resource": planned, "portfolio": len(plan.portfolio),
                           "hyperband_planned": plan.hyperband is not None, "cut_to_horizon": cut})
    later = [i for t, i in replayed.items() if t not in sched.portfolio_trial_ids]
    run.info.update(phase=sched.phase, max_resource=sched.max_resource, trials_after_portfolio=len(later),
                    configs_after_portfolio=len(set(later)))
    return run


#: proposals inside fit's Hyperband (PortfolioHyperband's ``proposals``) -> strategy name part
PROPOSALS = {"random": "", "bayesopt": "+bo_gp", "bayesopt_forest": "+bo_forest",
             "evolution": "+evolution"}


def _fit_name(proposals: str, inner: str) -> str:
    return "fit" + PROPOSALS.get(proposals, f"+{proposals}") + ("" if inner == "hyperband" else "+cs")


def run_hyperband(table, budget_s: float, seed: int, portfolio=None, *, task=None) -> ReplayRun:
    """Hyperband with random proposals over the whole space, brackets repeated to the budget."""
    from autopreset.schedulers import Hyperband

    bench = _bench(table, task)
    sched = Hyperband(space=bench.space, mode="max", max_resource=bench.max_resource, min_resource=1,
                      eta=ETA, random_state=seed)
    return _tune(bench, sched, budget_s, seed, "hyperband", {})[0]


def run_random(table, budget_s: float, seed: int, portfolio=None, *, task=None) -> ReplayRun:
    """Random search: configs drawn from the whole space, each trained for the whole horizon."""
    from autopreset.schedulers import FIFO
    from autopreset.searchers import RandomSearcher

    bench = _bench(table, task)
    sched = FIFO(searcher=RandomSearcher(bench.space, mode="max", random_state=seed), mode="max",
                 max_resource=bench.max_resource)
    return _tune(bench, sched, budget_s, seed, "random", {})[0]


def run_optuna(table, budget_s: float, seed: int, portfolio=None, *, task=None) -> ReplayRun:
    """Optuna's TPE sampler with its HyperbandPruner (eta 3, epochs 1 to the horizon), as the fit
    benchmark's Optuna baseline is configured, by ask/tell on the replayed curves: a trial costs
    ``JOB_S`` to start and each epoch its recorded seconds; it reports every epoch and is pruned
    when Optuna says so; its value is its best epoch. At the budget the epoch in progress is
    lost, as on the simulated executor."""
    import optuna

    bench = _bench(table, task)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(   # (the pruner picks each trial's bracket from the study's name)
        study_name=f"replay-{bench.task}-{seed}", direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=bench.max_resource,
                                              reduction_factor=ETA))
    rec = _Recorder(bench, ReplayRun("optuna", bench.task, float(budget_s), int(seed)))
    clock, H = 0.0, bench.max_resource
    while clock + JOB_S < budget_s:
        trial = study.ask()
        config = _optuna_config(trial, bench.space)
        index = bench.nearest(config)
        metrics, seconds = bench.acc[index], bench.seconds[index]
        rec.run.n_trials += 1
        clock += JOB_S
        state, best = optuna.trial.TrialState.COMPLETE, -math.inf
        for r in range(1, H + 1):
            if clock + seconds[r - 1] > budget_s:
                clock, state = budget_s, None
                break
            clock += float(seconds[r - 1])
            m = float(metrics[r - 1])
            if not math.isfinite(m):               # the run diverged: a failed trial
                state = optuna.trial.TrialState.PRUNED
                break
            rec.add(clock, index, r, m)
            best = max(best, m)
            trial.report(m, r)
            if trial.should_prune():
                state = optuna.trial.TrialState.PRUNED
                break
        if state is None:
            break
        if state == optuna.trial.TrialState.COMPLETE:
            study.tell(trial, best)
        else:
            study.tell(trial, state=state)
    return rec.done(min(clock, budget_s))


def _optuna_config(trial, space: dict) -> dict:
    """The space as Optuna's distributions: floats (log where the domain is), ordinals and
    categoricals as categorical choices, constants copied."""
    from autopreset.space import Categorical, Float, Int, Ordinal

    config = {}
    for name, dom in space.items():
        if isinstance(dom, (Categorical, Ordinal)):
            config[name] = trial.suggest_categorical(name, list(_values(dom)))
        elif isinstance(dom, Float):
            config[name] = trial.suggest_float(name, dom.low, dom.high, log=dom.log)
        elif isinstance(dom, Int):
            config[name] = trial.suggest_int(name, dom.low, dom.high, log=dom.log)
        else:
            config[name] = dom
    return config


#: name -> f(table or ZooReplay, budget_s, seed, portfolio) -> ReplayRun: fit with each kind of
#: proposals, with Hyperband ("fit", "fit+bo_gp", ...) or curve stopping ("...+cs") after the
#: portfolio, and the peers
STRATEGIES = {
    **{_fit_name(p, i): partial(run_fit, proposals=p, inner=i, strategy=_fit_name(p, i))
       for i in ("hyperband", "curve_stopping") for p in PROPOSALS},
    "hyperband": run_hyperband,
    "random": run_random,
    "optuna": run_optuna,
}
