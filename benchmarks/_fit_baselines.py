"""One baseline run of the fit benchmark, in its own process (benchmarks/fit.py calls it).

    python benchmarks/_fit_baselines.py --method optuna|random|default --train DIR --test DIR
        --budget SECONDS --seed N --out RUN_DIR --result FILE.json

All baselines use autopreset's own data preparation (same split, same cache, same resolution)
and its trainer (TrainingTask), so only the search strategy differs:

* default: one fixed config (resnet18, SGD, a standard small-image recipe) trained for as many
  epochs as the budget allows, measured from its own throughput.
* random: random search over the lecture's full space, each trial trained for MAX_EPOCHS,
  through autopreset's Tuner with FIFO (so the deadline is held like autopreset's).
* optuna: Optuna's TPE sampler with its HyperbandPruner over the same space, trials report
  after every epoch; ``study.optimize(timeout=...)``, and a running trial also stops at the
  deadline after its current epoch (Optuna alone would let it run on).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

START = time.monotonic()
MAX_EPOCHS = 10
FINISH_RESERVE_S = 8.0
DEFAULT_CONFIG = {"backbone": "resnet18", "optimizer": "sgd", "lr": 0.05, "batch_size": 64,
                  "momentum": 0.9, "weight_decay": 5e-4, "label_smoothing": 0.1}


class Trace:
    """Best validation accuracy so far against seconds since the process started."""

    def __init__(self):
        self.points: list[tuple[float, float]] = []
        self.best = -math.inf

    def add(self, metric: float) -> None:
        if metric > self.best:
            self.best = metric
            self.points.append((time.monotonic() - START, float(metric)))


class DeadlineReporter:
    def __init__(self, checkpoint_dir, max_resource, deadline, trace, on_report=None, seed=0):
        self.checkpoint_dir = Path(checkpoint_dir)
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        self.max_resource = self.target_resource = int(max_resource)
        self.deadline, self.trace, self.on_report = deadline, trace, on_report
        self.seed, self.trial_id, self.results = seed, 0, []

    def report(self, *, resource, metric, **extra):
        """Like autopreset's own deadline rule: stop before an epoch that would end past it."""
        self.results.append({"resource": resource, "metric": metric})
        self.trace.add(metric)
        self.last_epoch_s = float(extra.get("seconds", 0.0))
        self.slowest = max(getattr(self, "slowest", 0.0), self.last_epoch_s)
        go_on = time.monotonic() + 1.15 * self.slowest < self.deadline
        if self.on_report is not None:
            go_on = self.on_report(resource, metric) and go_on
        return go_on


def test_accuracy(checkpoint_dir: Path, test_dir: str) -> float:
    from autopreset.model import ModelCard, Predictor
    from autopreset.training import load_model_from_checkpoint

    module, meta = load_model_from_checkpoint(checkpoint_dir, which="best")
    card = ModelCard(backbone=meta["backbone"], classes=list(meta["classes"]),
                     input_size=int(meta["input_size"]), mean=list(meta["mean"]), std=list(meta["std"]))
    return Predictor(module, card).evaluate(test_dir)["accuracy"]


def epochs_for(config, prepared, seconds) -> int:
    from autopreset.backbones import measure_train_speed

    speed = measure_train_speed([config["backbone"]], prepared.resolution,
                                batch_size=int(config["batch_size"]),
                                n_classes=len(prepared.dataset.classes), device="cpu")[config["backbone"]]
    epoch_s = prepared.n_train / speed.train_ips + prepared.n_val / speed.eval_ips + 0.1
    return max(1, int(seconds // epoch_s))


def run_default(task, prepared, out, deadline, trace, seed):
    # A probe of two epochs measures this config's epoch time (the second epoch's, which holds
    # no model creation or first-call warm-up); the run then plans its cosine schedule to fill
    # what is left. The deadline rule still stops it before an epoch that would overrun.
    probe = DeadlineReporter(out / "probe", 2, deadline, Trace(), seed=seed)
    start = time.monotonic()
    task(dict(DEFAULT_CONFIG), probe)
    probe_s = max(time.monotonic() - start, 1e-3)
    epoch_s = probe.last_epoch_s if probe.results else probe_s
    setup_s = max(0.0, probe_s - len(probe.results) * epoch_s)
    epochs = max(1, int((deadline - time.monotonic() - setup_s) // (1.05 * epoch_s)))
    reporter = DeadlineReporter(out / "trial", epochs, deadline, trace, seed=seed)
    task(dict(DEFAULT_CONFIG), reporter)
    return out / "trial", {"epochs": epochs, "trials": 1}


def run_random(task, prepared, out, deadline, trace, seed):
    from autopreset.pipeline import BudgetedObjective
    from autopreset.executors import LocalExecutor
    from autopreset.schedulers import FIFO
    from autopreset.searchers import RandomSearcher
    from autopreset.space import lecture_space
    from autopreset.tuner import Tuner

    space = lecture_space()
    scheduler = FIFO(searcher=RandomSearcher(space, mode="max", random_state=seed), mode="max",
                     max_resource=MAX_EPOCHS)

    def on_event(event):
        if event.get("event") == "reported":
            trace.add(event["result"]["metric"])

    # One worker process, so that the tuner can end a trial that runs past the deadline.
    # autopreset's own deadline rule (stop before an epoch that would overrun, so the trial
    # keeps its checkpoint), and one worker process so a trial past the deadline can be ended.
    result = Tuner(BudgetedObjective(task), scheduler, executor=LocalExecutor(1),
                   budget_s=max(1.0, deadline - time.monotonic()),
                   run_dir=out / "tuner", seed=seed, on_event=on_event).run()
    saved = [t for t in result.trials if t.results and t.checkpoint_dir
             and (Path(t.checkpoint_dir) / "checkpoint.json").exists()]
    if not saved:
        raise RuntimeError(f"random search saved no model within the budget ({len(result.trials)} trials)")
    best = max(saved, key=lambda t: max(r["metric"] for r in t.results))
    return Path(best.checkpoint_dir), {"trials": len(result.trials)}


def run_optuna(task, prepared, out, deadline, trace, seed):
    import optuna

    from autopreset.space import Categorical, Float, Ordinal, lecture_space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = lecture_space()

    def suggest(trial):
        config = {}
        for name, dom in space.items():
            if isinstance(dom, (Categorical, Ordinal)):
                values = list(dom.choices if isinstance(dom, Categorical) else dom.values)
                config[name] = trial.suggest_categorical(name, values)
            elif isinstance(dom, Float):
                config[name] = trial.suggest_float(name, dom.low, dom.high, log=dom.log)
            else:
                config[name] = dom
        return config

    best = {"metric": -math.inf, "dir": None}

    def objective(trial):
        config = suggest(trial)
        trial_dir = out / "trials" / f"{trial.number:04d}"

        def on_report(resource, metric):
            trial.report(metric, resource)
            return not trial.should_prune()

        reporter = DeadlineReporter(trial_dir, MAX_EPOCHS, deadline, trace, on_report, seed=seed)
        try:
            task(config, reporter)
        except Exception as exc:  # a failed config (e.g. out of memory) is a failed trial
            raise optuna.TrialPruned(str(exc)) from None
        value = max(r["metric"] for r in reporter.results) if reporter.results else -math.inf
        if value > best["metric"]:
            best.update(metric=value, dir=trial_dir)
        if trial.should_prune():
            raise optuna.TrialPruned()
        return value

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=MAX_EPOCHS,
                                                                      reduction_factor=3))
    study.optimize(objective, timeout=max(1.0, deadline - time.monotonic()), catch=())
    if best["dir"] is None:
        raise RuntimeError("optuna finished no epoch within the budget")
    return best["dir"], {"trials": len(study.trials)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--method", choices=["default", "random", "optuna"], required=True)
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--budget", type=float, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--result", required=True)
    args = parser.parse_args(argv)

    from autopreset.pipeline import prepare_data
    from autopreset.training import TrainingTask

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    deadline = START + args.budget - FINISH_RESERVE_S
    prepared = prepare_data(args.train, seed=args.seed)
    task = TrainingTask(cache=prepared.cache, labels=prepared.dataset.labels,
                        train_idx=prepared.train_idx, val_idx=prepared.val_idx,
                        classes=tuple(prepared.dataset.classes), device="cpu")
    trace = Trace()
    runner = {"default": run_default, "random": run_random, "optuna": run_optuna}[args.method]
    best_dir, info = runner(task, prepared, out, deadline, trace, args.seed)
    train_end = time.monotonic() - START
    acc = test_accuracy(best_dir, args.test)
    from autopreset.training import load_model_from_checkpoint

    _, meta = load_model_from_checkpoint(best_dir, which="best")
    Path(args.result).write_text(json.dumps({
        "method": args.method, "seed": args.seed, "budget_s": args.budget, "test_accuracy": acc,
        "backbone": meta["backbone"], "val_accuracy": trace.best, "trace": trace.points,
        "train_end_s": train_end, "resolution": prepared.resolution, **info}))


if __name__ == "__main__":
    sys.exit(main())
