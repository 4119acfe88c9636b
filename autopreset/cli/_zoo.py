"""``autopreset zoo``: write the zoo's tasks, record learning curves, build portfolios from them."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from autopreset.cli._lazy import LazyGroup
from autopreset.cli._types import DURATION


@click.group("zoo", cls=LazyGroup)
def zoo_group() -> None:
    """Earn a portfolio from data: record learning curves of many configs over many tasks, then
    pick the configs that together do best on all of them (greedy, on normalized regret).

    \b
      autopreset zoo tasks zoo_tasks/
      autopreset zoo run zoo_tasks/* --out zoo_results/ --shard 0/2
      autopreset zoo status zoo_results/
      autopreset zoo portfolio zoo_results/ -o presets/team.json --tiers tiny,small
      autopreset fit photos/ --preset presets/team.json
    """


@zoo_group.command("tasks")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--only", default="", help="Comma-separated task names (default: all).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the images and splits.")
@click.option("--list", "list_only", is_flag=True, help="List the tasks and write nothing.")
def tasks_command(out: str, only: str, seed: int, list_only: bool) -> None:
    """Write the zoo's offline tasks under OUT, each with fixed train/val/test folders."""
    from autopreset.zoo import TASKS, write_tasks

    if list_only:
        for spec in TASKS.values():
            click.echo(f"{spec.name:<18} {spec.description}")
        return
    names = [n.strip() for n in only.split(",") if n.strip()] or None
    for meta in write_tasks(out, names, seed=seed):
        c = meta["counts"]
        click.echo(f"{meta['name']:<18} {len(meta['classes']):>2} classes  train {c['train']:>4}  "
                   f"val {c['val']:>4}  test {c['test']:>4}  {meta['image_size'][0]} px")


@zoo_group.command("run")
@click.argument("tasks", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Zoo folder: candidates.json and records/ (resumed if there).")
@click.option("--shard", default="0/1", show_default=True,
              help="i/n: record only the configs whose rank is i modulo n.")
@click.option("--horizon", default=27, show_default=True, type=int,
              help="Epochs per curve (one learning-rate schedule over them).")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@click.option("--threads", default=1, show_default=True, type=int, help="CPU threads per run.")
@click.option("--configs", "configs_file", default=None, type=click.Path(dir_okay=False),
              help="A JSON list of configs to record instead of the zoo's candidates.")
@click.option("--tiers", default="", help="Only configs whose backbone is of these size tiers "
              "(comma-separated: tiny, small, medium, large).")
@click.option("--sources", default="", help="Only candidates whose source starts with one of "
              "these (comma-separated: curated, sampled, local).")
@click.option("--order", default="rank", show_default=True, type=click.Choice(["rank", "cheapest"]),
              help="Record configs in candidate rank, or those cheapest to complete on every "
              "task first (their missing cells priced by recorded seconds per cell).")
@click.option("--max-cells", default=None, type=int, help="Stop after recording this many cells.")
@click.option("--stop-after", default=None, type=DURATION,
              help="Start no new cell after this long (e.g. 2h); rerun to continue.")
def run_command(tasks, out, shard, horizon, device, threads, configs_file, tiers, sources,
                order, max_cells, stop_after):
    """Record a learning curve of every candidate config on every task in TASKS (folders).

    Resumable: cells already recorded under OUT/records/ are skipped, so rerun the same command
    after a kill or on another machine with another --shard.
    """
    from autopreset.backbones import TIERS
    from autopreset.errors import InputError
    from autopreset.zoo import config_id, parse_shard, run_zoo

    tier_list = tuple(t.strip() for t in tiers.split(",") if t.strip())
    if any(t not in TIERS for t in tier_list):
        raise InputError(f"--tiers {tiers!r}: choose from {', '.join(TIERS)}")
    candidates = None
    if configs_file:
        raw = json.loads(Path(configs_file).read_text())
        raw = raw.get("candidates", raw) if isinstance(raw, dict) else raw
        if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
            raise click.BadParameter("must hold a JSON list of configs", param_hint="--configs")
        candidates = [c if "config" in c else {"id": config_id(c), "config": c, "source": "given"}
                      for c in raw]
    counts = run_zoo(list(tasks), out, candidates=candidates, shard=parse_shard(shard),
                     horizon=horizon, device=device, threads=threads, max_cells=max_cells,
                     stop_after_s=stop_after, tiers=tier_list or None, order=order,
                     sources=tuple(x.strip() for x in sources.split(",") if x.strip()) or None,
                     log=lambda line: click.echo(line))
    click.echo(f"zoo: {counts['recorded']} cell(s) recorded ({counts['failed']} failed), "
               f"{counts['done_before']} already there, {counts['left']} left for a later run")


@zoo_group.command("candidates")
@click.argument("zoo", type=click.Path(exists=True, file_okay=False))
@click.option("--local", "per_task", required=True, type=click.IntRange(1, 20),
              help="Neighbours to add around each task's incumbent (its best recorded config).")
@click.option("--horizon", default=27, show_default=True, type=int,
              help="Epochs the incumbents are chosen at.")
@click.option("--tiers", default="tiny,small,medium", show_default=True,
              help="Backbone size tiers an incumbent may have (its neighbours keep its tier).")
@click.option("--seed", default=0, show_default=True, type=int)
def candidates_command(zoo, per_task, horizon, tiers, seed):
    """Append a second round of candidates to ZOO/candidates.json: neighbours of every task's
    incumbent among the configs recorded on every task (zoo run records them next; --sources
    local runs them first)."""
    from autopreset.backbones import TIERS
    from autopreset.errors import InputError
    from autopreset.zoo import ZooTable, local_candidates
    from autopreset.zoo._run import write_candidates

    tier_list = tuple(t.strip() for t in tiers.split(",") if t.strip())
    if not tier_list or any(t not in TIERS for t in tier_list):
        raise InputError(f"--tiers {tiers!r}: choose from {', '.join(TIERS)}")
    path = Path(zoo, "candidates.json")
    if not path.is_file():
        raise InputError(f"{path}: no candidates yet (run `autopreset zoo run` first)")
    doc = json.loads(path.read_text())
    table = ZooTable.load(zoo, horizon=horizon)
    new = local_candidates(table, per_task=per_task, horizon=horizon, seed=seed, tiers=tier_list,
                           existing=[c["id"] for c in doc["candidates"]])
    every = list(doc["candidates"]) + new
    write_candidates(zoo, every)
    click.echo(f"{path}: {len(new)} local candidate(s) added around the incumbents of "
               f"{len(table.tasks)} task(s) ({len(table.configs)} configs recorded on all); "
               f"{len(every)} candidates in all")


@zoo_group.command("status")
@click.argument("zoo", type=click.Path(exists=True, file_okay=False))
@click.option("--horizon", default=27, show_default=True, type=int)
def status_command(zoo: str, horizon: int) -> None:
    """How much of ZOO is recorded: cells per task, configs complete on every task."""
    from autopreset.zoo import read_records

    rows = [r for r in read_records(zoo) if int(r["horizon"]) == horizon]
    cand = Path(zoo, "candidates.json")
    n_cand = len(json.loads(cand.read_text())["candidates"]) if cand.exists() else None
    per_task: dict[str, set] = {}
    for r in rows:
        per_task.setdefault(r["task"]["name"], set()).add(r["config_id"])
    complete = set.intersection(*per_task.values()) if per_task else set()
    for name in sorted(per_task):
        click.echo(f"{name:<18} {len(per_task[name]):>4} config(s)")
    total = f" of {n_cand} candidates" if n_cand else ""
    source = {r["config_id"]: str(r.get("source") or "given").split(":")[0] for r in rows}
    kinds: dict[str, int] = {}
    for cid in complete:
        kinds[source[cid]] = kinds.get(source[cid], 0) + 1
    by_kind = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    click.echo(f"{len(rows)} cell(s) over {len(per_task)} task(s); {len(complete)} config(s){total} "
               f"recorded on every task" + (f" ({by_kind})" if by_kind else ""))


@zoo_group.command("portfolio")
@click.argument("zoo", type=click.Path(exists=True, file_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Preset file to write.")
@click.option("--name", default=None, help="Preset name (default: the output file's stem).")
@click.option("--tiers", default="tiny,small,medium", show_default=True,
              help="Backbone size tiers the portfolio may use (tiny, small, medium, large).")
@click.option("--horizon", default=27, show_default=True, type=int,
              help="Epochs the portfolio is chosen for (the budget's schedule length).")
@click.option("-k", "--size", "k", default=12, show_default=True, type=int,
              help="Number of configs in the portfolio.")
@click.option("--tasks", default="", help="Comma-separated tasks to build on (default: all).")
@click.option("--exclude", default="", help="Comma-separated tasks to leave out.")
@click.option("--inner", default="hyperband", show_default=True,
              type=click.Choice(["hyperband", "curve_stopping"]),
              help="What fit runs after the portfolio (the replay study's verdict: "
                   "benchmarks/results/portfolio_replay.md).")
@click.option("--proposals", default="random", show_default=True,
              help="What proposes its configs: random, bayesopt_forest, evolution, ...")
@click.option("--max-resource", default=None, type=click.IntRange(1, 10_000),
              help="Longest schedule (epochs) fit may give a trial when the budget allows "
                   "(default: --horizon; the portfolio is ranked at --horizon either way).")
def portfolio_command(zoo, output, name, tiers, horizon, k, tasks, exclude, inner, proposals,
                      max_resource):
    """Build a preset from ZOO's records: a greedy portfolio that minimizes mean normalized regret."""
    from autopreset.backbones import TIERS
    from autopreset.errors import InputError
    from autopreset.portfolio import Preset, save_preset
    from autopreset.zoo import ZooTable, build_preset

    tier_list = tuple(t.strip() for t in tiers.split(",") if t.strip())
    bad = [t for t in tier_list if t not in TIERS]
    if bad or not tier_list:
        raise InputError(f"--tiers {tiers!r}: choose from {', '.join(TIERS)}")
    if k < 1:
        raise InputError(f"--size must be at least 1, got {k}")
    wanted = [t.strip() for t in tasks.split(",") if t.strip()] or None
    table = ZooTable.load(zoo, horizon=horizon, tasks=wanted)
    drop = {t.strip() for t in exclude.split(",") if t.strip()}
    if drop:
        unknown = sorted(drop - set(table.tasks))
        if unknown:
            raise InputError(f"--exclude {unknown[0]!r}: not a task of {zoo}")
        table = table.subset(tasks=[t for t in table.tasks if t not in drop])
    stem = name or Path(output).stem
    argv = " ".join(["autopreset zoo portfolio", *sys.argv[3:]]) if len(sys.argv) > 2 else ""
    doc = build_preset(table, name=stem, tiers=tier_list, horizon=horizon, k=k,
                       command=argv or f"autopreset zoo portfolio {zoo} -o {output}",
                       zoo_dir=os.path.normpath(zoo), inner=inner, proposals=proposals,
                       max_resource=max_resource)
    written = save_preset(Preset.from_json(doc), output)
    click.echo(f"wrote {written} ({stem}: {len(doc['portfolio'])} configs from "
               f"{len(table.configs)} x {len(table.tasks)} tasks)")
    for i, e in enumerate(doc["portfolio"], 1):
        click.echo(f"  {i:>2}. {e['config']['backbone']:<22} {e['reason'].split(';')[0]}")


@zoo_group.command("check")
@click.argument("presets", nargs=-1, required=True)
@click.option("--zoo", "zoo", default="zoo_results", show_default=True,
              type=click.Path(exists=True, file_okay=False), help="The zoo folder to check against.")
def check_command(presets, zoo):
    """Check that zoo-built PRESETS (files or shipped names) were chosen from cells the zoo
    still holds unchanged: the cells' digest matches, and greedy selection on them gives the
    same portfolio. Record files may have grown since; the cells are what is compared."""
    from autopreset.portfolio import load_preset
    from autopreset.zoo import check_preset

    for p in presets:
        click.echo(check_preset(load_preset(p), zoo))
