"""Run ``autopreset.fit`` in a subprocess for the fault-injection test: argv is a JSON of kwargs.
The refit threshold is lowered so a tiny budget plans a refit (its fault point is reached)."""
import json
import sys

if __name__ == "__main__":
    import autopreset
    from autopreset.pipeline import Budget, _plan

    _plan.REFIT_MIN_BUDGET_S = 0.0
    kwargs = json.loads(sys.argv[1])
    kwargs["budget"] = Budget(**kwargs["budget"])
    predictor = autopreset.fit(kwargs.pop("data"), **kwargs)
    print(json.dumps({"model_dir": str(predictor.model_dir)}))
