"""Portfolio successive halving, narrowing, then Hyperband or ASHA: fit's search as one scheduler.

:class:`PortfolioHyperband` is an ordinary :class:`~autopreset.schedulers.TrialScheduler`, so
the tuner runs it (one journal, exact resume) and it runs against any objective, real training
or replayed curves on a simulated clock. Its :class:`PortfolioPlan` says how:

1. portfolio phase: successive halving (Jamieson & Talwalkar 2016) over the plan's configs
   (best-known first), from the plan's r0 to its top rung; the survivors stay paused with their
   checkpoints;
2. narrowing: the space is cut to the survivors' backbones and to ranges around their values
   (:func:`autopreset.space.narrow_around`);
3. the best survivor is continued to max_resource first, from its checkpoint (so the run has a
   fully trained, known-good model early: a good config trained long is hard to beat at small
   budgets); then Hyperband (Li et al. 2018; one worker) or ASHA (Li et al. 2020; several) over
   the narrowed space with the plan's brackets, the other survivors carried in
   (``on_trial_add``) and continued from their checkpoints, never retrained. With no Hyperband
   in the plan, every survivor, then the other portfolio trials, best first, are continued to
   max_resource while time allows.

At the switch the rest is re-planned from the resource times the portfolio phase measured (the
plan's speeds may have been measured on bare steps, perhaps on a machine busier or quieter than
now): the best survivor's schedule (max_resource, up to 1.5x the plan's) gets at least
``EXPLOIT_MIN_SHARE`` of the time left, so max_resource shrinks when units are slower and grows
when they are faster, and the Hyperband brackets are re-planned for it in the rest. Everything
is decided from reported results (their ``seconds`` and ledger ``time``) and the plan, so
replaying the journal rebuilds the same state.

Options of the phase after the switch (the defaults are fit's search as it ships):
``proposals`` names the searcher (``make_searcher``'s names) that proposes the new configs over
the narrowed space: "random" (default), or a model-based one such as "bayesopt" (a GP; with
Hyperband brackets this is BOHB-like, Falkner et al. 2018), which also learns from the
survivors' portfolio results and the best survivor's full schedule. ``inner`` is
"hyperband" (default: Hyperband with one worker, ASHA with several) or "curve_stopping"
(:class:`~autopreset.schedulers.CurveStopping`: each new config trains towards max_resource and
is stopped once its extrapolated learning curve is unlikely to beat the best full schedule so
far, the best survivor's first; Domhan et al. 2015). ``max_resource_cap`` bounds the re-planned
max_resource when the objective cannot go beyond some resource (replayed curves of a fixed
length); None keeps the 1.5x bound.

    plan = PortfolioPlan(portfolio=[...], portfolio_rungs=[(9, 1), (3, 3)], max_resource=27,
                         search_s=3600, hyperband=plan_hyperband(2000, 20.0, 27))
    sched = PortfolioHyperband(space=space, plan=plan, allowed={"resnet18", ...}, mode="max")
    Tuner(objective, sched, budget_s=plan.search_s, run_dir=run).run()
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

from autopreset._faults import fault_point
from autopreset.schedulers._asha import ASHA
from autopreset.schedulers._base import (
    CONTINUE, STOP, Suggestion, TrialScheduler, check_eta, check_positive_int)
from autopreset.schedulers._curve_stopping import CurveStopping
from autopreset.schedulers._fifo import FIFO
from autopreset.schedulers._plan import HyperbandPlan, plan_hyperband
from autopreset.schedulers._synchronous import Hyperband, SuccessiveHalving
from autopreset.searchers import SEARCHER_NAMES, ListSearcher
from autopreset.space import narrow_around

__all__ = ["PortfolioPlan", "PortfolioHyperband"]


@dataclass(frozen=True, kw_only=True)
class PortfolioPlan:
    """What :class:`PortfolioHyperband` follows: the portfolio and its successive-halving rungs,
    the resource and time bounds, and the Hyperband brackets for the rest (None: continue the
    portfolio survivors instead). ``constants`` are added to the space (settings fixed for the
    whole run) and dropped from the portfolio configs. JSON round trip: ``to_json`` /
    ``from_json``."""

    portfolio: tuple[dict, ...]                      # configs, best-known first
    portfolio_rungs: tuple[tuple[int, int], ...]     # (n_configs, resource) of the portfolio SH
    max_resource: int
    search_s: float                                  # seconds of the whole search (the tuner's budget)
    eta: int = 3
    n_workers: int = 1
    job_s: float = 0.0                               # seconds to start or resume a trial
    hyperband_s: float = 0.0                         # seconds planned for the Hyperband phase
    hyperband: HyperbandPlan | None = None
    constants: dict = field(default_factory=dict)
    first_rung_cost: float = 1.0     # a cheaper first rung's epoch, as a share of a full one

    def __post_init__(self) -> None:
        if not self.portfolio or not all(isinstance(c, dict) for c in self.portfolio):
            raise ValueError(f"portfolio must be a non-empty list of configs; got {self.portfolio!r}")
        rungs = tuple((check_positive_int("a portfolio rung's n", n),
                       check_positive_int("a portfolio rung's resource", r)) for n, r in self.portfolio_rungs)
        if not rungs or any(b[1] <= a[1] for a, b in zip(rungs, rungs[1:])):
            raise ValueError(f"portfolio_rungs must be (n, resource) pairs with rising resources; "
                             f"got {self.portfolio_rungs!r}")
        _check_seconds("search_s", self.search_s, positive=True)
        _check_seconds("job_s", self.job_s)
        _check_seconds("hyperband_s", self.hyperband_s)
        if self.hyperband is not None and not isinstance(self.hyperband, HyperbandPlan):
            raise ValueError(f"hyperband must be a HyperbandPlan or None; got {type(self.hyperband).__name__}")
        if not isinstance(self.constants, dict):
            raise ValueError(f"constants must be a dict; got {self.constants!r}")
        normal = {"portfolio": tuple(dict(c) for c in self.portfolio), "portfolio_rungs": rungs,
                  "max_resource": check_positive_int("max_resource", self.max_resource),
                  "eta": check_eta(self.eta), "n_workers": check_positive_int("n_workers", self.n_workers),
                  "search_s": float(self.search_s), "job_s": float(self.job_s),
                  "hyperband_s": float(self.hyperband_s), "constants": dict(self.constants),
                  "first_rung_cost": float(self.first_rung_cost)}
        if not 0.0 < normal["first_rung_cost"] <= 1.0:
            raise ValueError(f"first_rung_cost must be in (0, 1]; got {self.first_rung_cost!r}")
        for name, value in normal.items():
            object.__setattr__(self, name, value)

    @property
    def min_resource(self) -> int:
        return self.portfolio_rungs[0][1]

    @property
    def portfolio_top(self) -> int:
        """The resource the portfolio survivors reach before the switch."""
        return self.portfolio_rungs[-1][1]

    def to_json(self) -> dict:
        return {"portfolio": [dict(c) for c in self.portfolio],
                "portfolio_rungs": [list(r) for r in self.portfolio_rungs],
                "max_resource": self.max_resource, "search_s": self.search_s, "eta": self.eta,
                "n_workers": self.n_workers, "job_s": self.job_s, "hyperband_s": self.hyperband_s,
                "hyperband": None if self.hyperband is None else self.hyperband.to_json(),
                "constants": dict(self.constants), "first_rung_cost": self.first_rung_cost}

    @classmethod
    def from_json(cls, obj: dict) -> "PortfolioPlan":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(obj) - known)
        if unknown:
            raise ValueError(f"PortfolioPlan: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
        hb = obj.get("hyperband")
        return cls(**{**obj, "hyperband": None if hb is None else HyperbandPlan.from_json(hb)})


def _check_seconds(name: str, value, positive: bool = False) -> None:
    ok = (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
          and (value > 0 if positive else value >= 0))
    if not ok:
        raise ValueError(f"{name} must be a {'positive' if positive else 'non-negative'} number of "
                         f"seconds; got {value!r}")


class PortfolioHyperband(TrialScheduler):
    """Portfolio successive halving, then Hyperband/ASHA over the narrowed space.

        sched = PortfolioHyperband(space=space, plan=plan, allowed={"resnet18", ...}, mode="max")
        Tuner(objective, sched, budget_s=plan.search_s, run_dir=run).run()

    ``plan``: a :class:`PortfolioPlan` (``FitPlan.schedule()`` builds fit's). ``allowed``: the
    backbones the narrowed space may keep (None: any). ``phase`` is "portfolio", then
    "hyperband", "asha", "curve_stopping" (with ``inner="curve_stopping"``) or "continue" (or
    "done" when the portfolio reaches max_resource); ``survivors``, ``narrowed`` and
    ``replanned`` say what the switch decided. ``proposals``, ``inner`` and
    ``max_resource_cap``: see the module docstring (the defaults are fit's search).
    """

    EXPLOIT_MIN_SHARE = 0.5   # of the time left at the switch, for the best survivor's schedule

    INNER = ("hyperband", "curve_stopping")

    def __init__(self, *, space: dict, plan: PortfolioPlan, allowed: set[str] | None = None,
                 mode: str = "max", random_state: int = 0, proposals: str = "random",
                 inner: str = "hyperband", max_resource_cap: int | None = None):
        if not isinstance(plan, PortfolioPlan):
            raise ValueError(f"plan must be a PortfolioPlan (FitPlan.schedule() builds one); got "
                             f"{type(plan).__name__}")
        proposers = [n for n in SEARCHER_NAMES if n not in ("list", "grid")]
        if proposals not in proposers:
            raise ValueError(f"proposals must be one of {', '.join(proposers)}; got {proposals!r}")
        if inner not in self.INNER:
            raise ValueError(f"inner must be one of {', '.join(self.INNER)}; got {inner!r}")
        if max_resource_cap is not None:
            check_positive_int("max_resource_cap", max_resource_cap)
            if max_resource_cap < plan.max_resource:
                raise ValueError(f"max_resource_cap {max_resource_cap} is below the plan's "
                                 f"max_resource {plan.max_resource}")
        extra = {k: v for k, v in plan.constants.items() if k not in space}
        space = {**space, **extra}     # settings the plan fixes for this schedule
        portfolio = [{k: v for k, v in c.items() if k not in extra} for c in plan.portfolio]
        super().__init__(searcher=ListSearcher(space, portfolio, mode=mode), mode=mode,
                         max_resource=plan.max_resource, random_state=random_state)
        self.space = space
        self.plan = plan
        self.allowed = allowed
        self.seed = int(random_state)
        self.proposals, self.inner_kind, self.max_resource_cap = proposals, inner, max_resource_cap
        rungs = plan.portfolio_rungs
        self.portfolio_sched = SuccessiveHalving(
            searcher=self.searcher, mode=mode, max_resource=int(rungs[-1][1]),
            n_configs=int(rungs[0][0]), min_resource=int(rungs[0][1]), eta=plan.eta, n_brackets=1)
        self.phase = "portfolio"
        self.inner: TrialScheduler = self.portfolio_sched
        self.narrowed: dict | None = None
        self.survivors: list = []
        self.exploit = None            # the best survivor, continued to max_resource first
        self.replanned: dict | None = None
        self._exploit_sent = False
        self._portfolio_trials: dict[int, object] = {}   # trial id -> Trial (None until seen)
        self._carried_ids: set[int] = set()              # portfolio trials handed to the inner phase

    @property
    def portfolio_trial_ids(self) -> frozenset[int]:
        """Ids of the trials the portfolio phase started."""
        return frozenset(self._portfolio_trials)

    # ------------------------------------------------------------------ phases
    def _portfolio_busy(self) -> bool:
        return any(t is None or t.status == "running" for t in self._portfolio_trials.values())

    def _switch(self) -> None:
        """Narrow around the portfolio survivors and start the Hyperband phase."""
        fault_point("switch")
        top = self.plan.portfolio_top
        done = [t for t in self._portfolio_trials.values() if t is not None and t.results]
        sign = 1.0 if self.mode == "min" else -1.0
        ranked = sorted(done, key=lambda t: (-t.resource, sign * t.metric, t.trial_id))
        self.survivors = [t for t in ranked if t.resource >= top and t.status == "paused"]
        if not self.survivors:        # every portfolio trial failed or stopped early
            self.survivors = [t for t in ranked if t.status == "paused"][:1]
        # narrow around the survivors and the next best portfolio configs (a few backbones)
        base = [t.config for t in ranked[:max(len(self.survivors), min(3, len(ranked)))]]
        base = base or list(self.plan.portfolio[:1])
        self.narrowed = narrow_around(self.space, base, self.allowed)
        self.max_resource, hb_plan = self._replan(ranked)
        self.inner, self.phase = self._inner_phase(hb_plan)
        carried = list(self.survivors)
        if self.phase == "continue":   # then the other portfolio trials, best first, if time allows
            carried += [t for t in ranked if t not in carried and t.status == "paused"]
        elif carried:
            self.exploit, carried = carried[0], carried[1:]
        for trial in carried:
            self.inner.on_trial_add(trial)
        self._carried_ids = {t.trial_id for t in carried}

    def _inner_phase(self, hb_plan: HyperbandPlan | None) -> tuple[TrialScheduler, str]:
        if hb_plan is None:
            return FIFO(searcher=ListSearcher(self.space, [], mode=self.mode), mode=self.mode,
                        max_resource=self.max_resource), "continue"
        if self.proposals != "random" or self.inner_kind != "hyperband":
            return self._optional_phase(hb_plan)
        if self.plan.n_workers > 1:
            return ASHA(space=self.narrowed, mode=self.mode, plan=hb_plan,
                        random_state=self.seed + 1), "asha"
        return Hyperband(space=self.narrowed, mode=self.mode, plan=hb_plan,
                         random_state=self.seed + 1), "hyperband"

    def _optional_phase(self, hb_plan: HyperbandPlan) -> tuple[TrialScheduler, str]:
        """The phase after the switch with the non-default ``proposals`` or ``inner``."""
        from autopreset.searchers import make_searcher

        searcher = make_searcher(self.proposals, self.narrowed, mode=self.mode,
                                 random_state=self.seed + 1)
        if self.inner_kind == "curve_stopping":
            return CurveStopping(searcher=searcher, mode=self.mode, max_resource=self.max_resource,
                                 random_state=self.seed + 1), "curve_stopping"
        if self.plan.n_workers > 1:
            return ASHA(searcher=searcher, mode=self.mode, plan=hb_plan,
                        random_state=self.seed + 1), "asha"
        return Hyperband(searcher=searcher, mode=self.mode, plan=hb_plan,
                         random_state=self.seed + 1), "hyperband"

    def _tell_exploit(self, trial, result: dict | None) -> None:
        """With the non-default options, the inner phase learns from the best survivor's full
        schedule: curve stopping takes it as its first incumbent, a model-based searcher as an
        observation at max_resource. (Hyperband with random proposals needs neither.)"""
        if self.phase == "curve_stopping":
            if result is None:
                self.inner.on_trial_complete(trial)
            elif int(result["resource"]) >= self.max_resource:
                self.inner.on_trial_result(trial, result)
        elif self.proposals != "random" and result is None and trial.results \
                and self.phase in ("hyperband", "asha"):
            self.inner.searcher.observe(trial.config, trial.metric, resource=trial.resource)

    def _replan(self, ranked) -> tuple[int, HyperbandPlan | None]:
        """(max_resource, Hyperband plan or None) for the rest, from measured resource times."""
        plan, hb = self.plan, self.plan.hyperband
        lead = self.survivors[0] if self.survivors else None
        ratio = plan.first_rung_cost
        secs = _full_seconds(lead.results if lead else [], ratio)
        times = [float(r["time"]) for t in ranked for r in t.results if r.get("time") is not None]
        if lead is None or not secs or not times:
            return plan.max_resource, hb
        e = 1.1 * float(np.median(secs))
        left = plan.search_s - max(times)
        top, R, job = lead.resource, plan.max_resource, plan.job_s
        cap = int(1.5 * R) if self.max_resource_cap is None else min(int(1.5 * R), self.max_resource_cap)
        if hb is None:            # continuation: the lead survivor gets the time that is left
            new = int(np.clip(top + (left - job) // e, top + 1, cap))
        else:
            # its planned share of the rest, and at least EXPLOIT_MIN_SHARE of it: when the
            # budget affords only a few full schedules, the final model's training length
            # matters more than another bracket (the cap binds first at large budgets)
            share = max(self.EXPLOIT_MIN_SHARE, 1.0 - hb.budget_s / max(plan.hyperband_s, 1e-9))
            new = int(np.clip(top + (share * left - job) // e, top + 1, cap))
        self.replanned = {"max_resource": [R, new], "epoch_s": e, "left_s": left}
        if hb is None or new == R:
            return new, hb
        all_secs = _full_seconds([r for t in ranked for r in t.results], ratio)
        rest = left - (e * (new - top) + job)
        if rest > 0:
            hb = plan_hyperband(rest, cost_model=1.1 * float(np.median(all_secs)), max_resource=new,
                                eta=plan.eta, n_workers=plan.n_workers,
                                min_resource=min(hb.min_resource, new), overhead_s=job, safety=1.0)
            if hb.n_configs >= plan.eta and hb.max_resource == new:
                return new, hb
        new = int(np.clip(top + (left - job) // e, top + 1, cap))   # no brackets fit: continue
        self.replanned["max_resource"][1] = new
        return new, None

    # ------------------------------------------------------------------ hooks
    def suggest(self, trial_id: int):
        if self.phase == "portfolio":
            job = self.portfolio_sched.suggest(trial_id)
            if job is not None:
                if not job.resume:
                    self._portfolio_trials[job.trial_id] = None
                return job
            if self._portfolio_busy():
                return None
            if self.plan.portfolio_top >= self.max_resource:
                self.phase = "done"
                return None
            self._switch()
        if self.phase == "done":
            return None
        if self.exploit is not None and not self._exploit_sent:
            self._exploit_sent = True
            return Suggestion(self.exploit.trial_id, self.exploit.config, self.max_resource,
                              resume=True)
        return self.inner.suggest(trial_id)

    def _owner(self, trial) -> TrialScheduler | None:
        if trial.trial_id in self._portfolio_trials:
            self._portfolio_trials[trial.trial_id] = trial
            if self.phase == "portfolio":
                return self.portfolio_sched
        return None if self.phase in ("portfolio", "done") else self.inner

    def _is_exploit(self, trial) -> bool:
        return self.exploit is not None and trial.trial_id == self.exploit.trial_id

    def on_trial_result(self, trial, result: dict) -> str:
        if self._is_exploit(trial):
            self._tell_exploit(trial, result)
            return CONTINUE
        owner = self._owner(trial)
        if owner is None:
            return STOP
        # a portfolio trial at the top rung pauses there: the tuner ends its job at its target
        return owner.on_trial_result(trial, result)

    def on_trial_complete(self, trial) -> None:
        if self._is_exploit(trial):
            self._tell_exploit(trial, None)
            return
        owner = self._owner(trial)
        if owner is not None:
            owner.on_trial_complete(trial)

    def on_trial_error(self, trial) -> None:
        if self._is_exploit(trial):
            return
        owner = self._owner(trial)
        if owner is not None:
            owner.on_trial_error(trial)

    def may_resume(self, trial) -> bool:
        """Any paused portfolio trial until the switch (the continuation phase may take them
        all); after it, the lead survivor until it is continued, and what the inner phase may
        still resume of the trials it holds."""
        if self.phase == "portfolio":
            return True
        if self._is_exploit(trial):
            return not self._exploit_sent
        if self.phase == "done" or (trial.trial_id in self._portfolio_trials
                                    and trial.trial_id not in self._carried_ids):
            return False
        return self.inner.may_resume(trial)

    def on_trial_add(self, trial) -> None:
        raise ValueError("PortfolioHyperband starts from its portfolio; it takes no carried trials")

    def __repr__(self) -> str:
        options = "".join(f", {k}={v!r}" for k, v, default in (
            ("proposals", self.proposals, "random"), ("inner", self.inner_kind, "hyperband"),
            ("max_resource_cap", self.max_resource_cap, None)) if v != default)
        return (f"PortfolioHyperband(mode={self.mode!r}, max_resource={self.max_resource}, "
                f"portfolio={len(self.plan.portfolio)}, hyperband={self.plan.hyperband is not None}"
                f"{options})")


def _full_seconds(results, first_rung_cost: float = 1.0) -> list[float]:
    """Epoch seconds of ``results``, of full-fidelity epochs only when there are any (an
    epoch of a cheaper first rung, smaller inputs or fewer images, says ``full_fidelity``
    False: it would make the rest look cheaper than it is); else the cheaper epochs' seconds
    over ``first_rung_cost``, the share of a full epoch's cost the plan put them at."""
    secs = [(float(r["seconds"]), r.get("full_fidelity", True)) for r in results
            if r.get("seconds")]
    full = [s for s, f in secs if f]
    return full or [s / first_rung_cost for s, _ in secs]
