"""Bayesian optimization: GP or random-forest surrogates, EI or confidence-bound acquisition."""
from autopreset.searchers.bayesopt._acquisition import expected_improvement, lower_confidence_bound
from autopreset.searchers.bayesopt._searcher import BayesOptSearcher
from autopreset.searchers.bayesopt._surrogates import ForestSurrogate, GPSurrogate

__all__ = ["BayesOptSearcher", "GPSurrogate", "ForestSurrogate", "expected_improvement", "lower_confidence_bound"]
