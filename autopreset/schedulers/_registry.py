"""Schedulers by name, and a way to add one (timm's registry is the model).

    sched = make_scheduler("asha", space=space, max_resource=27, random_state=0)
    sched = make_scheduler("hyperband", space=space, searcher="bayesopt", max_resource=27)
    register_scheduler("median_stopping", MedianStopping)     # then make_scheduler("median_stopping", ...)
    sorted(SCHEDULERS)                                        # every name, built-in and registered
"""
from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from autopreset.schedulers._asha import ASHA
from autopreset.schedulers._base import TrialScheduler
from autopreset.schedulers._curve_stopping import CurveStopping
from autopreset.schedulers._fifo import FIFO
from autopreset.schedulers._portfolio import PortfolioHyperband
from autopreset.schedulers._synchronous import Hyperband, SuccessiveHalving

__all__ = ["SCHEDULERS", "make_scheduler", "register_scheduler"]

_FACTORIES: dict[str, Callable[..., TrialScheduler]] = {
    "fifo": FIFO,
    "successive_halving": SuccessiveHalving,
    "hyperband": Hyperband,
    "asha": ASHA,
    "curve_stopping": CurveStopping,
    "portfolio_hyperband": PortfolioHyperband,
}
_BUILT_IN = frozenset(_FACTORIES)

#: name -> factory (a read-only view: registered schedulers appear in it).
SCHEDULERS = MappingProxyType(_FACTORIES)


def register_scheduler(name: str, factory: Callable[..., TrialScheduler], *, replace: bool = False) -> None:
    """Make ``make_scheduler(name, **kw)`` build ``factory(**kw)`` (a TrialScheduler subclass
    or any callable returning one). A name already registered is an error unless ``replace``;
    built-in names cannot be replaced."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"a scheduler name is an identifier such as 'median_stopping'; got {name!r}")
    if not callable(factory):
        raise ValueError(f"register_scheduler({name!r}, ...) needs a callable factory; got {factory!r}")
    if name in _BUILT_IN or (name in _FACTORIES and not replace):
        raise ValueError(f"scheduler {name!r} is already registered"
                         + ("" if name in _BUILT_IN else " (pass replace=True to replace it)"))
    _FACTORIES[name] = factory


def make_scheduler(name: str, **kwargs) -> TrialScheduler:
    """Build a scheduler by name (one of SCHEDULERS) with its keyword arguments.

    ``searcher`` may be a searcher's name (``make_searcher``'s): it is built over ``space``
    with the scheduler's ``mode`` and ``random_state``.
    """
    if name not in _FACTORIES:
        raise ValueError(f"unknown scheduler {name!r}; choose from {', '.join(sorted(_FACTORIES))}")
    if isinstance(kwargs.get("searcher"), str):
        from autopreset.searchers import make_searcher

        if kwargs.get("space") is None:
            raise ValueError(f"searcher={kwargs['searcher']!r} by name needs the space (space=...)")
        kwargs["searcher"] = make_searcher(kwargs["searcher"], kwargs["space"],
                                           mode=kwargs.get("mode", "min"),
                                           random_state=kwargs.get("random_state"))
    scheduler = _FACTORIES[name](**kwargs)
    if not isinstance(scheduler, TrialScheduler):
        raise ValueError(f"scheduler {name!r} built a {type(scheduler).__name__}, not a TrialScheduler")
    return scheduler
