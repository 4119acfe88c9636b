"""The product: ``autopreset.fit`` as a run of visible steps over typed state.

    from autopreset.pipeline import Budget, FitOptions, FitRun
    run = FitRun(FitOptions(data="photos/", prefer="latency"), Budget("10m"))
    predictor = run.run()            # setup, plan, search, refit, finish

- :class:`Budget`: the one owner of the wall-clock budget ("how much time is left for X");
- :class:`FitOptions`: the user's arguments, checked once;
- :class:`RunState`: what the run decided before its search (``run.json``; ``--resume``);
- :class:`FitPlan` / :func:`make_plan`: the phases, from a :class:`CostModel` and the time left;
- :class:`Preference` / :func:`choose_backbones`: which backbones the preference allows;
- :func:`pick_best` / :class:`WeightPruner`: the final pick, and early deletion of weights;
- :func:`run_diagnostics`: the chosen model on the validation split, and the data, for the report;
- :func:`with_finetuning`: with ``--weights``, the fine-tuning recipes first for the backbones
  that start from weights.
"""
from ._budget import Budget, finish_reserve
from ._cost import CostModel
from ._data import MirrorCheck, Prepared, mirror_check, prepare_data
from ._diagnose import run_diagnostics
from ._fit import fit
from ._objective import BudgetedObjective
from ._options import PREFERENCES, FitOptions
from ._pick import WeightPruner, pick_best
from ._plan import SPEED_MARGIN, FitPlan, make_plan
from ._preference import Preference, choose_backbones
from ._progress import Progress
from ._run import FitRun
from ._state import RunState
from ._weights import prepare_weights, with_finetuning

__all__ = ["fit", "FitRun", "FitOptions", "Budget", "RunState", "FitPlan", "make_plan",
           "CostModel", "Preference", "choose_backbones", "pick_best", "WeightPruner",
           "Progress", "Prepared", "prepare_data", "MirrorCheck", "mirror_check",
           "finish_reserve", "BudgetedObjective", "PREFERENCES", "SPEED_MARGIN", "run_diagnostics",
           "with_finetuning", "prepare_weights"]
