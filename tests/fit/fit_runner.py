"""Run ``autopreset.fit`` from a subprocess (the kill-and-resume test): argv is a JSON of kwargs."""
import json
import sys

if __name__ == "__main__":
    import autopreset

    kwargs = json.loads(sys.argv[1])
    predictor = autopreset.fit(kwargs.pop("data"), **kwargs)
    print(json.dumps({"model_dir": str(predictor.model_dir)}))
