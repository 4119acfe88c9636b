"""Ctrl-C (SIGINT) and SIGTERM: the same stop, at the next safe point, wherever a fit is.

    with StopSignals() as stop:       # the tuner's loop: a signal is a request to stop
        while not stop.name:          # "SIGINT" or "SIGTERM" once one arrived
            do_one_step()

    with RaiseOnSignals():            # the rest of a fit (set-up, plan, finish): a signal
        set_up()                      # raises SignalReceived (a KeyboardInterrupt) at once

``StopSignals`` records the first signal only; a second one raises :class:`SignalReceived` at
once, for a user who does not want to wait. ``RaiseOnSignals`` makes SIGTERM act as Ctrl-C
does by default (an exception that unwinds, so ``finally`` blocks stop the workers), and names
the signal, so the command line exits 128 + its number (130 for SIGINT, 143 for SIGTERM).

Handlers are installed only in the main thread (Python delivers signals there; elsewhere
``signal.signal`` fails), never over a signal that is ignored (``nohup``, a background job),
and the previous handlers are restored on exit. ``RaiseOnSignals`` also leaves alone a handler
the host program installed itself (only Python's defaults are replaced).
"""
from __future__ import annotations

import signal
import threading

__all__ = ["StopSignals", "RaiseOnSignals", "SignalReceived", "exit_status"]

SIGNALS = ("SIGINT", "SIGTERM")


class SignalReceived(KeyboardInterrupt):
    """A stop signal that ends what runs at once; ``signal_name`` is "SIGINT" or "SIGTERM".

    A ``KeyboardInterrupt``, so code that handles Ctrl-C handles SIGTERM the same way."""

    def __init__(self, signal_name: str = "SIGINT"):
        super().__init__(signal_name)
        self.signal_name = signal_name


def exit_status(signal_name: str | None) -> int:
    """128 + the signal's number, as a shell reports a process the signal ended (130 for SIGINT
    and for an unnamed interruption, 143 for SIGTERM)."""
    try:
        return 128 + int(signal.Signals[signal_name or "SIGINT"])
    except KeyError:
        return 128 + int(signal.SIGINT)


class _Handlers:
    """Install ``self._handle`` for the stop signals (see the module docstring); restore on exit."""

    def __init__(self) -> None:
        self._previous: dict[int, object] = {}

    def _replaces(self, current) -> bool:
        return current is not signal.SIG_IGN

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        for sig_name in SIGNALS:
            sig = getattr(signal, sig_name, None)
            if sig is None or not self._replaces(signal.getsignal(sig)):
                continue
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except (ValueError, OSError):   # not allowed here (an embedded interpreter)
                pass
        return self

    def _handle(self, signum: int, frame) -> None:
        raise NotImplementedError

    def __exit__(self, *exc) -> None:
        for sig, previous in self._previous.items():
            # None: the previous handler was not installed from Python; the default is closest
            signal.signal(sig, signal.SIG_DFL if previous is None else previous)
        self._previous.clear()


class StopSignals(_Handlers):
    """Context manager recording the first SIGINT or SIGTERM in ``name`` (see module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.name: str | None = None

    def __enter__(self) -> "StopSignals":
        return super().__enter__()

    def _handle(self, signum: int, frame) -> None:
        name = signal.Signals(signum).name
        if self.name is not None:
            raise SignalReceived(name)
        self.name = name


class RaiseOnSignals(_Handlers):
    """Context manager: SIGINT and SIGTERM raise :class:`SignalReceived` (module docstring).

    Only Python's own defaults are replaced (SIGTERM's ``SIG_DFL``, SIGINT's
    ``default_int_handler``): a handler the host program set is kept, and so is an ignored signal.
    """

    def _replaces(self, current) -> bool:
        return current is signal.SIG_DFL or current is signal.default_int_handler

    def __enter__(self) -> "RaiseOnSignals":
        return super().__enter__()

    def _handle(self, signum: int, frame) -> None:
        raise SignalReceived(signal.Signals(signum).name)
