"""``-q/--quiet``, ``-v/--verbose`` and ``--log-format text|json`` on every command, set up once.

:class:`~autopreset.cli._lazy.LazyGroup` adds these options to each command it hands out
(nested groups' commands included, see :func:`add_logging_options`); the command then runs with
the root logger configured (:func:`configured`) and gets it back as it was afterwards, so
commands run one after another in one process (tests) do not pile up handlers.

    autopreset fit data/ -q                 # warnings and errors only, no progress display
    autopreset fit data/ -v                 # debug records too: every epoch of every trial
    autopreset fit data/ --log-format json 2> fit.log.jsonl

Records go to stderr through one :class:`~autopreset._notices.ConsoleHandler` (on a terminal,
above ``fit``'s live display); ``json``: one object per line with ``time``, ``level``,
``logger``, ``message`` and the record's fields (``trial_id``, ``epoch``, ``val_accuracy``...).
A command's results (``predict``'s rows, ``model saved to ...``) stay on stdout as they are.
"""
from __future__ import annotations

import contextlib
import functools
import logging
from dataclasses import dataclass

import click

__all__ = ["LogSettings", "add_logging_options", "configured", "current_settings"]

_KEY = "autopreset.logging"
FORMATS = ("text", "json")


@dataclass(frozen=True)
class LogSettings:
    quiet: bool = False
    verbose: int = 0
    log_format: str = "text"

    def levels(self) -> tuple[int, int]:
        """(level of autopreset's records, level of every other library's)."""
        if self.quiet:
            return logging.WARNING, logging.WARNING
        if self.verbose >= 2:
            return logging.DEBUG, logging.DEBUG
        return (logging.DEBUG if self.verbose else logging.INFO), logging.WARNING


def current_settings() -> LogSettings:
    """The settings of the command being run (defaults outside one)."""
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(_KEY, LogSettings()) if ctx is not None else LogSettings()


@contextlib.contextmanager
def configured(settings: LogSettings):
    """The root logger writes through one handler on stderr (text or JSON) while this runs;
    the ``autopreset`` logger through the same one, at its own level."""
    from rich.console import Console

    from autopreset._notices import ConsoleHandler

    ours, others = settings.levels()
    handler = ConsoleHandler(Console(stderr=True), structured=settings.log_format == "json")
    root, mine = logging.getLogger(), logging.getLogger("autopreset")
    saved = (root.level, mine.level, mine.propagate)
    root.addHandler(handler)
    root.setLevel(others)
    mine.addHandler(handler)            # (so a trial run in this process logs through it too)
    mine.setLevel(ours)
    mine.propagate = False
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        mine.removeHandler(handler)
        root.setLevel(saved[0])
        mine.setLevel(saved[1])
        mine.propagate = saved[2]


def _options() -> list[click.Option]:
    return [
        click.Option(["-q", "--quiet"], is_flag=True,
                     help="Only warnings and errors (fit: no progress display)."),
        click.Option(["-v", "--verbose"], count=True,
                     help="More detail: -v adds debug records (fit: every epoch of every "
                          "trial), -vv those of the libraries underneath too."),
        click.Option(["--log-format"], type=click.Choice(FORMATS), default="text",
                     show_default=True,
                     help="Records on stderr as text (a live display on a terminal) or JSON "
                          "lines: time, level, logger, message and fields such as trial_id, "
                          "epoch, val_accuracy."),
    ]


def add_logging_options(command: click.Command) -> click.Command:
    """Give ``command`` the logging options and run it configured by them (once per command;
    a group's own sub-commands get them as the group hands them out)."""
    if getattr(command, "_autopreset_logging", False) or isinstance(command, click.Group):
        return command
    command._autopreset_logging = True
    command.params.extend(_options())
    callback = command.callback

    @functools.wraps(callback)
    def run(*args, quiet: bool = False, verbose: int = 0, log_format: str = "text", **kwargs):
        if quiet and verbose:
            raise click.UsageError("-q/--quiet and -v/--verbose: give one of them")
        settings = LogSettings(quiet=quiet, verbose=verbose, log_format=log_format)
        click.get_current_context().meta[_KEY] = settings
        with configured(settings):
            return callback(*args, **kwargs)

    command.callback = run
    return command
