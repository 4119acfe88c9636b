"""A click group that imports each sub-command only when it is invoked (click's LazyGroup recipe),
and maps autopreset's errors (:mod:`autopreset.errors`) to one-line messages and exit statuses:

    InputError, FileNotFoundError, NotADirectoryError, FileExistsError  ->  "Error: ..."   2
    RunError                                                             ->  "Error: ..."   1
    Interrupted, KeyboardInterrupt                                       ->  "interrupted"  130

Anything else (a plain ValueError included) is a bug and keeps its traceback.

Every command it hands out, those of nested groups included, gets ``-q/--quiet``,
``-v/--verbose`` and ``--log-format`` (:mod:`autopreset.cli._logging`).
"""
from __future__ import annotations

import importlib

import click

from autopreset.cli._logging import add_logging_options
from autopreset.errors import Interrupted, InputError, RunError

INTERRUPTED_EXIT = 130   # 128 + SIGINT, what a shell reports for a process Ctrl-C ended


class UserError(click.ClickException):
    """Bad input from the user: printed as ``Error: ...`` with exit status 2."""

    exit_code = 2


class RunFailed(click.ClickException):
    """A run that failed for a reason other than its input: ``Error: ...``, exit status 1."""

    exit_code = 1


class InterruptedExit(click.ClickException):
    """Ctrl-C or SIGTERM: the message alone (no ``Error:``), exit status 130."""

    exit_code = INTERRUPTED_EXIT

    def show(self, file=None) -> None:
        click.echo(self.format_message(), err=True)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


def map_errors(call):
    """Run ``call()``; turn autopreset's deliberate errors into the click exceptions above."""
    try:
        return call()
    except click.ClickException:
        raise
    except (InputError, FileNotFoundError, NotADirectoryError, FileExistsError) as exc:
        raise UserError(_one_line(exc)) from exc
    except RunError as exc:
        raise RunFailed(_one_line(exc)) from exc
    except Interrupted as exc:
        raise InterruptedExit(_one_line(exc)) from exc
    except KeyboardInterrupt as exc:
        raise InterruptedExit("interrupted") from exc


class LazyGroup(click.Group):
    """Sub-commands given as ``{"name": "module:attribute"}`` load on first use; each comes
    with the logging options."""

    def __init__(self, *args, lazy_subcommands: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = lazy_subcommands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_subcommands])

    def invoke(self, ctx: click.Context):
        """Run the sub-command; errors map to messages and exit statuses (module docstring)."""
        return map_errors(lambda: super(LazyGroup, self).invoke(ctx))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_subcommands:
            module_name, attr = self.lazy_subcommands[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attr)
        else:
            command = super().get_command(ctx, cmd_name)
        return None if command is None else add_logging_options(command)
