"""Ctrl-C and SIGTERM end a tuner run at the next safe point; resume finishes the work."""
import json
import signal
import threading
from pathlib import Path

import pytest

from autopreset.executors import LocalExecutor
from autopreset.schedulers import FIFO, SuccessiveHalving
from autopreset.simulator import SyneTuneCurves
from autopreset.tuner import Tuner


class SignalledCurves(SyneTuneCurves):
    """The benchmark, logging each unit it trains; it sends itself ``signum`` when trial
    ``at[0]`` reports unit ``at[1]`` (as a user pressing Ctrl-C mid-epoch)."""

    def __init__(self, *, at=None, signum=signal.SIGINT, **kwargs):
        super().__init__(**kwargs)
        self.at, self.signum = at, signum

    def __call__(self, config, reporter):
        orig = reporter.report

        def report(resource, metric, **extra):
            with open(Path(reporter.checkpoint_dir) / "units.txt", "a") as f:
                f.write(f"{resource}\n")
            if self.at == (reporter.trial_id, resource):
                signal.raise_signal(self.signum)
            return orig(resource=resource, metric=metric, **extra)

        reporter.report = report
        super().__call__(config, reporter)


def _units(trial):
    path = Path(trial.checkpoint_dir) / "units.txt"
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _events(run_dir):
    return [json.loads(x) for x in (Path(run_dir) / "journal.jsonl").read_text().splitlines()]


def _strip(result):
    return [(t.config, [(x["resource"], x["metric"]) for x in t.results], t.status) for t in result.trials]


def _sh():
    return SuccessiveHalving(space=SyneTuneCurves().space, max_resource=9, n_configs=9, n_brackets=1,
                             random_state=4)


@pytest.fixture
def handlers(monkeypatch):
    """The SIGINT/SIGTERM handlers before the test (the test checks they are back), with
    Python's usual SIGINT handler in place: a test run started in the background (``nohup``,
    ``&``, some CI runners) inherits SIGINT ignored, and the tuner rightly leaves an ignored
    signal alone."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_ends_the_run_at_the_next_report_and_resume_finishes_it(tmp_path, handlers):
    ref = Tuner(SignalledCurves(max_resource=9), _sh(), run_dir=tmp_path / "ref").run()
    best = ref.best.trial_id
    bench = SignalledCurves(max_resource=9, at=(best, 5))   # in the last rung's 3 -> 9 promotion
    r = Tuner(bench, _sh(), run_dir=tmp_path / "run").run()

    assert r.interrupted == "SIGINT" and not r.deadline_hit
    assert r.trials[best].status == "interrupted" and r.trials[best].resource == 5
    events = _events(tmp_path / "run")
    at = next(i for i, e in enumerate(events) if e["event"] == "reported" and e["trial_id"] == best
              and e["result"]["resource"] == 5)
    assert [e["event"] for e in events[at + 1:]] == ["interrupted", "run_ended"]
    assert events[at + 1]["signal"] == "SIGINT"                  # cut by the signal, named
    assert events[-1]["interrupted"] == "SIGINT" and events[-1]["deadline_hit"] is False
    assert not any("deadline" in str(e.get("reason", "")) for e in events)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers

    resumed = Tuner(SignalledCurves(max_resource=9), _sh(), run_dir=tmp_path / "run", resume=True).run()
    assert resumed.interrupted is None
    assert _strip(resumed) == _strip(ref)
    for t in resumed.trials:                                    # every unit trained exactly once
        assert sorted(_units(t)) == list(range(1, t.resource + 1))


def test_sigterm_stops_local_workers_and_resume_redoes_no_finished_trial(tmp_path, handlers):
    bench = SyneTuneCurves(max_resource=3)
    mk = lambda: FIFO(space=bench.space, max_resource=3, max_trials=6, random_state=0)
    sent = []

    def on_event(e):
        if e["event"] == "reported" and not sent:
            sent.append(e["trial_id"])
            signal.raise_signal(signal.SIGTERM)

    r = Tuner(bench, mk(), executor=LocalExecutor(2), run_dir=tmp_path, on_event=on_event).run()
    assert r.interrupted == "SIGTERM"
    assert len(r.trials) <= 2 and r.counts.get("completed", 0) < 6
    assert {t.status for t in r.trials} <= {"completed", "interrupted"}   # none failed
    assert _events(tmp_path)[-1] == {**_events(tmp_path)[-1], "event": "run_ended", "interrupted": "SIGTERM"}
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
    done_before = {t.trial_id for t in r.trials if t.status == "completed"}

    events = []
    resumed = Tuner(bench, mk(), executor=LocalExecutor(2), run_dir=tmp_path, resume=True,
                    on_event=events.append).run()
    assert resumed.interrupted is None
    assert [t.status for t in resumed.trials] == ["completed"] * 6
    assert all(t.resource == 3 for t in resumed.trials)
    rerun = {e["trial_id"] for e in events if e["event"] in ("started", "relaunched")}
    assert not rerun & done_before


def test_ctrl_c_between_trials_starts_no_new_trial(tmp_path, handlers):
    r = Tuner(SignalledCurves(max_resource=9, at=(2, 1)), _sh(), run_dir=tmp_path).run()
    assert r.interrupted == "SIGINT"
    assert [t.trial_id for t in r.trials] == [0, 1, 2]        # trial 2 had reached its rung: paused
    assert [t.status for t in r.trials] == ["paused"] * 3
    resumed = Tuner(SignalledCurves(max_resource=9), _sh(), run_dir=tmp_path, resume=True).run()
    assert len(resumed.trials) == 9 and resumed.best.resource == 9
    assert all(sorted(_units(t)) == list(range(1, t.resource + 1)) for t in resumed.trials)


def test_a_second_signal_raises_keyboard_interrupt_at_once(tmp_path, handlers):
    def on_event(e):
        if e["event"] == "reported":
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)

    with pytest.raises(KeyboardInterrupt) as raised:
        Tuner(SignalledCurves(max_resource=9), _sh(), run_dir=tmp_path, on_event=on_event).run()
    assert raised.value.signal_name == "SIGINT"         # (the command line exits 128 + its number)
    events = _events(tmp_path)
    assert events[-1]["event"] == "run_ended" and events[-1]["interrupted"] == "SIGINT"
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
    resumed = Tuner(SignalledCurves(max_resource=9), _sh(), run_dir=tmp_path, resume=True).run()
    assert resumed.counts.get("completed") == 1 and resumed.best.resource == 9


def test_a_run_outside_the_main_thread_installs_no_handlers(handlers):
    out, during = [], []
    bench = SyneTuneCurves(max_resource=3)
    sched = FIFO(space=bench.space, max_resource=3, max_trials=2)
    on_event = lambda e: during.append(signal.getsignal(signal.SIGINT))
    thread = threading.Thread(target=lambda: out.append(Tuner(bench, sched, on_event=on_event).run()))
    thread.start()
    thread.join()
    assert out and out[0].interrupted is None and out[0].counts == {"completed": 2}
    assert during and set(during) == {handlers[0]}
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
