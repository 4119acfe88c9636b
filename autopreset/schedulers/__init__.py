"""Schedulers: decide, per reported result, whether a trial continues, pauses or stops, and
propose what runs next (a new config from the searcher, or a paused trial to resume).

    from autopreset.schedulers import FIFO, SuccessiveHalving, Hyperband, ASHA, CurveStopping
    hb = Hyperband(space=space, max_resource=81, eta=3, random_state=0)
    plan = plan_hyperband(3600, cost_model=20.0, max_resource=27, n_workers=2)
    print(plan.describe())

``make_scheduler(name, **kw)`` builds one by name (``SCHEDULERS``); ``register_scheduler`` adds
one. ``PortfolioHyperband`` runs a portfolio of known-good configs by successive halving, narrows
the space around the survivors, then runs Hyperband/ASHA there, as a ``PortfolioPlan`` says.
"""
from autopreset.schedulers._asha import ASHA
from autopreset.schedulers._base import (
    CONTINUE, PAUSE, STOP, Suggestion, Trial, TrialScheduler)
from autopreset.schedulers._brackets import Bracket, hyperband_brackets, sh_bracket
from autopreset.schedulers._curve_stopping import CurveStopping
from autopreset.schedulers._fifo import FIFO
from autopreset.schedulers._plan import HyperbandPlan, plan_hyperband
from autopreset.schedulers._portfolio import PortfolioHyperband, PortfolioPlan
from autopreset.schedulers._registry import SCHEDULERS, make_scheduler, register_scheduler
from autopreset.schedulers._synchronous import Hyperband, SuccessiveHalving

__all__ = [
    "FIFO", "SuccessiveHalving", "Hyperband", "ASHA", "CurveStopping", "PortfolioHyperband", "PortfolioPlan",
    "TrialScheduler", "Trial", "Suggestion", "CONTINUE", "PAUSE", "STOP",
    "Bracket", "hyperband_brackets", "sh_bracket", "HyperbandPlan", "plan_hyperband",
    "SCHEDULERS", "make_scheduler", "register_scheduler",
]
