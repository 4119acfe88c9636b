"""Run ``autopreset.fit`` from a subprocess (the kill-and-resume test): argv is a JSON of kwargs."""
import json
import sys

if __name__ == "__main__":
    import autopreset

    from autopreset.pipeline import Budget

    kwargs = json.loads(sys.argv[1])
    if isinstance(kwargs.get("budget"), dict):          # {"seconds": 60, "counts_setup": false}
        kwargs["budget"] = Budget(**kwargs["budget"])
    predictor = autopreset.fit(kwargs.pop("data"), **kwargs)
    print(json.dumps({"model_dir": str(predictor.model_dir)}))
