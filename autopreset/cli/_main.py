"""Entry point: ``autopreset --help`` answers without importing torch or timm."""
from __future__ import annotations

import click

from autopreset import __version__
from autopreset.cli._lazy import LazyGroup


@click.group(
    cls=LazyGroup,
    lazy_subcommands={
        "fit": "autopreset.cli._fit:fit_command",
        "predict": "autopreset.cli._predict:predict_command",
        "evaluate": "autopreset.cli._predict:evaluate_command",
        "export": "autopreset.cli._export:export_command",
        "demo-data": "autopreset.cli._demo_data:demo_data_command",
        "presets": "autopreset.cli._presets:presets_group",
        "zoo": "autopreset.cli._zoo:zoo_group",
    },
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="autopreset")
def cli() -> None:
    """Zero-config AutoML for image classification.

    \b
      autopreset fit data/ --budget 10m --prefer latency --out runs/r1
      autopreset predict runs/r1/model photos/
    """


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="autopreset")
