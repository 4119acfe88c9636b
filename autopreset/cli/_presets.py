"""``autopreset presets``: list, show, validate and export preset files."""
from __future__ import annotations

import json
from pathlib import Path

import click

from autopreset.cli._lazy import LazyGroup

RUN_CARD = "preset.json"  # the preset card a finished ``fit`` leaves in its run folder


@click.group("presets", cls=LazyGroup)
def presets_group() -> None:
    """Shipped presets and preset files shared between people and projects.

    \b
      autopreset presets list
      autopreset presets show latency
      autopreset presets export runs/latest -o team.json
      autopreset fit other_data/ --preset team.json
      autopreset presets schema > preset.schema.json   # for editors and CI
    """


@presets_group.command("list")
def list_command() -> None:
    """The presets shipped with autopreset, with their descriptions."""
    from autopreset.portfolio import list_presets, load_preset

    for name in list_presets():
        preset = load_preset(name)
        click.echo(f"{name:<10} {len(preset.portfolio):>2} configs  {preset.description}")


@presets_group.command("show")
@click.argument("preset")
@click.option("--json", "as_json", is_flag=True, help="Print the whole preset as JSON.")
def show_command(preset: str, as_json: bool) -> None:
    """Show PRESET (a shipped name or a file): its space, portfolio and provenance."""
    from autopreset.portfolio import load_preset

    p = load_preset(preset)
    if as_json:
        click.echo(json.dumps(p.to_json(), indent=2, ensure_ascii=False))
        return
    click.echo(f"{p.name}: {p.description}")
    click.echo(f"curated: {p.provenance.curation} ({p.provenance.date})")
    run = p.provenance.run
    if run:                                   # a preset card: the run it came from
        aug = run["augmentation"]
        crop = f", random crops >= {aug['crop_scale']:.0%}" if "crop_scale" in aug else ""
        click.echo(f"run: {run['task']} on {p.provenance.datasets[0]}; trained at "
                   f"{run['resolution']}px, {'with' if aug['flip'] else 'no'} flips{crop}")
    hb = p.hyperband
    click.echo(f"hyperband: eta={hb.eta}, {hb.resource} {hb.min_resource}..{hb.max_resource}")
    click.echo("search space:")
    for name, domain in p.space.items():
        click.echo(f"  {name:<16} {domain!r}")
    click.echo("portfolio:")
    for i, entry in enumerate(p.portfolio, 1):
        config = ", ".join(f"{k}={v}" for k, v in entry.config.items())
        click.echo(f"  {i:>2}. {config}\n      {entry.reason}")


@presets_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path())
def validate_command(files: tuple[str, ...]) -> None:
    """Check preset FILES (or shipped names): the JSON Schema (`autopreset presets schema`),
    then what a schema cannot say (configs inside the space, tiers, the trainer's ranges).
    The first error of each is printed; the exit status is 1 when any is invalid."""
    from autopreset.portfolio import load_preset

    failed = 0
    for file in files:
        try:
            preset = load_preset(file if file.endswith(".json") or Path(file).exists() else file)
        except ValueError as exc:
            failed += 1
            click.echo(f"invalid: {exc}", err=True)
        else:
            click.echo(f"ok: {file} ({preset.name}, {len(preset.portfolio)} configs)")
    if failed:
        raise SystemExit(1)


@presets_group.command("export")
@click.argument("source")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Preset file to write.")
@click.option("--name", default=None, help="Name to give the exported preset.")
def export_command(source: str, output: str, name: str | None) -> None:
    """Write the preset of SOURCE (a run folder's preset card, a shipped name or a file) to OUTPUT."""
    from dataclasses import replace

    from autopreset.portfolio import load_preset, save_preset

    path = Path(source)
    if path.is_dir():
        card = path / RUN_CARD
        if not card.is_file():
            raise FileNotFoundError(f"{card}: no preset card in this run folder (has the fit finished?)")
        preset = load_preset(card)
    else:
        preset = load_preset(source)
    if name:
        preset = replace(preset, name=name)
    written = save_preset(preset, output)
    click.echo(f"wrote {written} ({preset.name}, {len(preset.portfolio)} configs)")
    from autopreset.portfolio import sharing_problems

    problems = sharing_problems(preset.to_json())
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    if problems:
        click.echo(f"warning: {written} names local paths or this machine ({len(problems)} "
                   "field(s) above): edit them before sharing it (cards written by this "
                   "version name none)", err=True)


@presets_group.command("schema")
def schema_command() -> None:
    """Print the preset format's JSON Schema (draft 2020-12).

    \b
      autopreset presets schema > preset.schema.json

    With "$schema": "./preset.schema.json" in a preset, an editor checks it as you type; any
    JSON Schema tool can check presets in CI (`autopreset presets validate` also checks what
    a schema cannot say).
    """
    from autopreset.portfolio import schema_text

    click.echo(schema_text(), nl=False)
