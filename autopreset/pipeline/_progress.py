"""Progress of a fit: the phase, the time left, the running trials, the best ones so far.

On a terminal a live display (``rich.live``) is redrawn in place below the notices::

    fit  set-up › plan › portfolio › hyperband › refit › finish
    budget  ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━  1m12s used, 1m48s left
    ...the running trials with an epoch bar and an ETA each, then the best five

Notices are log records (``autopreset`` loggers, worker processes' included): they print
above the live display, through the same console, so none lands inside it. Elsewhere (a log
file, CI, ``--log-format json``) the display is a few plain records when something changes:
a phase starts, a trial ends, the best so far improves; with ``-v`` every epoch too. Records
carry structured fields (trial id, epoch, validation accuracy...) for JSON lines.
"""
from __future__ import annotations

import logging
import math
import sys
import threading

from autopreset._notices import ConsoleHandler, LineHandler, WorkerLogs, console_handler

from ._frame import SEARCH_PHASES as _SEARCH
from ._frame import Frame, TrialView

__all__ = ["Progress", "LineHandler", "ENDED", "PHASES"]

ENDED = ("completed", "paused", "stopped", "failed", "interrupted")
PHASES = ("set-up", "plan", "portfolio", "hyperband", "refit", "finish")


class Progress:
    """``Progress(budget, scheduler)``; pass ``progress.on_event`` as the tuner's ``on_event``.

    ``budget`` is the run's :class:`~autopreset.pipeline.Budget` (``left()``, ``total_s`` and
    ``now()``: its clock times the trials). The output goes through the ``ConsoleHandler`` the
    command line set up, else through ``console`` (a ``rich.console.Console``; default: one on
    ``stream``, or on stderr): a live display when it is a terminal, plain records otherwise.
    ``enabled=False``: no display and no records of its own (notices still go to logging).
    ``worker_logs``: receive the records of local worker processes started while it is open.
    ``auto_refresh=False``: redraw on events only (tests)."""

    def __init__(self, budget, scheduler=None, *, enabled: bool = True, stream=None,
                 console=None, worker_logs: bool = False, auto_refresh: bool = True):
        self.budget = budget
        self.scheduler = scheduler
        self.enabled = enabled
        self.best = -math.inf
        self.best_config: dict | None = None
        self.ended: set[int] = set()
        self.configs: dict[int, dict] = {}
        self.trials: dict[int | str, TrialView] = {}
        self.phase: str | None = None          # the phase shown (PHASES, or the search's own)
        self.data_step: tuple | None = None    # (stage, done, total, started) while data is read
        self._data_next = 0.0
        self._lock = threading.RLock()
        self._log = logging.getLogger("autopreset.progress")
        self._notices = logging.getLogger("autopreset.fit")
        self._root = logging.getLogger("autopreset")
        self._live = self._sink = None
        self._worker_logs = worker_logs
        self._auto_refresh = auto_refresh
        self._started = self._closed = False
        self._saved = None                     # the autopreset logger's state, while we hold it
        given = console_handler(self._root)
        if given is not None:                  # the command line's: its console and format
            self.console, self.structured = given.console, given.structured
        else:
            if console is None:
                from rich.console import Console

                console = Console(file=stream) if stream is not None else Console(stderr=True)
            self.console, self.structured = console, False
            if enabled:        # from Python: notices print through this console while we run
                self._saved = (self._root.level, self._root.propagate)
                self._handler = ConsoleHandler(console)
                self._handler.from_progress = True
                self._root.addHandler(self._handler)
                self._root.propagate = False
                if self._root.getEffectiveLevel() > logging.INFO:
                    self._root.setLevel(logging.INFO)
        self.live = enabled and self.console.is_terminal and not self.structured
        self._frame = Frame(self)

    # ------------------------------------------------------------------ notices
    def say(self, text: str) -> None:
        """A notice (a log record of ``autopreset.fit``; on a terminal above the display)."""
        self._notices.info(text)

    def _record(self, level: int, text: str, **fields) -> None:
        if self.enabled:
            self._log.log(level, text, extra=fields)

    # ------------------------------------------------------------------ phases
    def start(self) -> None:
        """Open the display (and the worker records' listener); done by the first phase or
        event, so a Progress that is never used starts nothing."""
        if self._started or self._closed:
            return
        self._started = True
        if self._worker_logs:
            try:
                self._sink = WorkerLogs()
            except OSError as exc:             # no loopback: workers write their own lines
                self._notices.debug(f"worker records stay in the workers: {exc}")
        if self.live:
            from rich.live import Live

            self._live = Live(get_renderable=self._frame.render, console=self.console,
                              auto_refresh=self._auto_refresh, refresh_per_second=2,
                              redirect_stdout=False,   # (--plan prints the plan on stdout)
                              redirect_stderr=self.console.file in (sys.stderr, sys.__stderr__))
            self._live.start()

    def start_phase(self, phase: str) -> None:
        """Enter one of fit's phases (:data:`PHASES`; the search's come from its scheduler)."""
        self.start()
        with self._lock:
            self._enter(phase)
        self.refresh()

    def _enter(self, phase: str) -> None:
        if phase == self.phase:
            return
        self.phase = phase
        text = f"phase: {phase}"
        re = getattr(self.scheduler, "replanned", None)
        if phase in _SEARCH and re and re["max_resource"][0] != re["max_resource"][1]:
            a, b = re["max_resource"]
            text += (f" (re-planned from measured epochs of ~{re['epoch_s']:.1f}s: schedule "
                     f"{a} -> {b} epochs)")
        self._record(logging.INFO, text, event="phase", phase=phase)

    # ------------------------------------------------------------------ the data steps
    DATA_WHAT = {"scan": "checking images", "cache": "decoding images into the cache"}

    def data(self, stage: str, done: int, total: int) -> None:
        """The data steps' progress callback (``prepare_data(progress=...)``): a bar with the
        rate in the live area; records at the start, every tenth and the end."""
        self.start()
        now = self.budget.now()
        with self._lock:
            if self.data_step is None or self.data_step[0] != stage or done == 0:
                self.data_step = (stage, done, total, now)
                self._data_next = 0.1
                self._record(logging.DEBUG, f"{self.DATA_WHAT.get(stage, stage)}: {total} files",
                             event="data", stage=stage, done=0, total=total)
            else:
                self.data_step = (stage, done, total, self.data_step[3])
            if total and done / total >= self._data_next and done:
                self._data_next = min(1.0, done / total + 0.1)
                rate = done / max(now - self.data_step[3], 1e-9)
                self._record(logging.DEBUG, f"{self.DATA_WHAT.get(stage, stage)}: {done}/{total} "
                             f"({rate:.0f}/s)", event="data", stage=stage, done=done, total=total)
            if done >= total:
                self.data_step = None
        self.refresh()

    # ------------------------------------------------------------------ the tuner's events
    @property
    def sign(self) -> float:
        return -1.0 if getattr(self.scheduler, "mode", "max") == "min" else 1.0

    def status(self) -> str:
        best = f"{self.best:.4f}" if math.isfinite(self.best) else "-"
        phase = getattr(self.scheduler, "phase", None) or "search"
        return (f"[{phase}] trials done {len(self.ended)}, best {best}, "
                f"{max(0.0, self.budget.left()):.0f}s left")

    def on_event(self, event: dict) -> None:
        """One event of the tuner (its journal's): updates the display, records what changed."""
        self.start()
        with self._lock:
            self._on_event(event)
        self.refresh()

    def _on_event(self, event: dict) -> None:
        kind, tid = event.get("event"), event.get("trial_id")
        now = self.budget.now()
        if kind in ("started", "carried"):
            self.configs[tid] = event.get("config", {})
            self.trials[tid] = TrialView.from_event(tid, event, now, self.sign)
        elif kind in ("resumed", "relaunched") and tid in self.trials:
            self.trials[tid].resume(event, now)
        phase = getattr(self.scheduler, "phase", None)
        if phase in ("portfolio", *_SEARCH):
            self._enter(phase)
        if kind == "reported":
            self._reported(tid, event["result"], now)
        if kind in ENDED and tid is not None:
            self.ended.add(tid)
            view = self.trials.get(tid)
            if view is not None:
                view.end(kind, event.get("resource"))
            self._record(logging.DEBUG if self.live else logging.INFO,
                         f"trial {tid} {kind} at epoch {event.get('resource')}; {self.status()}",
                         event=f"trial_{kind}", trial_id=tid, epoch=event.get("resource"),
                         **self._scores(view), **({"reason": event["reason"]}
                                                  if event.get("reason") else {}))

    def _reported(self, tid, result: dict, now: float) -> None:
        metric, epoch = result["metric"], result["resource"]
        view = self.trials.get(tid)
        if view is not None:
            view.report(result, now, sign=self.sign)
        self._record(logging.DEBUG, self._epoch_text(tid, view, result), event="epoch",
                     trial_id=tid, epoch=epoch, val_accuracy=metric,
                     **{k: result[k] for k in ("val_loss", "train_loss", "seconds") if k in result})
        if self.sign * metric > self.sign * self.best or not math.isfinite(self.best):
            self.best = metric
            self.best_config = self.configs.get(tid)
            self._record(logging.DEBUG if self.live else logging.INFO,
                         f"trial {tid} new best at epoch {epoch}; {self.status()}",
                         event="new_best", trial_id=tid, epoch=epoch, val_accuracy=metric,
                         backbone=(self.best_config or {}).get("backbone"))

    @staticmethod
    def _epoch_text(tid, view, result: dict) -> str:
        target = f"/{view.target}" if view is not None and view.target else ""
        losses = "".join(f", {k.replace('_', ' ')} {result[k]:.4f}"
                         for k in ("val_loss", "train_loss") if isinstance(result.get(k), float))
        took = f" ({result['seconds']:.1f}s)" if isinstance(result.get("seconds"), float) else ""
        return (f"trial {tid} epoch {result['resource']}{target}: val acc "
                f"{result['metric']:.4f}{losses}{took}")

    @staticmethod
    def _scores(view) -> dict:
        if view is None or view.best is None:
            return {}
        return {"val_accuracy": view.best, "backbone": view.backbone}

    def on_refit_event(self, event: dict) -> None:
        """An event of the refit's own tuner run (one trial, on train+validation)."""
        kind = event.get("event")
        if kind not in ("started", "reported", "relaunched", "resumed", *ENDED):
            return
        self.start()
        with self._lock:
            self._enter("refit")
            now = self.budget.now()
            if kind == "started":
                self.trials["refit"] = TrialView.from_event("refit", event, now)
            view = self.trials.get("refit")
            if view is not None and kind == "reported":
                view.report(event["result"], now, counts=False)
                self._record(logging.DEBUG, f"refit epoch {event['result']['resource']}",
                             event="refit_epoch", epoch=event["result"]["resource"])
            elif view is not None and kind in ENDED:
                view.end(kind, event.get("resource"))
        self.refresh()

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        if self._live is not None:
            self._live.refresh()

    def render(self):
        """The live display as a rich renderable (what a terminal shows now)."""
        return self._frame.render()

    def close(self) -> None:
        """End the display (its last frame stays on a terminal, unless no trial ran); notices
        still print, until :meth:`shutdown`."""
        if self._live is not None:
            live, self._live = self._live, None
            live.transient = not any(isinstance(t, int) for t in self.trials)
            live.stop()
        self._closed = True

    def shutdown(self) -> None:
        """:meth:`close`, and give the ``autopreset`` logger and the worker records back."""
        self.close()
        if self._sink is not None:
            self._sink.close()
            self._sink = None
        if self._saved is not None:
            self._root.removeHandler(self._handler)
            self._root.setLevel(self._saved[0])
            self._root.propagate = self._saved[1]
            self._saved = None
