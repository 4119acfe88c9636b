"""The command line: help texts, lazy imports, argument errors, demo data."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from autopreset._duration import format_duration, parse_duration
from autopreset.cli._main import cli

COMMANDS = ["fit", "predict", "evaluate", "export", "demo-data", "presets"]


@pytest.mark.parametrize("args", [[], *[[c] for c in COMMANDS]])
def test_every_command_has_help(args):
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_help_does_not_import_torch():
    code = (
        "import sys; from autopreset.cli._main import cli\n"
        "try:\n    cli.main(['--help'], standalone_mode=False)\nexcept SystemExit: pass\n"
        "print(sorted(m for m in ('torch', 'timm', 'sklearn', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    "text, seconds",
    [("90s", 90), ("10m", 600), ("4h", 14400), ("1h30m", 5400), ("2.5m", 150), ("45", 45), (" 1H ", 3600)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "10x", "m10", "-5m", "0s", "1h 30", "5m3", "inf"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_format_duration_round_trip():
    for seconds in (1, 59, 60, 61, 3599, 3600, 5400, 86399):
        assert parse_duration(format_duration(seconds)) == seconds


def test_bad_budget_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(cli, ["fit", str(tmp_path), "--budget", "ten minutes"])
    assert result.exit_code == 2
    assert "ten minutes" in result.output
    assert "Traceback" not in result.output


def test_demo_data_digits_with_test_split(tmp_path):
    out = tmp_path / "digits"
    result = CliRunner().invoke(cli, ["demo-data", "digits", str(out), "--test-fraction", "0.2"])
    assert result.exit_code == 0, result.output
    train = sorted(p.name for p in (out / "train").iterdir())
    assert train == [str(i) for i in range(10)]
    n_train = len(list((out / "train").glob("*/*.png")))
    n_test = len(list((out / "test").glob("*/*.png")))
    assert n_train + n_test == 1797
    assert abs(n_test - 0.2 * 1797) < 10


def test_demo_data_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["demo-data", "digits", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "not empty" in result.output
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"


def test_textures_test_split_is_a_separate_region():
    from autopreset.datasets import load_arrays

    images, labels, classes, fixed_test = load_arrays("textures")
    assert classes == ["brick", "grass", "gravel"]
    assert fixed_test is not None and 0.1 < fixed_test.mean() < 0.4
    assert set(labels[fixed_test]) == {0, 1, 2}


def test_presets_list_show_export_validate(tmp_path):
    runner = CliRunner()
    listed = runner.invoke(cli, ["presets", "list"])
    assert listed.exit_code == 0 and "default" in listed.output and "latency" in listed.output
    shown = runner.invoke(cli, ["presets", "show", "default"])
    assert shown.exit_code == 0 and "portfolio:" in shown.output
    out = tmp_path / "team.json"
    exported = runner.invoke(cli, ["presets", "export", "latency", "-o", str(out), "--name", "team"])
    assert exported.exit_code == 0, exported.output
    assert runner.invoke(cli, ["presets", "validate", str(out)]).exit_code == 0


def test_presets_validate_names_the_bad_key(tmp_path):
    import json

    out = tmp_path / "team.json"
    assert CliRunner().invoke(cli, ["presets", "export", "default", "-o", str(out)]).exit_code == 0
    doc = json.loads(out.read_text())
    doc["portfolio"][0]["config"]["lr"] = 5.0
    out.write_text(json.dumps(doc))
    result = CliRunner().invoke(cli, ["presets", "validate", str(out)])
    assert result.exit_code == 1
    assert "team.json" in result.output and "portfolio[0].config.lr" in result.output


def test_presets_export_of_a_run_without_card_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["presets", "export", str(tmp_path), "-o", str(tmp_path / "x.json")])
    assert result.exit_code == 2 and "preset card" in result.output


# ---- errors and exit statuses ---------------------------------------------------------------
@pytest.fixture
def fake_fit(monkeypatch):
    """``fake_fit(fn)``: ``autopreset fit`` calls ``fn(data, out=..., ...)`` instead of the pipeline."""
    import types

    def install(fn):
        module = types.ModuleType("autopreset.pipeline")
        module.fit = fn
        monkeypatch.setitem(sys.modules, "autopreset.pipeline", module)
        monkeypatch.setitem(sys.modules, "autopreset.pipeline._fit", module)

    return install


def _raising(exc):
    def fit(*args, **kwargs):
        raise exc

    return fit


def test_error_classes_are_the_builtin_ones_callers_already_catch():
    from autopreset.errors import AutopresetError, InputError, Interrupted, RunError

    assert issubclass(InputError, ValueError) and issubclass(InputError, AutopresetError)
    assert issubclass(RunError, RuntimeError) and issubclass(RunError, AutopresetError)
    exc = Interrupted(run_dir="runs/r1", resume_hint="autopreset fit d --out runs/r1 --resume")
    assert exc.run_dir == "runs/r1"
    assert str(exc) == "interrupted: 'autopreset fit d --out runs/r1 --resume' continues this run"


@pytest.mark.parametrize("exc, status", [
    ("InputError", 2), (FileNotFoundError("x.json: no such file"), 2), ("RunError", 1),
])
def test_deliberate_errors_are_one_line_with_their_exit_status(fake_fit, tmp_path, exc, status):
    import autopreset.errors

    if isinstance(exc, str):
        exc = getattr(autopreset.errors, exc)("x.json: something is wrong with it")
    fake_fit(_raising(exc))
    result = CliRunner().invoke(cli, ["fit", str(tmp_path)])
    assert result.exit_code == status, result.output
    assert result.stderr.strip().splitlines() == [f"Error: {exc}"]
    assert "Traceback" not in result.output


def test_a_plain_value_error_is_a_bug_and_keeps_its_traceback(fake_fit, tmp_path):
    fake_fit(_raising(ValueError("internal: index out of range")))
    result = CliRunner().invoke(cli, ["fit", str(tmp_path)])
    assert isinstance(result.exception, ValueError)          # not turned into "Error: ..." / exit 2
    assert "Error: internal" not in result.output


def test_ctrl_c_in_fit_exits_130_saying_how_to_resume(fake_fit, tmp_path):
    out = tmp_path / "run 1"

    def fit(data, *, out, **kwargs):
        Path(out).mkdir()
        (Path(out) / "run.json").write_text("{}")
        raise KeyboardInterrupt

    fake_fit(fit)
    result = CliRunner().invoke(cli, ["fit", "data", "--out", str(out)])
    assert result.exit_code == 130
    assert result.stderr.strip().splitlines() == [
        f"interrupted: \"autopreset fit data --out '{out}' --resume\" continues this run"]
    assert "Aborted!" not in result.output


def test_ctrl_c_in_fit_names_the_default_run_folder_it_made(fake_fit, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def fit(data, **kwargs):
        (tmp_path / "runs" / "20260101-000000").mkdir(parents=True)
        (tmp_path / "runs" / "20260101-000000" / "run.json").write_text("{}")
        (tmp_path / "runs" / "latest").symlink_to("20260101-000000")
        raise KeyboardInterrupt

    fake_fit(fit)
    result = CliRunner().invoke(cli, ["fit", "data"])
    assert result.exit_code == 130
    assert "'autopreset fit data --out runs/20260101-000000 --resume' continues" in result.stderr


def test_ctrl_c_before_the_run_folder_exists_says_there_is_nothing_to_resume(fake_fit, tmp_path):
    fake_fit(_raising(KeyboardInterrupt()))
    result = CliRunner().invoke(cli, ["fit", "data", "--out", str(tmp_path / "new")])
    assert result.exit_code == 130
    assert result.stderr.strip() == "interrupted before the run started: nothing to resume"


def test_an_interrupted_run_from_the_pipeline_exits_130_with_its_hint(fake_fit, tmp_path):
    from autopreset.errors import Interrupted

    fake_fit(_raising(Interrupted(run_dir=tmp_path, resume_hint="autopreset fit d --out r --resume")))
    result = CliRunner().invoke(cli, ["fit", "d", "--out", "r"])
    assert result.exit_code == 130
    assert result.stderr.strip() == "interrupted: 'autopreset fit d --out r --resume' continues this run"


def test_ctrl_c_in_any_command_exits_130_not_aborted(monkeypatch, tmp_path):
    import autopreset.datasets

    monkeypatch.setattr(autopreset.datasets, "write_dataset", _raising(KeyboardInterrupt()))
    result = CliRunner().invoke(cli, ["demo-data", "digits", str(tmp_path / "d")])
    assert result.exit_code == 130
    assert result.stderr.strip() == "interrupted" and "Aborted!" not in result.output


def test_fit_resolution_reaches_the_pipeline_and_is_bounded(fake_fit, tmp_path):
    seen = {}

    def fit(data, **kwargs):
        seen.update(kwargs)

    fake_fit(fit)
    result = CliRunner().invoke(cli, ["fit", str(tmp_path), "--resolution", "24", "--plan"])
    assert result.exit_code == 0, result.output
    assert seen["resolution"] == 24
    result = CliRunner().invoke(cli, ["fit", str(tmp_path), "--resolution", "5"])
    assert result.exit_code == 2 and "--resolution" in result.output
