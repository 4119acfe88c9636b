"""-q/--quiet, -v/--verbose and --log-format on every command (added once, by LazyGroup), and
the records of worker processes, which reach the main process's handler."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import types

import click
import pytest
from click.testing import CliRunner

from autopreset._notices import LineHandler, WorkerLogs
from autopreset.cli._main import cli


def leaves(group: click.Group, ctx: click.Context, path=()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from leaves(command, ctx, (*path, name))
        else:
            yield (*path, name)


def test_every_command_and_nested_command_has_the_logging_options():
    with click.Context(cli) as ctx:
        commands = list(leaves(cli, ctx))
    assert {("fit",), ("predict",), ("evaluate",), ("export",), ("demo-data",),
            ("presets", "list"), ("presets", "export"), ("zoo", "run"), ("zoo", "status")} <= set(commands)
    for path in commands:
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "-q, --quiet" in result.output and "-v, --verbose" in result.output, path
        assert "--log-format [text|json]" in result.output, path


@pytest.fixture
def logging_fit(monkeypatch):
    """``autopreset fit`` runs a stand-in that logs records of each level and says which
    ``progress`` it was given."""
    seen = {}

    def fit(data, **kwargs):
        seen.update(kwargs)
        mine, other = logging.getLogger("autopreset.fit"), logging.getLogger("other.library")
        mine.debug("a debug record", extra={"trial_id": 3, "epoch": 2})
        mine.info("an info record", extra={"trial_id": 3, "epoch": 2, "val_accuracy": 0.75})
        mine.warning("a warning")
        other.info("their info")
        other.warning("their warning")
        return types.SimpleNamespace(model_dir="runs/r1/model")

    module = types.ModuleType("autopreset.pipeline")
    module.fit = fit
    monkeypatch.setitem(sys.modules, "autopreset.pipeline", module)
    return seen


@pytest.mark.parametrize("flags, lines, progress", [
    ([], ["an info record", "a warning", "their warning"], True),
    (["-q"], ["a warning", "their warning"], False),
    (["--quiet"], ["a warning", "their warning"], False),
    (["-v"], ["a debug record", "an info record", "a warning", "their warning"], True),
    (["-vv"], ["a debug record", "an info record", "a warning", "their info", "their warning"],
     True),
])
def test_fit_levels_follow_quiet_and_verbose(logging_fit, tmp_path, flags, lines, progress):
    root, mine = logging.getLogger(), logging.getLogger("autopreset")
    before = (list(root.handlers), root.level, list(mine.handlers), mine.level, mine.propagate)
    result = CliRunner().invoke(cli, ["fit", str(tmp_path), *flags])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == lines
    assert result.stdout == "model saved to runs/r1/model\n"       # results stay on stdout
    assert logging_fit["progress"] is progress                      # -q: no progress display
    assert (list(root.handlers), root.level, list(mine.handlers), mine.level,
            mine.propagate) == before                               # given back as it was


def test_json_lines_carry_time_level_logger_message_and_fields(logging_fit, tmp_path):
    result = CliRunner().invoke(cli, ["fit", str(tmp_path), "-v", "--log-format", "json"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert [r["message"] for r in records] == ["a debug record", "an info record", "a warning",
                                               "their warning"]
    info = records[1]
    assert info["time"].endswith("Z") and info["level"] == "info" and info["logger"] == "autopreset.fit"
    assert (info["trial_id"], info["epoch"], info["val_accuracy"]) == (3, 2, 0.75)
    assert records[3]["logger"] == "other.library" and records[3]["level"] == "warning"


def test_quiet_and_verbose_together_are_refused(logging_fit, tmp_path):
    result = CliRunner().invoke(cli, ["fit", str(tmp_path), "-q", "-v"])
    assert result.exit_code == 2 and "give one of them" in result.output
    assert not logging_fit


def test_a_nested_command_logs_through_the_options(monkeypatch):
    import autopreset.portfolio

    def listed():
        logging.getLogger("autopreset.portfolio").info("presets folder is empty")
        return []

    monkeypatch.setattr(autopreset.portfolio, "list_presets", listed)
    result = CliRunner().invoke(cli, ["presets", "list", "--log-format", "json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stderr)
    assert record["message"] == "presets folder is empty" and record["level"] == "info"
    assert CliRunner().invoke(cli, ["presets", "list", "-q"]).stderr == ""
    assert CliRunner().invoke(cli, ["presets", "list"]).stderr == "presets folder is empty\n"


# ------------------------------------------------------------------ records of worker processes
WORKER = """
import logging, os
from autopreset._notices import LineHandler
log = logging.getLogger("autopreset.backbones")
log.addHandler(LineHandler())
log.propagate = False
log.warning("test_resnet starts from random init", extra={"trial_id": 4})
print(os.getpid())
"""


class Caught(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records, self.got = [], threading.Event()

    def emit(self, record):
        self.records.append(record)
        self.got.set()


def test_a_workers_records_are_logged_in_the_main_process():
    caught, log = Caught(), logging.getLogger("autopreset.backbones")
    log.addHandler(caught)
    sink = WorkerLogs()
    try:
        worker = subprocess.run([sys.executable, "-c", WORKER], capture_output=True, text=True,
                                env=dict(os.environ), timeout=120, check=True)
        assert caught.got.wait(timeout=60)
    finally:
        sink.close()
        log.removeHandler(caught)
    assert worker.stderr == ""                   # not written there: sent to the main process
    record = caught.records[0]
    assert record.getMessage() == "test_resnet starts from random init"
    assert record.levelno == logging.WARNING and record.trial_id == 4
    assert record.worker_pid == int(worker.stdout)
    assert "AUTOPRESET_LOG_SINK" not in os.environ


def test_without_the_main_process_a_worker_writes_lines(capsys):
    import io

    out = io.StringIO()
    handler = LineHandler(out)
    log = logging.getLogger("autopreset.test-lines")
    log.addHandler(handler)
    try:
        log.warning("a notice")
        sink = WorkerLogs()                      # the main process's own: never sent to itself
        try:
            in_main = LineHandler(out)
            log.addHandler(in_main)
            log.removeHandler(handler)
            log.warning("another notice")
        finally:
            sink.close()
    finally:
        log.handlers.clear()
    assert out.getvalue() == "a notice\nanother notice\n"
