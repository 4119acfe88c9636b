"""Custom click parameter types."""
from __future__ import annotations

import click

from autopreset._duration import parse_duration


class Duration(click.ParamType):
    """A wall-clock duration: ``90s``, ``10m``, ``4h``, ``1h30m`` or seconds. Converts to float seconds."""

    name = "duration"

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION = Duration()
