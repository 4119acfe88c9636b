"""Progress of the long data steps, as a callback, and a minimal display for it.

A progress callback is any callable ``progress(stage, done, total)``: ``stage`` names the step
(``"scan"``: every file checked, and decoded into the cache when the scan builds it;
``"cache"``: decoding into the cache), ``done`` and ``total`` count files. It is called in the
calling thread: first with ``done=0``, then with ``done`` growing as chunks of files finish,
last with ``done == total``. :func:`~autopreset.data.scan` and
:func:`~autopreset.data.build_cache` take it as ``progress=``.

    ds = scan("photos/", progress=ProgressDisplay())     # a bar on a terminal, lines otherwise
    ds = scan("photos/", progress=lambda stage, done, total: print(stage, done, total))
"""
from __future__ import annotations

import sys
import time
from typing import Callable

__all__ = ["ProgressCallback", "ProgressDisplay"]

ProgressCallback = Callable[[str, int, int], None]

_WHAT = {"scan": "checking images", "cache": "decoding images into the cache"}


class ProgressDisplay:
    """A progress callback that shows each stage on ``stream`` (stderr by default): a rich
    progress bar on a terminal; elsewhere (logs, CI) a plain line at the start, at every
    ``step`` of the total (a fraction) and at the end, with the rate."""

    def __init__(self, stream=None, *, step: float = 0.1):
        self.stream = stream
        self.step = step
        self._bar = None
        self._stage = None
        self._start = 0.0
        self._next = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        stream = self.stream or sys.stderr
        if stage != self._stage or done == 0:
            self.close()
            self._stage, self._start, self._next = stage, time.perf_counter(), 0.0
            if getattr(stream, "isatty", lambda: False)():
                self._open_bar(stream, stage, total)
        if self._bar is not None:
            self._bar.update(self._task, completed=done)
        elif total and (done / total >= self._next or done == total):
            self._next = (int(done / total / self.step) + 1) * self.step
            self._line(stream, stage, done, total)
        if done >= total:
            self.close()

    def _open_bar(self, stream, stage: str, total: int) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        self._bar = Progress(TextColumn(f"{_WHAT.get(stage, stage)}"), BarColumn(),
                             MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                             console=Console(file=stream), transient=False)
        self._task = self._bar.add_task(stage, total=total)
        self._bar.start()

    def _line(self, stream, stage: str, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self._start
        text = f"{_WHAT.get(stage, stage)}: {done:,}/{total:,} files ({done / total:.0%})"
        if done and elapsed > 0:
            text += f", {elapsed:.0f}s, {done / elapsed:,.0f} files/s"
        print(text, file=stream, flush=True)

    def close(self) -> None:
        """Stop the bar of a stage that did not reach its total (an error or Ctrl-C)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
