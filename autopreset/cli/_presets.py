"""``autopreset presets``: list, show, validate and export preset files."""
from __future__ import annotations

import click

from autopreset.cli._lazy import LazyGroup


@click.group("presets", cls=LazyGroup)
def presets_group() -> None:
    """Shipped presets and preset files shared between people and projects."""
