"""Progress of a fit: phase, trials done, best so far, time left.

On a terminal one status line is redrawn in place; otherwise (logs, CI) plain lines are printed
when something changes: a phase starts, a trial ends, the best so far improves.
"""
from __future__ import annotations

import logging
import math
import sys

__all__ = ["Progress", "LineHandler"]


class LineHandler(logging.Handler):
    """Writes each log record on a line of its own: on a terminal the line is cleared first, so
    a notice never lands in the middle of a redrawn status line (worker processes, which share
    the terminal with the main process's status line, log through this)."""

    def __init__(self, stream=None):
        super().__init__(logging.INFO)
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        stream = self.stream or sys.stderr
        try:
            tty = bool(getattr(stream, "isatty", lambda: False)())
            stream.write(("\r\033[K" if tty else "") + self.format(record) + "\n")
            stream.flush()
        except Exception:                  # logging must never break a trial
            self.handleError(record)


class _SayHandler(logging.Handler):
    def __init__(self, progress):
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        self.progress.say(self.format(record))

ENDED = ("completed", "paused", "stopped", "failed", "interrupted")


class Progress:
    """``Progress(budget, scheduler)``; pass ``progress.on_event`` as the tuner's ``on_event``.
    ``budget`` is the run's :class:`~autopreset.pipeline.Budget` (anything with ``left()``)."""

    def __init__(self, budget, scheduler=None, *, enabled: bool = True, stream=None):
        self.budget = budget
        self.scheduler = scheduler
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.best = -math.inf
        self.best_config: dict | None = None
        self.ended: set[int] = set()
        self.configs: dict[int, dict] = {}
        self.phase = None
        self._drawn = False
        self._log = logging.getLogger("autopreset")
        self._handler = _SayHandler(self)
        self._propagate = self._log.propagate
        if enabled:                # the library's notices go above the status line, not into it
            self._log.addHandler(self._handler)
            self._log.propagate = False

    def say(self, text: str) -> None:
        """A plain message (on a terminal, printed above the status line)."""
        if not self.enabled:
            return
        if self.tty and self._drawn:
            self.stream.write("\r\033[K")
        print(text, file=self.stream, flush=True)
        if self.tty and self._drawn:
            self._draw()

    def status(self) -> str:
        best = f"{self.best:.4f}" if math.isfinite(self.best) else "-"
        phase = getattr(self.scheduler, "phase", None) or "search"
        return (f"[{phase}] trials done {len(self.ended)}, best {best}, "
                f"{max(0.0, self.budget.left()):.0f}s left")

    def _draw(self) -> None:
        self.stream.write("\r\033[K" + self.status())
        self.stream.flush()
        self._drawn = True

    def _phase_text(self, phase: str) -> str:
        text = f"phase: {phase}"
        re = getattr(self.scheduler, "replanned", None)
        if re and re["max_resource"][0] != re["max_resource"][1]:
            a, b = re["max_resource"]
            text += (f" (re-planned from measured epochs of ~{re['epoch_s']:.1f}s: schedule "
                     f"{a} -> {b} epochs)")
        return text

    def on_event(self, event: dict) -> None:
        kind = event.get("event")
        tid = event.get("trial_id")
        if kind in ("started", "carried"):
            self.configs[tid] = event.get("config", {})
        improved = False
        if kind == "reported":
            metric = event["result"]["metric"]
            if metric > self.best:
                self.best, improved = metric, True
                self.best_config = self.configs.get(tid)
        if kind in ENDED and tid is not None:
            self.ended.add(tid)
        if not self.enabled:
            return
        phase = getattr(self.scheduler, "phase", None)
        if self.tty:
            if phase != self.phase and phase is not None:
                self.phase = phase
                self.say(self._phase_text(phase))
            self._draw()
            return
        if phase != self.phase and phase is not None:
            self.phase = phase
            print(self._phase_text(phase), file=self.stream, flush=True)
        if improved or kind in ENDED:
            what = (f"trial {tid} {kind} at epoch {event.get('resource')}" if kind in ENDED
                    else f"trial {tid} new best at epoch {event['result']['resource']}")
            print(f"{what}; {self.status()}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._handler in self._log.handlers:
            self._log.removeHandler(self._handler)
            self._log.propagate = self._propagate
        if self.enabled and self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
