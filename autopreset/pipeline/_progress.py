"""Progress of a fit: phase, trials done, best so far, time left.

On a terminal one status line is redrawn in place; otherwise (logs, CI) plain lines are printed
when something changes: a phase starts, a trial ends, the best so far improves.
"""
from __future__ import annotations

import math
import sys

__all__ = ["Progress"]

ENDED = ("completed", "paused", "stopped", "failed", "interrupted")


class Progress:
    """``Progress(clock, scheduler)``; pass ``progress.on_event`` as the tuner's ``on_event``."""

    def __init__(self, clock, scheduler=None, *, enabled: bool = True, stream=None):
        self.clock = clock
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
                f"{max(0.0, self.clock.left()):.0f}s left")

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
        if self.enabled and self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
