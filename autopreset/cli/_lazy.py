"""A click group that imports each sub-command only when it is invoked (click's LazyGroup recipe)."""
from __future__ import annotations

import importlib

import click


class UserError(click.ClickException):
    """Bad input from the user: printed as ``Error: ...`` with exit status 2."""

    exit_code = 2


class LazyGroup(click.Group):
    """Sub-commands given as ``{"name": "module:attribute"}`` load on first use."""

    def __init__(self, *args, lazy_subcommands: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = lazy_subcommands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_subcommands])

    def invoke(self, ctx: click.Context):
        """Turn the library's user errors into a one-line message and exit status 2."""
        try:
            return super().invoke(ctx)
        except (ValueError, FileNotFoundError, NotADirectoryError, FileExistsError) as exc:
            raise UserError(str(exc)) from exc

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_subcommands:
            module_name, attr = self.lazy_subcommands[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, cmd_name)
