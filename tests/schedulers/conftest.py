"""Every scheduler, built the same way, for the shared contract tests."""
import numpy as np
import pytest

from autopreset.schedulers import (ASHA, FIFO, CurveStopping, Hyperband, PortfolioHyperband, PortfolioPlan,
                                   SuccessiveHalving, plan_hyperband)
from autopreset.space import sample

R = 27


def _bohb(space, seed, R=R):
    try:
        from autopreset.searchers import BayesOptSearcher
    except ImportError:
        pytest.skip("BayesOptSearcher not available yet")
    searcher = BayesOptSearcher(space, mode="min", random_state=seed, n_candidates=64)
    return Hyperband(searcher=searcher, max_resource=R, random_state=seed)


def portfolio_plan(space, seed, R=R, n_workers=1) -> PortfolioPlan:
    """Nine sampled configs, successive halving 9@1 3@3, then Hyperband (ASHA with several
    workers). The plan's max_resource is 2/3 of R: re-planning at the switch extends it up to
    1.5x the plan's, which is R (the benchmark's last unit) since the plan's time is ample."""
    rng = np.random.default_rng(seed)
    configs = [sample(space, rng) for _ in range(9)]
    hb = plan_hyperband(600.0, cost_model=1.0, max_resource=2 * R // 3, n_workers=n_workers)
    return PortfolioPlan(portfolio=configs, portfolio_rungs=[(9, 1), (3, 3)], max_resource=2 * R // 3,
                         search_s=1000.0, n_workers=n_workers, hyperband=hb, hyperband_s=600.0)


def _portfolio(n_workers):
    def make(space, seed, R=R):
        return PortfolioHyperband(space=space, plan=portfolio_plan(space, seed, R, n_workers), mode="min",
                                  random_state=seed)
    return make


FACTORIES = {
    "fifo": lambda space, seed, R=R: FIFO(space=space, max_resource=R, random_state=seed),
    "sh": lambda space, seed, R=R: SuccessiveHalving(space=space, max_resource=R, n_configs=9, random_state=seed),
    "hyperband": lambda space, seed, R=R: Hyperband(space=space, max_resource=R, random_state=seed),
    "asha": lambda space, seed, R=R: ASHA(space=space, max_resource=R, random_state=seed),
    "asha_brackets": lambda space, seed, R=R: ASHA(space=space, max_resource=R, n_brackets=3, random_state=seed),
    "curve_stopping": lambda space, seed, R=R: CurveStopping(space=space, max_resource=R, random_state=seed),
    "bohb": _bohb,
    "portfolio_hyperband": _portfolio(1),
    "portfolio_asha": _portfolio(3),
}


@pytest.fixture(params=sorted(FACTORIES))
def make_scheduler(request):
    return FACTORIES[request.param]
