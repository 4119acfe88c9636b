"""Turn Ctrl-C (SIGINT) and SIGTERM into a request to stop at the next safe point.

    with StopSignals() as stop:
        while not stop.name:          # "SIGINT" or "SIGTERM" once one arrived
            do_one_step()

The first signal is only recorded; a second one raises ``KeyboardInterrupt`` at once, for a
user who does not want to wait. Handlers are installed only in the main thread (Python
delivers signals there; elsewhere ``signal.signal`` fails), never over a signal that is
ignored (``nohup``, a background job), and the previous handlers are restored on exit.
"""
from __future__ import annotations

import signal
import threading

__all__ = ["StopSignals"]

SIGNALS = ("SIGINT", "SIGTERM")


class StopSignals:
    """Context manager recording the first SIGINT or SIGTERM in ``name`` (see module docstring)."""

    def __init__(self) -> None:
        self.name: str | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "StopSignals":
        if threading.current_thread() is not threading.main_thread():
            return self
        for sig_name in SIGNALS:
            sig = getattr(signal, sig_name, None)
            if sig is None or signal.getsignal(sig) is signal.SIG_IGN:
                continue
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except (ValueError, OSError):   # not allowed here (an embedded interpreter)
                pass
        return self

    def _handle(self, signum: int, frame) -> None:
        if self.name is not None:
            raise KeyboardInterrupt
        self.name = signal.Signals(signum).name

    def __exit__(self, *exc) -> None:
        for sig, previous in self._previous.items():
            # None: the previous handler was not installed from Python; the default is closest
            signal.signal(sig, signal.SIG_DFL if previous is None else previous)
        self._previous.clear()
