"""The tuner: the only loop. It asks the scheduler what to run, hands jobs to an executor,
records every event in the journal, keeps the budget ledger and holds the hard deadline.

    from autopreset.tuner import Tuner
    from autopreset.schedulers import ASHA
    result = Tuner(train, ASHA(space=space, max_resource=27), n_workers=2, budget_s=600,
                   run_dir="runs/hpo").run()
    result.best.config, result.best.metric, result.best.checkpoint_dir

Deadline: at ``budget_s`` running trials are told to stop (their next ``report`` returns False;
workers also know the absolute deadline), trials still running after a short grace
(1% of the budget + 0.3 s) are killed, and ``run`` returns the best found so far, within
budget * 1.02 + 1 s.

Signals: while ``run`` runs in the main thread, the first SIGINT (Ctrl-C) or SIGTERM ends it at
the next safe point, as the deadline does: no new trials start, running ones are told to stop
and killed after the same grace, the trials it cut are journaled ``interrupted`` with
``"signal": "SIGINT"``, the journal's ``run_ended`` event carries ``"interrupted": "SIGINT"``,
and the result has ``interrupted="SIGINT"``. A second signal raises ``KeyboardInterrupt`` (a
``SignalReceived`` naming it) at once. The previous handlers are restored when ``run`` returns,
and ``resume=True`` continues such a run like a killed one.

Resume: with ``resume=True`` the journal in ``run_dir`` is replayed into a freshly built
scheduler (same settings and random_state): every ``suggest`` and every hook is called again in
the recorded order, so the scheduler and its searcher end in the state they had; trials that
were running when the run died are relaunched from their checkpoints to the same target, and
reports they repeat are skipped. Completed work is never redone, and only time the tuner ran
counts against the budget.

Carrying trials: ``carry=[CarriedTrial(config, results, checkpoint_dir)]`` adds paused trials
from an earlier run (e.g. portfolio survivors); the scheduler places them (``on_trial_add``) and
may resume them from their own checkpoint folders.

Retiring trials: ``on_retire(trial)`` is called once for each trial that can no longer run:
its job has ended and it is completed, stopped or failed, or paused where the scheduler will
never resume it (``scheduler.may_resume(trial)`` is False: the trials successive halving did not
promote). A caller can free what such a trial holds (``fit`` deletes the weights of those its
final pick can no longer choose, so a long run's folder stays small). A resumed run calls it again for the
trials its journal retired.
"""
from __future__ import annotations

import json
import math
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from autopreset._faults import fault_point
from autopreset._signals import StopSignals
from autopreset.errors import DISK_FULL, DiskFull, InputError, is_disk_full
from autopreset.executors import Executor, InlineExecutor, Job, LocalExecutor
from autopreset.journal import Journal, _clean, read_journal
from autopreset.schedulers import CONTINUE, PAUSE, STOP, Trial, TrialScheduler
from autopreset.schedulers._base import DECISIONS

JOURNAL_NAME = "journal.jsonl"


@dataclass(frozen=True)
class CarriedTrial:
    """A trial from an earlier run to continue here: its config, results so far (dicts with
    ``resource`` and ``metric``) and the checkpoint folder it resumes from."""

    config: dict
    results: list[dict]
    checkpoint_dir: str


@dataclass
class TuningResult:
    """What a run found: the best trial (config, metric, resource, checkpoint_dir) and all trials."""

    best: Trial | None
    trials: list[Trial]
    mode: str
    max_resource: int
    spent_s: float
    deadline_hit: bool
    run_dir: str | None = None
    counts: dict = field(default_factory=dict)
    interrupted: str | None = None   # "SIGINT" or "SIGTERM" when a signal ended the run

    def to_json(self) -> dict:
        return {"best": None if self.best is None else self.best.to_json(), "mode": self.mode,
                "max_resource": self.max_resource, "spent_s": self.spent_s, "deadline_hit": self.deadline_hit,
                "interrupted": self.interrupted, "run_dir": self.run_dir,
                "trials": [t.to_json() for t in self.trials]}


def best_trial(trials: list[Trial], mode: str, max_resource: int) -> Trial | None:
    """The trial with the best last metric among those at the highest resource reached
    (trials that reached max_resource first): its checkpoint holds exactly that model."""
    ok = [t for t in trials if t.results and t.status != "failed"]
    if not ok:
        return None
    top = max(min(t.resource, max_resource) for t in ok)
    level = [t for t in ok if min(t.resource, max_resource) == top]
    sign = 1.0 if mode == "min" else -1.0
    return min(level, key=lambda t: (sign * t.metric, t.trial_id))


def _same(a: dict, b: dict) -> bool:
    return json.dumps(_clean(a), sort_keys=True) == json.dumps(_clean(b), sort_keys=True)


class Tuner:
    """Run a scheduler's trials through an executor under a wall-clock budget.

    ``objective(config, reporter)`` must be picklable for process executors. ``n_workers``
    picks the default executor (inline for 1, local processes above). ``on_event(event)`` is
    called with every journal event (a dict) for progress displays.
    """

    tick_s = 1.0

    def __init__(self, objective: Callable, scheduler: TrialScheduler, *, executor: Executor | None = None,
                 n_workers: int = 1, budget_s: float | None = None, run_dir: str | Path | None = None,
                 resume: bool = False, carry: list[CarriedTrial] = (), seed: int = 0,
                 on_event: Callable[[dict], None] | None = None,
                 on_retire: Callable[[Trial], None] | None = None):
        if not callable(objective):
            raise InputError(f"objective must be callable as objective(config, reporter); got {objective!r}")
        if budget_s is not None and not (isinstance(budget_s, (int, float)) and budget_s > 0 and math.isfinite(budget_s)):
            raise InputError(f"budget_s must be a positive number of seconds or None; got {budget_s!r}")
        if resume and run_dir is None:
            raise InputError("resume=True needs the run_dir holding the journal")
        if executor is None:
            executor = InlineExecutor() if n_workers == 1 else LocalExecutor(n_workers)
        self.objective = objective
        self.scheduler = scheduler
        self.executor = executor
        self.budget_s = budget_s
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.resume = resume
        self.carry = list(carry)
        self.seed = int(seed)
        self.on_event = on_event
        self.on_retire = on_retire

    # ---------------------------------------------------------------- ledger
    def _spent(self) -> float:
        return self._spent_before + (self.executor.clock() - self._t0)

    def _emit(self, event: dict) -> None:
        event = {"event": event.pop("event"), "t": round(time.time(), 3), "spent": round(self._spent(), 4), **event}
        if self._journal is not None and not self._journal_full:
            try:
                self._journal.write(event)
            except OSError as exc:        # a full disk: stop the run; what is written is whole
                if not is_disk_full(exc):
                    raise
                self._journal_full = True
                self._disk_full = f"{DISK_FULL}: {exc} (writing {self._journal.path})"
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception as exc:   # a broken progress display must not stop the search
                warnings.warn(f"on_event callback failed: {exc!r}")
                self.on_event = None

    # ------------------------------------------------------------------ run
    def run(self) -> "TuningResult":
        """Run until the scheduler has nothing left, the budget is spent or a signal arrives
        (SIGINT/SIGTERM: see the module docstring); the result holds the best trial so far."""
        with StopSignals() as self._signals:
            return self._run()

    def _interrupted(self) -> str | None:
        return self._signals.name

    def _run(self) -> "TuningResult":
        ex = self.executor
        self._t0 = ex.clock()
        self._trials: dict[int, Trial] = {}
        self._decision: dict[int, str | None] = {}
        self._next_id = 0
        self._spent_before = 0.0
        self._stopping = False
        self._disk_full: str | None = None       # why the run stopped for a full disk
        self._journal_full = False               # the journal itself could not be written
        self._relaunch: list[Trial] = []
        self._cut: set[int] = set()   # trials told to stop by the deadline
        self._live: set[int] = set()  # trials whose job was submitted and has not ended
        self._retired: set[int] = set()
        self._journal = None
        if self.run_dir is not None:
            path = self.run_dir / JOURNAL_NAME
            if path.exists() and not self.resume and read_journal(path):
                raise InputError(f"run_dir {self.run_dir} already holds a journal: pass resume=True or a new run_dir")
            self._ckpt_root = self.run_dir / "trials"
            events = read_journal(path) if self.resume else []
            self._replay(events)
            self._journal = Journal(path)
        else:
            self._ckpt_root = Path(tempfile.gettempdir()) / f"autopreset-{uuid.uuid4().hex[:12]}"
        remaining = math.inf if self.budget_s is None else self.budget_s - self._spent_before
        self._deadline = self._t0 + remaining
        wall_deadline = time.time() + remaining
        self._wall_deadline = wall_deadline
        self._emit({"event": "run_started", "budget_s": self.budget_s, "resumed": bool(self.resume),
                    "n_workers": ex.n_workers, "scheduler": repr(self.scheduler)})
        if not self.resume or not any(t.carried for t in self._trials.values()):
            for c in self.carry:
                self._add_carried(c)
        self._finish_lost_ends()
        self._retire()
        deadline_hit = False
        try:
            ex.start(self.objective, on_report=self._on_report, on_done=self._on_done)
            last_tick = time.monotonic()
            while not self._interrupted() and not self._disk_full:
                now = ex.clock()
                if now >= self._deadline:
                    deadline_hit = True
                    break
                self._fill()
                self._retire()
                if ex.n_running == 0:
                    break
                wait = self._deadline - now
                if not ex.simulated:
                    wait = min(wait, self.tick_s)
                ex.wait(wait)
                if not ex.simulated and time.monotonic() - last_tick >= self.tick_s:
                    last_tick = time.monotonic()
                    self._emit({"event": "tick"})
        finally:
            self._stopping = True
            try:
                if ex.n_running:
                    grace = 0.3 + (0.01 * self.budget_s if self.budget_s else 0.0)
                    signal_name = self._interrupted()
                    ex.stop(grace, reason=f"killed: did not stop after {signal_name}" if signal_name
                            else "killed: did not stop at the deadline")
            finally:   # (a second Ctrl-C may cut the grace short; the run still ends cleanly)
                ex.close()
                ended = {"event": "run_ended", "deadline_hit": deadline_hit}
                if self._interrupted():
                    ended["interrupted"] = self._interrupted()
                self._emit(ended)
                if self._journal is not None:
                    self._journal.close()
        if self._disk_full:
            where = f" under {self.run_dir}" if self.run_dir is not None else ""
            raise DiskFull(f"{self._disk_full}{where}: the run stopped; free some space and resume "
                           "it (every finished epoch is kept)")
        trials = [self._trials[k] for k in sorted(self._trials)]
        counts: dict[str, int] = {}
        for t in trials:
            counts[t.status] = counts.get(t.status, 0) + 1
        return TuningResult(best=best_trial(trials, self.scheduler.mode, self.scheduler.max_resource),
                            trials=trials, mode=self.scheduler.mode, max_resource=self.scheduler.max_resource,
                            spent_s=self._spent(), deadline_hit=deadline_hit,
                            run_dir=None if self.run_dir is None else str(self.run_dir), counts=counts,
                            interrupted=self._interrupted())

    def _fill(self) -> None:
        ex = self.executor
        while ex.n_running < ex.n_workers and self._interrupted() is None:
            if self._relaunch:
                trial = self._relaunch.pop(0)
                self._emit({"event": "relaunched", "trial_id": trial.trial_id, "target_resource": trial.target_resource})
                self._submit(trial)
                continue
            s = self.scheduler.suggest(self._next_id)
            if s is None:
                return
            if s.resume:
                trial = self._trials.get(s.trial_id)
                if trial is None or trial.status != "paused":
                    raise RuntimeError(f"{self.scheduler!r} resumed trial {s.trial_id}, which is not paused")
                trial.target_resource = int(s.target_resource)
                fault_point("promotion")
                self._emit({"event": "resumed", "trial_id": trial.trial_id, "target_resource": trial.target_resource})
            else:
                if s.trial_id != self._next_id:
                    raise RuntimeError(f"{self.scheduler!r} started trial id {s.trial_id}, expected {self._next_id}")
                trial = Trial(s.trial_id, dict(s.config), checkpoint_dir=str(self._ckpt_root / f"trial_{s.trial_id:05d}"),
                              target_resource=int(s.target_resource))
                self._trials[trial.trial_id] = trial
                self._next_id += 1
                self._emit({"event": "started", "trial_id": trial.trial_id, "config": trial.config,
                            "target_resource": trial.target_resource, "checkpoint_dir": trial.checkpoint_dir})
            self._submit(trial)

    def _submit(self, trial: Trial) -> None:
        if trial.trial_id in self._retired:
            raise RuntimeError(f"{self.scheduler!r} resumed trial {trial.trial_id}, which it had retired "
                               "(may_resume was False)")
        self._live.add(trial.trial_id)
        trial.status = "running"
        self._decision[trial.trial_id] = None
        self.executor.submit(Job(trial.trial_id, trial.config, trial.checkpoint_dir, trial.target_resource,
                                 self.scheduler.max_resource, (self.seed * 100_003 + trial.trial_id) % 2**31,
                                 self._wall_deadline))

    # -------------------------------------------------------------- events
    def _on_report(self, trial_id: int, raw: dict) -> bool:
        trial = self._trials.get(trial_id)
        if trial is None or trial.status != "running":
            return False
        past = self._stopping or self._interrupted() is not None or self.executor.clock() >= self._deadline
        resource, metric = int(raw["resource"]), raw["metric"]
        if resource <= trial.resource:   # repeated after a relaunch: already recorded
            if past:
                self._cut.add(trial_id)
            return not past
        if not (isinstance(metric, (int, float)) and math.isfinite(metric)):
            self._fail(trial, f"metric is {metric!r} at resource {resource}")
            return False
        result = {"resource": resource, "metric": float(metric),
                  **{k: v for k, v in _clean(raw).items() if k not in ("resource", "metric", "time")},
                  "time": round(self._spent(), 4)}
        trial.results.append(result)
        decision = self.scheduler.on_trial_result(trial, result)
        if decision not in DECISIONS:
            raise RuntimeError(f"{self.scheduler!r} returned decision {decision!r}; expected one of {DECISIONS}")
        self._decision[trial_id] = decision
        self._emit({"event": "reported", "trial_id": trial_id, "result": result, "decision": decision})
        if past:
            self._cut.add(trial_id)
        return decision == CONTINUE and resource < trial.target_resource and not past

    def _fail(self, trial: Trial, reason: str) -> None:
        trial.status, trial.reason = "failed", reason
        self._emit({"event": "failed", "trial_id": trial.trial_id, "reason": reason})
        self.scheduler.on_trial_error(trial)

    def _end_status(self, trial: Trial) -> str | None:
        """How a job that ended without an error leaves its trial (None: it did not end)."""
        decision = self._decision.get(trial.trial_id)
        if decision == STOP:
            return "stopped"
        if decision == PAUSE:
            return "paused"
        if trial.resource >= self.scheduler.max_resource:
            return "completed"
        if trial.resource >= trial.target_resource:
            return "paused"
        return None

    def _on_done(self, trial_id: int, error: str | None) -> None:
        trial = self._trials[trial_id]
        self._live.discard(trial_id)
        if trial.status != "running":
            return
        if error is not None and error.startswith(DISK_FULL):
            self._set_status(trial, "interrupted", error)    # not the trial's fault: stop the run,
            self._disk_full = self._disk_full or error       # and --resume continues the trial
            return
        if error is not None and not self._stopping and self._interrupted() is None:
            self._fail(trial, error)   # (with a signal pending, a dead worker is interrupted, not failed)
            return
        cut = self._stopping or trial_id in self._cut or self._interrupted() is not None
        status = self._end_status(trial) or ("interrupted" if cut else "completed")
        self._set_status(trial, status, error)

    def _set_status(self, trial: Trial, status: str, reason: str | None = None) -> None:
        trial.status, trial.reason = status, reason
        event = {"event": status, "trial_id": trial.trial_id, "resource": trial.resource}
        if reason:
            event["reason"] = reason
        if status == "interrupted" and self._interrupted():
            event["signal"] = self._interrupted()   # cut by SIGINT/SIGTERM, not by the deadline
        self._emit(event)
        if status == "completed":
            self.scheduler.on_trial_complete(trial)

    def _retire(self) -> None:
        """Call ``on_retire`` for each trial that can no longer run (see module docstring)."""
        if self.on_retire is None or self._stopping:
            return
        for tid, trial in self._trials.items():
            if tid in self._retired or tid in self._live:
                continue
            if trial.status in ("completed", "stopped", "failed") or (
                    trial.status == "paused" and not self.scheduler.may_resume(trial)):
                self._retired.add(tid)
                try:
                    self.on_retire(trial)
                except Exception as exc:   # freeing space must not stop the search
                    warnings.warn(f"on_retire callback failed: {exc!r}")
                    self.on_retire = None
                    return

    def _add_carried(self, c: CarriedTrial) -> None:
        results = [dict(r, resource=int(r["resource"]), metric=float(r["metric"])) for r in c.results]
        for r in results:
            if not math.isfinite(r["metric"]):
                raise InputError(f"carried trial {c.config!r} has a non-finite metric {r['metric']!r}")
        trial = Trial(self._next_id, dict(c.config), checkpoint_dir=str(c.checkpoint_dir), results=results,
                      status="paused", target_resource=results[-1]["resource"] if results else 0, carried=True)
        self._trials[trial.trial_id] = trial
        self._next_id += 1
        self._emit({"event": "carried", "trial_id": trial.trial_id, "config": trial.config,
                    "results": results, "checkpoint_dir": trial.checkpoint_dir})
        self.scheduler.on_trial_add(trial)

    # --------------------------------------------------------------- resume
    def _replay(self, events: list[dict]) -> None:
        """Rebuild trials, scheduler and searcher state from the journal (see module docstring)."""
        for e in events:
            kind, tid = e["event"], e.get("trial_id")
            self._spent_before = max(self._spent_before, float(e.get("spent") or 0.0))
            if kind == "started":
                s = self.scheduler.suggest(tid)
                if s is None or s.resume or s.trial_id != tid:
                    raise InputError(f"journal {self.run_dir / JOURNAL_NAME}: trial {tid} does not replay with "
                                     f"this scheduler (got {s!r}); resume with the same scheduler settings and random_state")
                if not _same(s.config, e["config"]):
                    warnings.warn(f"resume: trial {tid}'s config differs on replay; the journal's config is used")
                self._trials[tid] = Trial(tid, e["config"], checkpoint_dir=e["checkpoint_dir"],
                                          target_resource=int(e["target_resource"]))
                self._decision[tid] = None
                self._next_id = tid + 1
            elif kind == "resumed":
                s = self.scheduler.suggest(self._next_id)
                if s is None or not s.resume or s.trial_id != tid:
                    raise InputError(f"journal {self.run_dir / JOURNAL_NAME}: the promotion of trial {tid} does not "
                                     f"replay with this scheduler (got {s!r})")
                self._trials[tid].status = "running"
                self._trials[tid].target_resource = int(e["target_resource"])
                self._decision[tid] = None
            elif kind == "relaunched":
                self._trials[tid].status = "running"
                self._decision[tid] = None
            elif kind == "carried":
                trial = Trial(tid, e["config"], checkpoint_dir=e["checkpoint_dir"], results=list(e["results"]),
                              status="paused", target_resource=e["results"][-1]["resource"] if e["results"] else 0,
                              carried=True)
                self._trials[tid] = trial
                self._next_id = tid + 1
                self.scheduler.on_trial_add(trial)
            elif kind == "reported":
                trial = self._trials[tid]
                trial.results.append(e["result"])
                decision = self.scheduler.on_trial_result(trial, e["result"])
                if decision != e["decision"]:
                    warnings.warn(f"resume: trial {tid} replays decision {decision!r}, journal has {e['decision']!r}")
                self._decision[tid] = e["decision"]
            elif kind == "failed":
                trial = self._trials[tid]
                trial.status, trial.reason = "failed", e.get("reason")
                self.scheduler.on_trial_error(trial)
            elif kind == "completed":
                self._trials[tid].status = "completed"
                self.scheduler.on_trial_complete(self._trials[tid])
            elif kind in ("paused", "stopped", "interrupted"):
                self._trials[tid].status = kind
                self._trials[tid].reason = e.get("reason")

    def _finish_lost_ends(self) -> None:
        """After a replay: a job whose end was decided but not journaled ends now; the others
        (running at a crash, interrupted at a deadline) are relaunched from their checkpoints."""
        for tid in sorted(self._trials):
            trial = self._trials[tid]
            if trial.status not in ("running", "interrupted"):
                continue
            status = self._end_status(trial)
            if status is not None and trial.status == "running":
                trial.status = "running"
                self._set_status(trial, status)
            else:
                trial.status = "interrupted"
                self._relaunch.append(trial)
