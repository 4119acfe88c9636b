"""The zoo: recorded learning curves of many configs over many tasks, and the portfolios built
from them (Auto-sklearn 2.0's greedy portfolio on normalized regret).

    autopreset zoo tasks zoo_tasks/                         # 20 offline tasks, fixed splits
    autopreset zoo run zoo_tasks/* --out zoo_results/ --shard 0/2
    autopreset zoo candidates zoo_results/ --local 2        # a second round around the incumbents
    autopreset zoo portfolio zoo_results/ -o presets/mine.json --tiers tiny,small

In Python:

    from autopreset.zoo import ZooTable, greedy_portfolio
    table = ZooTable.load("zoo_results")
    order = greedy_portfolio(table.regret(27), k=8)

See zoo_results/README.md for every column of the records.
"""
from ._candidates import CROP_SCALES, config_id, local_candidates, make_candidates
from ._portfolio import (PREFERENCE_SHARES, PRESET_TIERS, build_preset, check_preset,
                         greedy_by_preference, greedy_portfolio, portfolio_regret,
                         preference_groups)
from ._run import ZooTask, load_task, parse_shard, read_records, run_zoo
from ._table import ZooTable, expected_random_regret, normalized_regret
from ._tasks import TASKS, TaskSpec, task_names, write_tasks

__all__ = ["TASKS", "TaskSpec", "task_names", "write_tasks", "make_candidates", "config_id",
           "local_candidates",
           "CROP_SCALES", "run_zoo", "read_records", "load_task", "ZooTask", "parse_shard",
           "ZooTable", "normalized_regret", "expected_random_regret", "greedy_portfolio",
           "portfolio_regret", "build_preset", "check_preset", "PRESET_TIERS", "greedy_by_preference",
           "preference_groups", "PREFERENCE_SHARES"]
