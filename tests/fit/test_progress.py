"""fit's progress display, driven by synthetic tuner events on a fake clock: a live display on a
terminal (a rich Console recording to a StringIO, forced to be one), plain records otherwise,
JSON lines with their fields, and notices that print above the live area, never inside it."""
from __future__ import annotations

import io
import json
import logging
import re

import pytest
from rich.console import Console

from autopreset.pipeline import Budget, Progress


class Sched:
    phase = "portfolio"
    mode = "max"
    replanned = None


class Clock:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def made():
    """``made(...)``: a Progress, shut down after the test (it holds the autopreset logger)."""
    held = []

    def make(*args, **kwargs):
        held.append(Progress(*args, **kwargs))
        return held[-1]

    yield make
    for p in held:
        p.shutdown()


def events():
    yield {"event": "started", "trial_id": 0, "config": {"backbone": "a"}}
    yield {"event": "reported", "trial_id": 0, "result": {"resource": 1, "metric": 0.5}}
    yield {"event": "tick"}
    yield {"event": "reported", "trial_id": 0, "result": {"resource": 2, "metric": 0.7}}
    yield {"event": "paused", "trial_id": 0, "resource": 2}


def terminal(width: int = 110) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=width, color_system=None), out


def screen(console_output: str) -> list[str]:
    """The lines a terminal was sent, control codes removed (each redraw starts a line)."""
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", console_output.replace("\r", "\n"))
    return [line.rstrip() for line in text.split("\n") if line.strip()]


def frame_text(p: Progress, width: int = 110) -> str:
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    console.print(p.render())
    return console.export_text()


def test_plain_lines_when_not_a_terminal(made):
    out = io.StringIO()
    p = made(Budget(100), Sched(), stream=out)
    for e in events():
        p.on_event(e)
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.strip().splitlines()
    assert lines[0] == "phase: portfolio"
    assert "new best" in lines[1] and "best 0.5000" in lines[1]
    assert lines[-1].startswith("trial 0 paused at epoch 2") and "trials done 1" in lines[-1]
    assert "best 0.7000" in lines[-1] and "s left" in lines[-1]
    assert len(lines) == 4                                  # ticks print nothing


def test_disabled_prints_nothing_but_keeps_count(made):
    out = io.StringIO()
    p = made(Budget(100), Sched(), enabled=False, stream=out)
    for e in events():
        p.on_event(e)
    assert out.getvalue() == "" and p.best == 0.7 and p.ended == {0}


def search(p: Progress, clock: Clock, n_trials: int = 7):
    """Trials of 2 s epochs toward epoch 9, three epochs each, one after the other: all but
    the last two end (trial 4 completed, the others paused); the later the trial, the better."""
    p.start_phase("set-up")
    clock.t += 4
    p.start_phase("plan")
    clock.t += 6
    for tid in range(n_trials):
        p.on_event({"event": "started", "trial_id": tid, "target_resource": 9,
                    "config": {"backbone": f"net{tid}"}})
        for epoch in (1, 2, 3):
            clock.t += 2
            p.on_event({"event": "reported", "trial_id": tid, "decision": "CONTINUE",
                        "result": {"resource": epoch, "metric": 0.1 * tid + 0.01 * epoch,
                                   "seconds": 2.0, "val_loss": 1.0 / epoch, "train_loss": 0.5}})
        if tid < n_trials - 2:
            p.on_event({"event": "paused" if tid != 4 else "completed", "trial_id": tid,
                        "resource": 3})


def test_live_display_shows_phase_budget_running_trials_with_eta_and_the_top_five(made):
    clock = Clock()
    console, out = terminal()
    p = made(Budget(300, clock=clock), Sched(), console=console, auto_refresh=False)
    search(p, clock)
    clock.t += 1                                # trial 6 is a second into its fourth epoch
    text = frame_text(p)
    lines = text.splitlines()
    assert lines[0].split() == ["fit", "set-up", "›", "plan", "›", "portfolio", "›", "hyperband",
                                "›", "refit", "›", "finish"]
    assert "budget" in lines[1] and "53s used, 4m7s left" in lines[1]
    assert "2 running, 5 paused or ended; best 0.6300 (trial 6, net6)" in text
    running = [line.split() for line in lines if line.split()[:1] in (["5"], ["6"])
               and "/9" in line]
    # both at 3/9: ETA six epochs of 2 s, less the time since each one's last report
    assert [r[0] for r in running] == ["5", "6"]
    assert running[0][1] == "net5" and running[0][-2:] == ["3/9", "5s"]
    assert running[1][1] == "net6" and running[1][-2:] == ["3/9", "11s"]
    board = [line.split() for line in lines if re.match(r"\s*\d\s+\d\s+net", line)]
    assert [row[1] for row in board] == ["6", "5", "4", "3", "2"]      # best first, five rows
    assert board[0][-3:] == ["3", "0.6300", "running"] and board[2][-1] == "completed"
    assert p.phase == "portfolio"
    p.close()
    final = screen(out.getvalue())
    assert final[-1].split() == ["5", "2", "net2", "3", "0.2300", "paused"]   # the last frame stays


def test_notices_print_above_the_live_area_on_lines_of_their_own(made):
    clock = Clock()
    console, out = terminal()
    p = made(Budget(300, clock=clock), Sched(), console=console, auto_refresh=False)
    search(p, clock, n_trials=3)
    notice = "autopreset: test_resnet starts from random init (offline, no cached weights)"
    logging.getLogger("autopreset").warning(notice)
    p.say("refit of trial 2's config on train+validation, 9 epochs")
    clock.t += 1
    p.on_event({"event": "tick"})
    p.close()
    lines = screen(out.getvalue())
    assert notice in lines and "refit of trial 2's config on train+validation, 9 epochs" in lines
    # after each notice the frame is drawn again, whole, from its first line
    at = lines.index(notice)
    assert lines[at + 1].startswith("fit  set-up") and any("budget" in x for x in lines[at + 1:])
    assert lines[0] == "phase: set-up"          # phase records print above the frame too
    assert not any("trial 0 paused" in x for x in lines)   # trial ends: debug records on a tty


def test_plan_only_frame_is_cleared(made):
    console, out = terminal()
    p = made(Budget(300, clock=Clock()), Sched(), console=console, auto_refresh=False)
    p.start_phase("set-up")
    p.start_phase("plan")
    p.close()                                   # no trial ran (--plan): the frame goes
    assert out.getvalue().rstrip().endswith(("\x1b[2K", "\x1b[?25h"))
    assert screen(out.getvalue())[:2] == ["phase: set-up", "fit  set-up › plan › portfolio › "
                                          "hyperband › refit › finish"]


def test_refit_shows_as_its_own_phase_and_row(made):
    clock = Clock()
    console, _ = terminal()
    p = made(Budget(300, clock=clock), Sched(), console=console, auto_refresh=False)
    search(p, clock, n_trials=2)
    p.on_refit_event({"event": "run_started"})
    p.on_refit_event({"event": "started", "trial_id": 0, "target_resource": 9,
                      "config": {"backbone": "net1"}})
    clock.t += 3
    p.on_refit_event({"event": "reported", "trial_id": 0,
                      "result": {"resource": 1, "metric": 0.99, "seconds": 3.0}})
    assert p.phase == "refit"
    row = [line.split() for line in frame_text(p).splitlines() if line.split()[:1] == ["refit"]]
    assert row and row[0][1] == "net1" and row[0][-2:] == ["1/9", "24s"]
    assert p.trials[0].best != 0.99 and p.best < 0.99          # refit scores are not trials'


def test_an_eta_past_the_deadline_says_the_budget_ends_it(made):
    clock = Clock()
    p = made(Budget(60, clock=clock), Sched(), console=terminal()[0], auto_refresh=False)
    p.on_event({"event": "started", "trial_id": 0, "target_resource": 30,
                "config": {"backbone": "net0"}})
    clock.t += 10
    p.on_event({"event": "reported", "trial_id": 0, "result": {"resource": 1, "metric": 0.3,
                                                              "seconds": 10.0}})
    row = [line for line in frame_text(p).splitlines() if "1/30" in line]
    assert row and row[0].split()[-2:] == ["50s", "(budget)"]    # 29 epochs of 10 s: past it


def test_json_records_carry_trial_fields(made, capsys):
    from autopreset.cli._logging import LogSettings, configured

    clock = Clock()
    with configured(LogSettings(verbose=1, log_format="json")):
        p = made(Budget(300, clock=clock), Sched())
        assert not p.live                       # JSON lines: never a live display
        search(p, clock, n_trials=3)
        logging.getLogger("autopreset").warning("a notice\nwith two lines")
        p.shutdown()
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert records[0]["message"] == "phase: set-up" and records[0]["phase"] == "set-up"
    epochs = [r for r in records if r.get("event") == "epoch"]
    assert len(epochs) == 9 and epochs[0]["level"] == "debug"
    assert epochs[0] | {"time": 0} == {
        "time": 0, "level": "debug", "logger": "autopreset.progress", "event": "epoch",
        "message": "trial 0 epoch 1/9: val acc 0.0100, val loss 1.0000, train loss 0.5000 (2.0s)",
        "trial_id": 0, "epoch": 1, "val_accuracy": 0.01, "val_loss": 1.0, "train_loss": 0.5,
        "seconds": 2.0}
    ended = [r for r in records if r.get("event") == "trial_paused"]
    assert ended[0]["trial_id"] == 0 and ended[0]["epoch"] == 3 and ended[0]["level"] == "info"
    assert ended[0]["val_accuracy"] == pytest.approx(0.03) and ended[0]["backbone"] == "net0"
    best = [r for r in records if r.get("event") == "new_best"]
    assert [r["trial_id"] for r in best] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert records[-1]["message"] == "a notice\nwith two lines" and records[-1]["level"] == "warning"


def test_the_data_steps_show_a_bar_with_the_rate_then_leave_the_frame(made):
    clock = Clock()
    console, _ = terminal()
    p = made(Budget(300, clock=clock), None, console=console, auto_refresh=False)
    p.start_phase("set-up")
    said = []

    class Keep(logging.Handler):
        def emit(self, record):
            said.append(record.getMessage())

    log = logging.getLogger("autopreset.progress")
    keep, level = Keep(level=logging.DEBUG), log.level
    log.addHandler(keep)
    log.setLevel(logging.DEBUG)
    try:
        p.data("scan", 0, 1000)
        clock.t += 2
        p.data("scan", 500, 1000)
        text = frame_text(p)
        assert "checking images" in text and "500/1000 files, 250/s" in text
        clock.t += 2
        p.data("scan", 1000, 1000)
    finally:
        log.removeHandler(keep)
        log.setLevel(level)
    assert "checking images" not in frame_text(p)
    assert said[0] == "checking images: 1000 files"
    assert "checking images: 500/1000 (250/s)" in said
    assert said[-1] == "checking images: 1000/1000 (250/s)"
