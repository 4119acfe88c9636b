"""The fit plan: from the cost model and the time left, the phases of the search.

Resource is epochs; every trial follows one learning-rate schedule over ``max_resource`` (R)
epochs, so a trial paused in the portfolio phase continues in Hyperband on the same schedule.

- R: about a third of the epochs the search can afford (total epochs = search seconds x
  workers / median epoch cost of the configs the portfolio phase runs), capped by the
  preset's max_resource. The final model gets R
  epochs; the rest buys exploration. (A fixed good config trained long is a strong baseline at
  small budgets, so the plan never trades the final model's training away for breadth.)
- Portfolio phase: successive halving (Jamieson & Talwalkar 2016) over the preset's allowed
  portfolio configs, in preset order, as many as fit ``PORTFOLIO_SHARE`` of the search, from
  r0 = max(1, R // eta^3) epochs to r0 * eta; survivors stay paused with their checkpoints.
- Hyperband phase: budget-aware brackets (``plan_hyperband``) over the space narrowed around
  the survivors, with the survivors carried in; the time to continue the best survivor to R is
  set aside first. When too little is left for a bracket of several configs, the survivors are
  simply continued to R (exploitation), R then chosen for portfolio breadth (up to 5 configs)
  first and the longest schedule second; with a single config, it gets every epoch.
- Reserve: seconds kept for finishing (best checkpoint, model folder, leaderboard, report).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from autopreset.errors import InputError

__all__ = ["FitPlan", "make_plan", "PORTFOLIO_SHARE"]

PORTFOLIO_SHARE = 0.35
SPEED_MARGIN = 1.25   # measured speed is of bare steps; real epochs add augmentation and jitter


@dataclass(frozen=True)
class FitPlan:
    budget_s: float
    search_s: float
    reserve_s: float
    n_workers: int
    max_resource: int
    eta: int
    portfolio: list[dict]
    portfolio_rungs: list[list[int]]           # [[n, resource], ...] of the portfolio SH
    portfolio_s: float
    hyperband: dict | None                     # HyperbandPlan.to_json() or None (exploit only)
    hyperband_s: float
    epoch_s: dict[str, float] = field(default_factory=dict)   # per portfolio config, by index
    notes: list[str] = field(default_factory=list)
    refit_s: float = 0.0                       # seconds kept to refit on train+validation
    crop_scale: float = 0.25                   # random-crop strength for this schedule length
    job_s: float = 1.0                         # seconds to start or resume a trial
    flip: bool = True                          # horizontal flips (off where orientation matters)
    crop_in_configs: bool = False              # the preset's configs set crop_scale themselves
    weights: dict[str, str] = field(default_factory=dict)   # backbone -> weights file (--weights)
    weights_from: str | None = None            # --weights: the folder, or "hub"
    fidelity: str = ""                         # the first rung's cheaper epochs (._fidelity)
    first_rung_cost: float = 1.0               # ... their cost, a share of a full epoch's

    @property
    def constants(self) -> dict:
        """Trainer settings fixed for the whole run (added to the space as constants)."""
        out = {"crop_scale": self.crop_scale, "augment": "crop_flip" if self.flip else "crop"}
        if self.fidelity:
            out["fidelity"] = self.fidelity
        return out

    @property
    def min_resource(self) -> int:
        return int(self.portfolio_rungs[0][1])

    @property
    def portfolio_top(self) -> int:
        return int(self.portfolio_rungs[-1][1])

    def hyperband_plan(self):
        """The HyperbandPlan object (rebuilt from JSON), or None."""
        from autopreset.schedulers import HyperbandPlan

        return None if self.hyperband is None else HyperbandPlan.from_json(self.hyperband)

    def schedule(self) -> "PortfolioPlan":  # noqa: F821 (autopreset.schedulers.PortfolioPlan)
        """What the search's scheduler follows:
        ``PortfolioHyperband(space=..., plan=fit_plan.schedule(), ...)``."""
        from autopreset.schedulers import PortfolioPlan

        return PortfolioPlan(portfolio=self.portfolio, portfolio_rungs=self.portfolio_rungs,
                             max_resource=self.max_resource, search_s=self.search_s, eta=self.eta,
                             n_workers=self.n_workers, job_s=self.job_s,
                             hyperband_s=self.hyperband_s, hyperband=self.hyperband_plan(),
                             constants=self.constants,
                             first_rung_cost=self.first_rung_cost if self.fidelity else 1.0)

    def describe(self) -> str:
        rungs = "  ".join(f"{n}@{r}" for n, r in self.portfolio_rungs)
        crops = ("random crops as each config sets them (crop_scale)" if self.crop_in_configs
                 else f"random crops >= {self.crop_scale:.0%} of the image")
        lines = [f"plan: {self.budget_s:.0f}s budget = {self.search_s:.0f}s search "
                 f"+ {self.reserve_s:.0f}s to finish (rest: setup), {self.n_workers} worker(s), "
                 f"R={self.max_resource} epochs, eta={self.eta}, {crops}"
                 f"{'' if self.flip else ', no flips'}",
                 self.describe_weights(),
                 f"  1. portfolio: {len(self.portfolio)} config(s), successive halving {rungs} "
                 f"(configs@epochs), ~{self.portfolio_s:.0f}s"]
        for i, c in enumerate(self.portfolio):
            start = "fine-tune" if c["backbone"] in self.weights else "random init"
            lines.append(f"       {c['backbone']:<24} lr={c.get('lr'):g} bs={c.get('batch_size')} "
                         f"{c.get('optimizer', 'sgd')}{_recipe(c) if start == 'fine-tune' else ''}"
                         f"  {start}  ~{self.epoch_s.get(str(i), 0):.1f}s/epoch")
        if self.hyperband is None:
            lines.append(f"  2. continue the portfolio survivors to {self.max_resource} epochs, "
                         f"~{self.hyperband_s:.0f}s (too little time for Hyperband brackets)")
        else:
            hb = self.hyperband_plan()
            lines.append(f"  2. Hyperband over the narrowed space, survivors carried in, "
                         f"~{self.hyperband_s:.0f}s:")
            lines += ["     " + line for line in hb.describe().splitlines()]
        if self.refit_s > 0:
            lines.append(f"  3. refit the best config on train+validation for {self.max_resource} "
                         f"epochs, ~{self.refit_s:.0f}s")
        else:
            lines.append("  3. no refit on train+validation (it does not fit the budget "
                         "beside the search)")
        lines.append(f"  4. finish: best checkpoint, model, leaderboard, report, preset card "
                     f"({self.reserve_s:.0f}s reserved)")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def describe_weights(self) -> str:
        """Which backbones start from weights, and how many portfolio configs fine-tune."""
        if not self.weights:
            return ("  weights: none (--weights DIR fine-tunes <backbone>.safetensors): every "
                    "backbone starts from random init")
        n = sum(c["backbone"] in self.weights for c in self.portfolio)
        files = ", ".join(f"{b} from {f}" for b, f in self.weights.items())
        rest = ("; every other backbone starts from random init" if n == len(self.portfolio)
                else "; the other configs, and every other backbone, start from random init")
        return (f"  weights: {n} of {len(self.portfolio)} portfolio configs fine-tune from "
                f"weights ({files}){rest}")

    def to_json(self) -> dict:
        from dataclasses import asdict

        return asdict(self)

    @classmethod
    def from_json(cls, obj: dict) -> "FitPlan":
        return cls(**obj)


def _recipe(config: dict) -> str:
    """The fine-tuning keys of a config, for the plan ('' when it sets none)."""
    labels = {"backbone_lr_scale": "backbone lr x{:g}", "warmup_epochs": "warm-up {:g}",
              "lp_epochs": "probe {:g}"}
    parts = [text.format(config[k]) for k, text in labels.items() if config.get(k) is not None]
    return f" ({', '.join(parts)})" if parts else ""


REFIT_MIN_BUDGET_S = 1800.0
REFIT_MAX_SHARE = 0.2


def make_plan(*, budget_s: float, left_s: float, reserve_s: float, cost, portfolio: list[dict],
              n_workers: int = 1, eta: int = 3, max_resource_cap: int = 27,
              share: float = PORTFOLIO_SHARE, random_state=0, refit: bool = True,
              crop_in_configs: bool = False, first_rung_cost: float = 1.0) -> FitPlan:
    """Plan the search phases in ``left_s - reserve_s`` seconds with ``cost`` (a CostModel).

    A refit of the best config on train+validation (R epochs of the slowest portfolio config
    on the larger set) is planned only for budgets of ``REFIT_MIN_BUDGET_S`` or more, where
    it costs at most ``REFIT_MAX_SHARE`` of the search: below that, the search itself buys
    more than 25% more training data does.

    ``first_rung_cost`` < 1: the epochs below the portfolio's first rung cost that share of a
    full epoch (a lower fidelity there: :mod:`._fidelity`), in the portfolio's successive
    halving; the Hyperband brackets are planned at full cost (the switch re-plans them from
    measured seconds).
    """
    import dataclasses

    kw = dict(budget_s=budget_s, reserve_s=reserve_s, cost=cost, portfolio=portfolio,
              n_workers=n_workers, eta=eta, max_resource_cap=max_resource_cap, share=share,
              random_state=random_state, first=float(first_rung_cost))
    plan = _make_plan(left_s=left_s, **kw)
    plan = dataclasses.replace(plan, crop_scale=crop_scale_for(plan.max_resource),
                               crop_in_configs=bool(crop_in_configs))
    if not refit or budget_s < REFIT_MIN_BUDGET_S:
        return plan
    grow = (cost.n_train + cost.n_val) / max(1, cost.n_train)
    need = 1.1 * (max(plan.epoch_s.values()) * plan.max_resource * grow + cost.job_overhead_s)
    if need > REFIT_MAX_SHARE * plan.search_s:
        return plan
    again = _make_plan(left_s=left_s - need, **kw)
    return dataclasses.replace(again, refit_s=float(need), crop_scale=crop_scale_for(again.max_resource),
                               crop_in_configs=bool(crop_in_configs))


def crop_scale_for(epochs: int) -> float:
    """The smallest random-crop area for a schedule of ``epochs``: strong augmentation pays off
    over long schedules and slows short ones down (weaker augmentation for shorter training, as
    in timm's A1-A3 recipes, Wightman et al. 2021), so short schedules crop mildly."""
    if epochs >= 20:
        return 0.25
    if epochs >= 8:
        return 0.4
    return 0.6


class _Layouts:
    """Candidate layouts of the search for a schedule length R: the portfolio's successive
    halving over the first n configs, and Hyperband brackets (or continuation) in the rest."""

    def __init__(self, *, epoch, job, search_s, n_workers, eta, share, random_state, first=1.0):
        self.epoch, self.job, self.search_s, self.first = epoch, job, search_s, first
        self.n_workers, self.eta, self.share, self.seed = n_workers, eta, share, random_state

    def sh_cost(self, n: int, r0: int, upto: int, cheap: bool = False):
        """(wall-clock seconds, bracket) of successive halving over the first n configs
        (``cheap``: its first rung's epochs at ``first`` of a full epoch's cost)."""
        from autopreset.schedulers import sh_bracket

        epoch = self.epoch
        br = sh_bracket(n, r0, upto, self.eta)
        m = float(np.median(epoch[:n]))           # survivors unknown: the median of the n
        first = self.first if cheap else 1.0
        work = sum(epoch[:n]) * r0 * first + sum(k * (r - prev) * m for (k, r), (_, prev)
                                                 in zip(br.rungs[1:], br.rungs[:-1]))
        return (work + sum(k for k, _ in br.rungs) * self.job) / self.n_workers, br

    def layout(self, R: int, n_max: int | None = None) -> dict:
        """The layout for schedule length R: as many portfolio configs (up to ``n_max``) as fit
        the portfolio's share of the search."""
        r0 = max(1, R // self.eta ** 3)
        top = min(R, r0 * self.eta)
        cheap = self.first < 1.0 and r0 < R
        if cheap and R < self.eta ** 2:
            top = r0            # a short schedule: the portfolio ranks on its cheap first rung
        n, n_max = 1, min(len(self.epoch), n_max or len(self.epoch))
        while n < n_max and self.sh_cost(n + 1, r0, top, cheap)[0] <= self.share * self.search_s:
            n += 1
        if n == 1:
            return {"n": 1, "fits": False, "hb": None}
        cost_p, br = self.sh_cost(n, r0, top if top < R else R, cheap)
        out = {"n": n, "R": R, "rungs": [list(r) for r in br.rungs], "portfolio_s": cost_p,
               "hb": None, "hb_s": max(0.0, self.search_s - cost_p)}
        if top >= R:
            out["fits"] = cost_p <= self.search_s
            return out
        # the slowest survivor continued to R (the others continue too when time allows)
        one = max(self.epoch[:n]) * (R - top) + self.job
        out["hb"] = self._brackets(self.search_s - cost_p - one, n, R, r0)
        out["fits"] = out["hb"] is not None or cost_p + one <= self.search_s
        return out

    def _brackets(self, seconds: float, n: int, R: int, r0: int) -> dict | None:
        from autopreset.schedulers import plan_hyperband

        if seconds <= 0:
            return None
        hb = plan_hyperband(seconds, cost_model=list(self.epoch[:n]), max_resource=R,
                            eta=self.eta, n_workers=self.n_workers, min_resource=r0,
                            overhead_s=self.job, safety=1.0, random_state=self.seed)
        return hb.to_json() if hb.n_configs >= self.eta and hb.max_resource == R else None

    def first_guess(self, cap: int) -> dict:
        """R0 = a third of the epochs the search affords at the median epoch of the configs the
        portfolio phase runs (not of every allowed one: a long portfolio's slow tail, which a
        short budget never reaches, would shorten the schedule); that set depends on R0, so
        iterate to a fixed point."""
        n_med = len(self.epoch)
        for _ in range(5):
            total_epochs = self.search_s * self.n_workers / float(np.median(self.epoch[:n_med]))
            chosen = self.layout(int(np.clip(math.floor(total_epochs / 3), 1, cap)))
            if chosen["n"] in (1, n_med):
                break
            n_med = chosen["n"]
        return chosen

    def without_brackets(self, cap: int) -> dict:
        """No room for brackets: the largest R whose portfolio plus continuation fills the
        search, preferring breadth (up to 5 portfolio configs), then the longest schedule. (A
        portfolio so broad that R falls below half of what one config would get starves the
        final model: those layouts are not considered.)"""
        single_R = (self.search_s - self.job) / self.epoch[0]
        fitting = [lay for R in range(cap, 0, -1)
                   if (lay := self._fitting(R))["fits"] and lay["R"] >= 0.5 * min(single_R, cap)]
        return max(fitting, key=lambda lay: (min(lay["n"], 5), lay["R"]), default={"n": 1})

    def _fitting(self, R: int) -> dict:
        """The broadest layout for R whose portfolio plus continuation fits the search: the
        portfolio's share alone admits configs whose continuation then does not fit, and
        dropping R for them made a plan with a few more seconds train a shorter schedule."""
        lay = self.layout(R)
        while not lay["fits"] and lay["n"] > 2:
            lay = self.layout(R, n_max=lay["n"] - 1)
        return lay

    def single(self, cap: int) -> dict:
        """One config: it gets every epoch the search affords."""
        e = self.epoch[0]
        R = int(np.clip(math.floor((self.search_s - self.job) / e), 1, 4 * cap))
        return {"n": 1, "R": R, "rungs": [[1, R]], "hb": None, "hb_s": 0.0,
                "portfolio_s": min(self.search_s, e * R + self.job)}


def _make_plan(*, budget_s, left_s, reserve_s, cost, portfolio, n_workers, eta, max_resource_cap,
               share, random_state, first=1.0) -> FitPlan:
    if not portfolio:
        raise InputError("the portfolio has no config that meets the preference")
    search_s = left_s - reserve_s
    notes: list[str] = []
    epoch = [SPEED_MARGIN * cost.epoch_seconds(c) for c in portfolio]
    job = cost.job_overhead_s
    if search_s <= 1.0:
        raise InputError(f"budget too small: {budget_s:.0f}s leaves no time to train after "
                         f"setup and the {reserve_s:.0f}s needed to finish")
    if search_s <= min(epoch) + job:          # one epoch of the cheapest config, if anything
        cheapest = int(np.argmin(epoch))
        portfolio = [portfolio[cheapest]] + portfolio[:cheapest] + portfolio[cheapest + 1:]
        epoch = [epoch[cheapest]] + epoch[:cheapest] + epoch[cheapest + 1:]
        notes.append(f"budget too small for a full epoch (~{epoch[0] + job:.0f}s needed, "
                     f"{search_s:.0f}s left): one epoch of the cheapest config")
    lay = _Layouts(epoch=epoch, job=job, search_s=search_s, n_workers=n_workers, eta=eta,
                   share=share, random_state=random_state, first=first)
    chosen = lay.first_guess(max_resource_cap)
    if chosen.get("hb") is None:
        chosen = lay.without_brackets(max_resource_cap)
        if chosen["n"] > 1 and chosen["rungs"][-1][1] < chosen["R"]:
            notes.append("too little time for Hyperband brackets of several configs: the "
                         "portfolio survivors are continued instead")
    if chosen["n"] == 1:
        chosen = lay.single(max_resource_cap)
        notes.append("one portfolio config, trained for all the epochs the budget allows")
    n, R = chosen["n"], chosen["R"]
    if n < len(portfolio):
        notes.append(f"portfolio: the first {n} of {len(portfolio)} allowed configs fit "
                     f"{share:.0%} of the search")
    return FitPlan(budget_s=float(budget_s), search_s=float(search_s), reserve_s=float(reserve_s),
                   n_workers=int(n_workers), max_resource=R, eta=int(eta),
                   portfolio=[dict(c) for c in portfolio[:n]], portfolio_rungs=chosen["rungs"],
                   portfolio_s=float(chosen["portfolio_s"]), hyperband=chosen["hb"],
                   hyperband_s=float(chosen["hb_s"]),
                   epoch_s={str(i): float(e) for i, e in enumerate(epoch[:n])}, notes=notes,
                   job_s=float(job))
