"""The progress display: a redrawn status line on a terminal, plain lines otherwise."""
from __future__ import annotations

import io

from autopreset.pipeline import Budget
from autopreset.pipeline import Progress


class Sched:
    phase = "portfolio"


def events():
    yield {"event": "started", "trial_id": 0, "config": {"backbone": "a"}}
    yield {"event": "reported", "trial_id": 0, "result": {"resource": 1, "metric": 0.5}}
    yield {"event": "tick"}
    yield {"event": "reported", "trial_id": 0, "result": {"resource": 2, "metric": 0.7}}
    yield {"event": "paused", "trial_id": 0, "resource": 2}


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    p = Progress(Budget(100), Sched(), stream=out)
    for e in events():
        p.on_event(e)
    text = out.getvalue()
    assert "\r" not in text
    lines = text.strip().splitlines()
    assert lines[0] == "phase: portfolio"
    assert "new best" in lines[1] and "best 0.5000" in lines[1]
    assert lines[-1].startswith("trial 0 paused at epoch 2") and "trials done 1" in lines[-1]
    assert "best 0.7000" in lines[-1] and "s left" in lines[-1]
    assert len(lines) == 4                                  # ticks print nothing


def test_status_line_is_redrawn_on_a_terminal():
    out = Tty()
    p = Progress(Budget(100), Sched(), stream=out)
    for e in events():
        p.on_event(e)
    p.close()
    text = out.getvalue()
    assert text.count("\r\033[K") >= 5                      # redrawn in place on every event
    assert "[portfolio] trials done 1, best 0.7000" in text
    assert text.endswith("\n")


def test_disabled_prints_nothing_but_keeps_count():
    out = io.StringIO()
    p = Progress(Budget(100), Sched(), enabled=False, stream=out)
    for e in events():
        p.on_event(e)
    assert out.getvalue() == "" and p.best == 0.7 and p.ended == {0}
