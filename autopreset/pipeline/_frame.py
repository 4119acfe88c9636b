"""The live display's frame: what a terminal shows of a fit, drawn with rich.

    fit  set-up › plan › portfolio › hyperband › refit › finish
    budget   ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━  1m12s used, 1m48s left
    trials   2 running, 14 paused or ended; best 0.9712 (trial 7, resnet18)
    trial   backbone    epoch                                 ETA
    ──────────────────────────────────────────────────────────────
        9   lcnet_050   ━━━━━━━━━━━━━━━━━━━━━━━━━━━━        3/9    12s
    #   trial   backbone   epochs   val acc   status
    ─────────────────────────────────────────────────
    1       7   resnet18        9    0.9712   completed

:class:`TrialView` is what the display knows of one trial: its epoch and target (the rung it
runs to), its last epoch's seconds (the ETA: epochs left times that), its best metric.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from autopreset._duration import format_duration

__all__ = ["Frame", "TrialView"]

SEARCH_PHASES = ("hyperband", "asha", "curve_stopping", "continue")   # after the portfolio
TOP = 5                  # trials in the leaderboard
BAR = 28                 # width of the epoch bars


@dataclass
class TrialView:
    key: int | str                   # the trial id, or "refit"
    backbone: str = "?"
    status: str = "running"
    epoch: int = 0                   # epochs reached
    target: int = 0                  # the epoch this job runs to (its rung)
    best: float | None = None
    epoch_s: float | None = None     # the last epoch's seconds
    since: float = 0.0               # clock time of the last report (or of the start)
    seconds: list = field(default_factory=list)

    @classmethod
    def from_event(cls, key, event: dict, now: float, sign: float = 1.0) -> "TrialView":
        config = event.get("config") or {}
        view = cls(key, backbone=str(config.get("backbone", "?")),
                   target=int(event.get("target_resource") or 0), since=now)
        results = event.get("results") or []           # a carried trial: paused, with results
        if results:
            view.status, view.epoch = "paused", int(results[-1]["resource"])
            view.best = max((float(r["metric"]) for r in results), key=lambda m: sign * m)
        return view

    def resume(self, event: dict, now: float) -> None:
        self.status, self.since = "running", now
        self.target = int(event.get("target_resource") or self.target)

    def report(self, result: dict, now: float, *, sign: float = 1.0, counts: bool = True) -> None:
        self.epoch, self.since = int(result["resource"]), now
        seconds = result.get("seconds")
        if isinstance(seconds, (int, float)) and seconds > 0:
            self.epoch_s = float(seconds)
            self.seconds.append(self.epoch_s)
        if counts:
            metric = float(result["metric"])
            if self.best is None or sign * metric > sign * self.best:
                self.best = metric

    def end(self, status: str, resource) -> None:
        self.status = status
        if resource is not None:
            self.epoch = int(resource)

    def eta(self, now: float, fallback: float | None) -> float | None:
        """Seconds until this job reaches its target: epochs left times the last epoch's
        seconds (or ``fallback``: the same backbone's), less the time the current one has run."""
        per = self.epoch_s or fallback
        if per is None or not self.target:
            return None
        return max(0.0, (self.target - self.epoch) * per - (now - self.since))

    def done_fraction(self, now: float, fallback: float | None) -> float:
        """Epochs done, with the running epoch's share so far (so the bar moves between reports)."""
        per = self.epoch_s or fallback
        part = min(0.95, (now - self.since) / per) if per else 0.0
        return min(float(self.target or self.epoch), self.epoch + part)


class Frame:
    """Renders a :class:`~autopreset.pipeline.Progress` (its phase, budget and trials)."""

    def __init__(self, progress):
        self.p = progress

    def render(self):
        from rich.console import Group

        p = self.p
        with p._lock:
            now = p.budget.now()
            parts = [self._phases(), self._budget(), self._summary()]
            if p.data_step is not None:
                parts.append(self._data(p.data_step, now))
            running = [t for t in p.trials.values() if t.status == "running"]
            if running:
                parts.append(self._running(running, now))
            ranked = sorted((t for t in p.trials.values() if t.best is not None and t.key != "refit"),
                            key=lambda t: (-p.sign * t.best, str(t.key)))[:TOP]
            if ranked:
                parts.append(self._leaderboard(ranked))
            return Group(*parts)

    def _phases(self):
        from rich.text import Text

        p = self.p
        search = getattr(p.scheduler, "phase", None)
        search = search if search in SEARCH_PHASES else "hyperband"
        names = ["set-up", "plan", "portfolio", search, "refit", "finish"]
        at = names.index(p.phase) if p.phase in names else -1
        text = Text("fit  ", style="bold")
        for i, name in enumerate(names):
            if i:
                text.append(" › ", style="dim")
            text.append(name, style="bold reverse" if i == at else "dim" if i < at else "")
        return text

    def _data(self, step, now):
        """The data step in progress: what, a bar of files, the rate."""
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        stage, done, total, started = step
        rate = done / max(now - started, 1e-9)
        grid = Table.grid(padding=(0, 2))
        grid.add_row(f"{self.p.DATA_WHAT.get(stage, stage):<8}",
                     ProgressBar(total=max(total, 1), completed=done, width=2 * BAR),
                     f"{done}/{total} files, {rate:.0f}/s")
        return grid

    def _budget(self):
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        b = self.p.budget
        left = max(0.0, b.left())
        used = min(b.total_s, b.total_s - left)
        grid = Table.grid(padding=(0, 2))
        grid.add_row("budget ", ProgressBar(total=b.total_s, completed=used, width=2 * BAR),
                     f"{format_duration(used)} used, {format_duration(left)} left")
        return grid

    def _summary(self):
        from rich.text import Text

        p = self.p
        trials = [t for t in p.trials.values() if t.key != "refit"]
        running = sum(t.status == "running" for t in trials)
        text = Text(f"trials   {running} running, {len(trials) - running} paused or ended")
        leader = self._leader()
        if leader is not None:
            text.append(f"; best {leader.best:.4f} (trial {leader.key}, {leader.backbone})")
        return text

    def _leader(self):
        p = self.p
        scored = [t for t in p.trials.values() if t.best is not None and t.key != "refit"]
        return min(scored, key=lambda t: (-p.sign * t.best, str(t.key))) if scored else None

    def _epoch_s(self, backbone: str) -> float | None:
        seen = [s for t in self.p.trials.values() if t.backbone == backbone for s in t.seconds]
        return statistics.median(seen) if seen else None

    def _running(self, running, now: float):
        """One row per running trial: its epoch bar toward its rung, and when it gets there
        (epochs left times its last epoch's seconds; the deadline, if that comes first)."""
        from rich import box
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        left = max(0.0, self.p.budget.left())
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1))
        for name, just in (("trial", "right"), ("backbone", "left"), ("epoch", "left"),
                           ("", "right"), ("ETA", "right")):
            table.add_column(name, justify=just, no_wrap=True)
        for t in sorted(running, key=lambda t: str(t.key)):
            fallback = self._epoch_s(t.backbone)
            eta = t.eta(now, fallback)
            if eta is None:
                eta_text = "-"
            elif eta > left:                     # it stops at the deadline, not at its target
                eta_text = f"{format_duration(left)} (budget)"
            else:
                eta_text = format_duration(eta)
            table.add_row(str(t.key), t.backbone,
                          ProgressBar(total=max(1, t.target), completed=t.done_fraction(now, fallback),
                                      width=BAR),
                          f"{t.epoch}/{t.target}", eta_text)
        return table

    def _leaderboard(self, ranked):
        from rich import box
        from rich.table import Table

        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1))
        for name, just in (("#", "right"), ("trial", "right"), ("backbone", "left"),
                           ("epochs", "right"), ("val acc", "right"), ("status", "left")):
            table.add_column(name, justify=just, no_wrap=True)
        for rank, t in enumerate(ranked, 1):
            table.add_row(str(rank), str(t.key), t.backbone, str(t.epoch), f"{t.best:.4f}",
                          t.status)
        return table
