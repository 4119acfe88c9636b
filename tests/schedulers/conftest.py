"""Every scheduler, built the same way, for the shared contract tests."""
import pytest

from autopreset.schedulers import ASHA, FIFO, CurveStopping, Hyperband, SuccessiveHalving

R = 27


def _bohb(space, seed, R=R):
    try:
        from autopreset.searchers import BayesOptSearcher
    except ImportError:
        pytest.skip("BayesOptSearcher not available yet")
    searcher = BayesOptSearcher(space, mode="min", random_state=seed, n_candidates=64)
    return Hyperband(searcher=searcher, max_resource=R, random_state=seed)


FACTORIES = {
    "fifo": lambda space, seed, R=R: FIFO(space=space, max_resource=R, random_state=seed),
    "sh": lambda space, seed, R=R: SuccessiveHalving(space=space, max_resource=R, n_configs=9, random_state=seed),
    "hyperband": lambda space, seed, R=R: Hyperband(space=space, max_resource=R, random_state=seed),
    "asha": lambda space, seed, R=R: ASHA(space=space, max_resource=R, random_state=seed),
    "asha_brackets": lambda space, seed, R=R: ASHA(space=space, max_resource=R, n_brackets=3, random_state=seed),
    "curve_stopping": lambda space, seed, R=R: CurveStopping(space=space, max_resource=R, random_state=seed),
    "bohb": _bohb,
}


@pytest.fixture(params=sorted(FACTORIES))
def make_scheduler(request):
    return FACTORIES[request.param]
