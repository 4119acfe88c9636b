"""The replay study's machinery (autopreset.zoo._replay) on a small synthetic zoo built here:
the nearest-config mapping, budgets, the curves every strategy is driven on, and the
leave-one-task-out portfolio. No training, no zoo_results/ and no wall-clock timing."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from autopreset.space import sample
from autopreset.zoo import ZooTable
from autopreset.zoo._replay import (JOB_S, STRATEGIES, ZooReplay, loo_portfolio, replay_cost_model,
                                    replay_space, run_fit, run_optuna, run_random)

H = 27
# backbone: (accuracy bonus, seconds per epoch); tiers: tiny, tiny, small, medium, large
BACKBONES = {"test_resnet": (0.0, 0.4), "lcnet_050": (-0.1, 0.8), "resnet10t": (0.04, 2.0),
             "resnet18": (0.05, 4.0), "resnet101": (0.03, 12.0)}
LR_OPT = {"sgd": 0.05, "adamw": 0.002}


def make_table(n_tasks: int = 4, n_configs: int = 20, seed: int = 0) -> ZooTable:
    """Curves rising to a ceiling set by the backbone and the learning rate's distance from its
    optimizer's sweet spot (which moves a little per task); seconds by backbone and task."""
    rng = np.random.default_rng(seed)
    space = replay_space()
    names = list(BACKBONES)
    configs = []
    for i in range(n_configs):
        c = sample(space, rng)
        c["backbone"] = names[i % len(names)]
        c = {k: float(f"{v:.3g}") if isinstance(v, float) else v for k, v in c.items()}
        configs.append({"id": f"c{i:02d}", "config": c, "source": "synthetic"})
    t = np.arange(1, H + 1)
    acc = np.zeros((n_tasks, n_configs, H))
    sec = np.zeros((n_tasks, n_configs, H))
    for ti in range(n_tasks):
        shift = rng.normal(0.0, 0.3)
        for ci, entry in enumerate(configs):
            c = entry["config"]
            bonus, s = BACKBONES[c["backbone"]]
            miss = (math.log10(c["lr"] / LR_OPT[c["optimizer"]]) - shift) ** 2
            ceiling = float(np.clip(0.85 + bonus - 0.06 * miss, 0.2, 0.99))
            acc[ti, ci] = np.clip(ceiling - (ceiling - 0.1) * (1 + t / (1 + 2 * miss)) ** -1.5
                                  + rng.normal(0, 0.004, H), 0, 1)
            sec[ti, ci] = s * (1 + 0.3 * ti) * rng.uniform(0.9, 1.1, H)
    info = tuple({"name": f"task{ti}", "n_train": 300, "n_val": 100, "n_classes": 10, "flip": True}
                 for ti in range(n_tasks))
    return ZooTable(tuple(f"task{ti}" for ti in range(n_tasks)), info, tuple(configs), acc, sec,
                    np.ones((n_tasks, n_configs)), np.zeros((n_tasks, n_configs), bool))


@pytest.fixture(scope="module")
def table() -> ZooTable:
    return make_table()


@pytest.fixture(scope="module")
def bench(table) -> ZooReplay:
    return ZooReplay(table, "task1")


# ---------------------------------------------------------------------------- the mapping

def test_a_recorded_config_replays_as_itself(bench):
    for i, c in enumerate(bench.configs):
        assert bench.nearest(c) == i
        metrics, seconds = bench.curve(c)
        assert np.array_equal(metrics, bench.acc[i], equal_nan=True)
        assert np.array_equal(seconds, bench.seconds[i])


def test_the_backbone_matches_first_then_the_nearest_encoding():
    base = {"lr": 0.01, "batch_size": 64, "momentum": 0.9, "weight_decay": 1e-4,
            "optimizer": "sgd", "label_smoothing": 0.1, "crop_scale": 0.4}
    rows = [{**base, "backbone": "resnet18", "lr": 0.001},             # 0: far lr, same backbone
            {**base, "backbone": "resnet18", "lr": 0.03},              # 1: near lr, same backbone
            {**base, "backbone": "test_resnet", "lr": 0.011},          # 2: nearest lr, other backbone
            {**base, "backbone": "resnet101", "lr": 0.01}]             # 3
    table = dataclasses.replace(make_table(n_tasks=1, n_configs=4),
                                configs=tuple({"id": f"r{i}", "config": c, "source": "t"}
                                              for i, c in enumerate(rows)))
    bench = ZooReplay(table)
    assert bench.nearest({**base, "backbone": "resnet18", "lr": 0.012}) == 1   # same backbone wins
    assert bench.nearest({**base, "backbone": "resnet18", "lr": 0.0012}) == 0
    assert bench.nearest({**base, "backbone": "test_resnet", "lr": 0.09}) == 2
    # a one-hot optimizer away counts more than a small move of the learning rate
    assert bench.nearest({**base, "backbone": "resnet18", "lr": 0.012, "optimizer": "adamw"}) == 1
    # an unrecorded backbone goes to the nearest recorded one in the space's backbone order
    order = list(bench.space["backbone"].values)
    for name in order:
        if name in {r["backbone"] for r in rows}:
            continue
        got = rows[bench.nearest({**base, "backbone": name})]["backbone"]
        gap = {b: abs(order.index(b) - order.index(name)) for b in ("resnet18", "test_resnet", "resnet101")}
        assert gap[got] == min(gap.values())
    # keys outside the space (a plan's constants) do not matter
    assert bench.nearest({**base, "backbone": "resnet18", "lr": 0.012, "augment": "crop"}) == 1


def test_the_space_holds_every_recorded_config(table):
    from autopreset.space import validate

    space = replay_space(table)
    for c in table.configs:
        validate(space, c["config"])
    assert "crop_scale" in space and "resnet101" in space["backbone"].values


def test_the_cost_model_follows_the_recorded_seconds(bench):
    from autopreset.pipeline import SPEED_MARGIN

    cost = replay_cost_model(bench)
    for c, sec in zip(bench.configs, bench.seconds):
        planned = SPEED_MARGIN * cost.epoch_seconds(c)
        assert 0.5 * np.median(sec) < planned < 2.0 * np.median(sec)


# ---------------------------------------------------------------------------- budgets and curves

@pytest.mark.parametrize("name", ["fit", "fit+cs", "hyperband", "random", "optuna"])
@pytest.mark.parametrize("runs", [3, 12])
def test_no_strategy_goes_past_its_budget(table, bench, name, runs):
    budget = runs * bench.full_run_s
    run = STRATEGIES[name](bench, budget, 1, loo_portfolio(table, bench.task))
    assert run.spent_s <= budget + 1e-9
    assert run.reports and max(t for t, *_ in run.reports) <= budget + 1e-9
    assert all(t <= budget + 1e-9 for t, _ in run.trace)
    assert run.final == max(m for *_, m in run.reports) == run.trace[-1][1]
    assert run.regret == bench.regret(run.final) >= 0.0
    assert run.spent_s >= 0.8 * budget or run.n_trials >= len(bench.configs)   # the budget is used


def _check_replayed(run, bench):
    """Every report is the recorded metric of the config it replays, and the clock advanced by
    exactly the recorded seconds of each epoch plus JOB_S per trial start (one worker)."""
    now = 0.0
    for t, i, epoch, metric in run.reports:
        assert metric == bench.acc[i, epoch - 1]
        now += bench.seconds[i, epoch - 1] + (JOB_S if epoch == 1 else 0.0)
        assert t == pytest.approx(now, abs=1e-4)     # (the tuner records times to 0.1 ms)


def test_optuna_and_random_search_replay_the_same_curves_on_the_same_clock(bench):
    budget = 10 * bench.full_run_s
    rand, opt = run_random(bench, budget, 0), run_optuna(bench, budget, 0)
    for run in (rand, opt):
        _check_replayed(run, bench)
    assert {e for _, _, e, _ in rand.reports} == set(range(1, H + 1))       # full runs
    assert all(e == H for *_, e, _ in [r for r in rand.reports if r[2] == H])
    pruned = [i for i, r in enumerate(opt.reports[:-1]) if r[2] < H and opt.reports[i + 1][2] == 1]
    assert pruned                                        # Optuna's pruner stopped some trials early


def test_runs_are_reproducible(table, bench):
    pf = loo_portfolio(table, bench.task)
    for name in ("fit", "optuna"):
        a, b = (STRATEGIES[name](bench, 8 * bench.full_run_s, 3, pf) for _ in range(2))
        assert a.reports == b.reports


def test_fit_runs_its_plan_with_the_portfolio_first(table, bench):
    pf = loo_portfolio(table, bench.task)
    run = run_fit(bench, 12 * bench.full_run_s, 0, pf)
    first = [i for _, i, e, _ in run.reports if e == 1][:len(pf)]
    recorded = [c["config"] for c in table.configs]
    assert first[:run.info["portfolio"]] == [recorded.index(c) for c in pf[:run.info["portfolio"]]]
    assert run.info["phase"] == "hyperband" and run.info["max_resource"] <= H
    assert 1 <= run.info["configs_after_portfolio"] <= run.info["trials_after_portfolio"] < run.n_trials
    assert run.info["distinct_configs"] == len({i for _, i, _, _ in run.reports})


# ---------------------------------------------------------------------------- leave-one-task-out

def test_the_left_out_tasks_curves_play_no_part_in_its_portfolio(table):
    for task in table.tasks:
        pf = loo_portfolio(table, task, k=6)
        ti = table.tasks.index(task)
        acc, sec = table.acc.copy(), table.seconds.copy()
        acc[ti] = 1.0 - acc[ti]                      # the ranking on the left-out task reversed
        sec[ti] = sec[ti][::-1] * 7.0
        changed = dataclasses.replace(table, acc=acc, seconds=sec)
        assert loo_portfolio(changed, task, k=6) == pf
        tiers = dict(zip([c["config"]["backbone"] for c in table.configs], table.tiers()))
        assert all(tiers[c["backbone"]] in ("tiny", "small", "medium") for c in pf)
    # ... while the other tasks' curves do decide it
    other = table.tasks[0]
    acc = table.acc.copy()
    acc[table.tasks.index(other)] = 1.0 - acc[table.tasks.index(other)]
    assert loo_portfolio(dataclasses.replace(table, acc=acc), table.tasks[1], k=6) != \
        loo_portfolio(table, table.tasks[1], k=6)


def test_leave_one_out_needs_another_task(table):
    with pytest.raises(ValueError, match="another task"):
        loo_portfolio(table.subset(tasks=["task0"]), "task0")


def test_a_failed_epoch_fails_the_trial_and_costs_an_epoch():
    table = make_table(n_tasks=1, n_configs=5)
    acc, sec = table.acc.copy(), table.seconds.copy()
    acc[0, :, 5:] = np.nan                  # every run diverged after five epochs
    sec[0, :, 5:] = np.nan
    bench = ZooReplay(dataclasses.replace(table, acc=acc, seconds=sec))
    assert np.isfinite(bench.seconds).all()
    run = run_random(bench, 4 * bench.full_run_s, 0)
    assert {e for _, _, e, _ in run.reports} == set(range(1, 6))
    assert run.final == np.nanmax(acc[0, [i for _, i, _, _ in run.reports]])


def test_regret_is_normalized_over_the_tasks_recorded_configs(table, bench):
    value = table.value()[table.tasks.index(bench.task)]
    assert bench.regret(value.max()) == 0.0
    assert bench.regret(value.min()) == pytest.approx(1.0)
    assert bench.regret(-math.inf) == bench.regret(0.1) > 1.0     # nothing reported: chance (10 classes)
    assert np.allclose([bench.regret(v) for v in value], table.regret()[table.tasks.index(bench.task)])
