"""The search strategy of ``fit`` as one scheduler: portfolio, narrowing, Hyperband.

:class:`PortfolioHyperband` is an ordinary :class:`~autopreset.schedulers.TrialScheduler`, so
the tuner runs it (one journal, exact resume) and it runs against any objective, real training
or replayed curves on a simulated clock:

1. portfolio phase: successive halving over the given configs (best-known first), from the
   plan's r0 epochs to its top rung; the survivors stay paused with their checkpoints;
2. narrowing: the space is cut to the survivors' backbones and to ranges around their values
   (``autopreset.space.narrow``);
3. the best survivor is continued to max_resource first, from its checkpoint (so the run has a
   fully trained, known-good model early: a good config trained long is hard to beat at small
   budgets); then Hyperband (one worker) or ASHA (several) over the narrowed space with the
   plan's brackets, the other survivors carried in (``on_trial_add``) and continued from their
   checkpoints, never retrained. With no Hyperband in the plan, every survivor, then the other
   portfolio trials, best first, are continued to max_resource while time allows.

At the switch the rest is re-planned from the epoch times the portfolio phase measured (the
plan's speeds were measured on bare steps, perhaps on a machine busier or quieter than now):
the best survivor's schedule (max_resource, up to 1.5x the plan's) gets at least half of the
time left, so max_resource shrinks when epochs are slower and grows when they are faster, and
the Hyperband brackets are re-planned for it in the other half. Everything here is decided from reported results (their ``seconds`` and ledger
``time``) and the plan, so replaying the journal rebuilds the same state.
"""
from __future__ import annotations

from autopreset.schedulers import (ASHA, CONTINUE, FIFO, STOP, Hyperband, SuccessiveHalving,
                                   Suggestion, TrialScheduler)
from autopreset.searchers import Searcher

__all__ = ["PortfolioHyperband", "ListSearcher", "narrow_around", "EXPLOIT_MIN_SHARE"]

EXPLOIT_MIN_SHARE = 0.5   # of the time left at the switch, for the best survivor's schedule


class ListSearcher(Searcher):
    """Proposes exactly the given configs, in order, then nothing."""

    def __init__(self, space: dict, configs: list[dict], *, mode: str = "max"):
        super().__init__(space, mode=mode, points_to_evaluate=[dict(c) for c in configs])

    def _suggest(self):
        return None


def narrow_around(space: dict, configs: list[dict], allowed: set[str] | None = None,
                  margin: float = 0.1) -> dict:
    """The space around ``configs``: their backbones (within ``allowed``), numeric ranges
    widened by ``margin`` of each domain's (log) range, clipped to the full space."""
    from autopreset.space import Categorical, Ordinal, narrow

    keys = [k for k in space]
    clean = [{k: c[k] for k in keys if k in c} for c in configs]
    out = narrow(space, clean, margin=margin)
    if "backbone" in space:
        names = list(dict.fromkeys(c["backbone"] for c in configs
                                   if allowed is None or c["backbone"] in allowed))
        if len(names) == 1:
            out["backbone"] = names[0]
        elif names:
            dom = space["backbone"]
            order = list(dom.values) if isinstance(dom, Ordinal) else names
            out["backbone"] = Categorical([n for n in order if n in names])
    return out


class PortfolioHyperband(TrialScheduler):
    """Portfolio successive halving, then Hyperband/ASHA over the narrowed space.

        sched = PortfolioHyperband(space=space, plan=plan, allowed={"resnet18", ...}, mode="max")
        Tuner(objective, sched, budget_s=plan.search_s, run_dir=run).run()
    """

    def __init__(self, *, space: dict, plan, allowed: set[str] | None = None, mode: str = "max",
                 random_state: int = 0):
        extra = {k: v for k, v in getattr(plan, "constants", {}).items() if k not in space}
        space = {**space, **extra}     # trainer settings the plan fixes for this schedule
        portfolio = [{k: v for k, v in c.items() if k not in extra} for c in plan.portfolio]
        super().__init__(searcher=ListSearcher(space, portfolio, mode=mode), mode=mode,
                         max_resource=plan.max_resource, random_state=random_state)
        self.space = space
        self.plan = plan
        self.allowed = allowed
        self.seed = int(random_state)
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

    # ------------------------------------------------------------------ phases
    def _portfolio_busy(self) -> bool:
        return any(t is None or t.status == "running" for t in self._portfolio_trials.values())

    def _switch(self) -> None:
        """Narrow around the portfolio survivors and start the Hyperband phase."""
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
        if hb_plan is None:
            self.inner = FIFO(searcher=ListSearcher(self.space, [], mode=self.mode), mode=self.mode,
                              max_resource=self.max_resource)
            self.phase = "continue"
        elif self.plan.n_workers > 1:
            self.inner = ASHA(space=self.narrowed, mode=self.mode, plan=hb_plan,
                              random_state=self.seed + 1)
            self.phase = "asha"
        else:
            self.inner = Hyperband(space=self.narrowed, mode=self.mode, plan=hb_plan,
                                   random_state=self.seed + 1)
            self.phase = "hyperband"
        carried = list(self.survivors)
        if self.phase == "continue":   # then the other portfolio trials, best first, if time allows
            carried += [t for t in ranked if t not in carried and t.status == "paused"]
        elif carried:
            self.exploit, carried = carried[0], carried[1:]
        for trial in carried:
            self.inner.on_trial_add(trial)
        self._carried_ids = {t.trial_id for t in carried}

    def _replan(self, ranked) -> tuple[int, object]:
        """(max_resource, Hyperband plan or None) for the rest, from measured epoch times."""
        import numpy as np

        from autopreset.schedulers import plan_hyperband

        plan, hb = self.plan, self.plan.hyperband_plan()
        lead = self.survivors[0] if self.survivors else None
        secs = [float(r["seconds"]) for r in (lead.results if lead else []) if r.get("seconds")]
        times = [float(r["time"]) for t in ranked for r in t.results if r.get("time") is not None]
        if lead is None or not secs or not times:
            return plan.max_resource, hb
        e = 1.1 * float(np.median(secs))
        left = plan.search_s - max(times)
        top, R, job = lead.resource, plan.max_resource, plan.job_s
        cap = int(1.5 * R)
        if hb is None:            # continuation: the lead survivor gets the time that is left
            new = int(np.clip(top + (left - job) // e, top + 1, cap))
        else:
            # its planned share of the rest, and at least EXPLOIT_MIN_SHARE of it: when the
            # budget affords only a few full schedules, the final model's training length
            # matters more than another bracket (the cap binds first at large budgets)
            share = max(EXPLOIT_MIN_SHARE, 1.0 - hb.budget_s / max(plan.hyperband_s, 1e-9))
            new = int(np.clip(top + (share * left - job) // e, top + 1, cap))
        self.replanned = {"max_resource": [R, new], "epoch_s": e, "left_s": left}
        if hb is None or new == R:
            return new, hb
        all_secs = [float(r["seconds"]) for t in ranked for r in t.results if r.get("seconds")]
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

    def on_trial_result(self, trial, result: dict) -> str:
        if self.exploit is not None and trial.trial_id == self.exploit.trial_id:
            return CONTINUE
        owner = self._owner(trial)
        if owner is None:
            return STOP
        # a portfolio trial at the top rung pauses there: the tuner ends its job at its target
        return owner.on_trial_result(trial, result)

    def on_trial_complete(self, trial) -> None:
        if self.exploit is not None and trial.trial_id == self.exploit.trial_id:
            return
        owner = self._owner(trial)
        if owner is not None:
            owner.on_trial_complete(trial)

    def on_trial_error(self, trial) -> None:
        if self.exploit is not None and trial.trial_id == self.exploit.trial_id:
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
        if self.exploit is not None and trial.trial_id == self.exploit.trial_id:
            return not self._exploit_sent
        if self.phase == "done" or (trial.trial_id in self._portfolio_trials
                                    and trial.trial_id not in self._carried_ids):
            return False
        return self.inner.may_resume(trial)

    @property
    def portfolio_trial_ids(self) -> frozenset[int]:
        """Ids of the trials the portfolio phase started."""
        return frozenset(self._portfolio_trials)

    def on_trial_add(self, trial) -> None:
        raise ValueError("PortfolioHyperband starts from its portfolio; it takes no carried trials")

    def __repr__(self) -> str:
        return (f"PortfolioHyperband(mode={self.mode!r}, max_resource={self.max_resource}, "
                f"portfolio={len(self.plan.portfolio)}, hyperband={self.plan.hyperband is not None})")

