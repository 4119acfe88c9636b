"""``make demo``: write the bundled digits dataset, fit on it, predict held-out images.

Runs the real commands a user would type, and prints each before running it.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

BUDGET = os.environ.get("AUTOPRESET_DEMO_BUDGET", "90s")


def _run(*args: str, capture: bool = False) -> str:
    cmd = [sys.executable, "-m", "autopreset", *args]
    print("$ autopreset " + " ".join(shlex.quote(a) for a in args), flush=True)
    done = subprocess.run(cmd, check=True, text=True, stdout=subprocess.PIPE if capture else None)
    return done.stdout or ""


def main() -> None:
    root = Path("demo")
    data, run = root / "digits", root / "run"
    if not data.exists():
        _run("demo-data", "digits", str(data), "--test-fraction", "0.2")
    if run.exists():
        shutil.rmtree(run)  # the demo's own run folder from an earlier demo
    _run("fit", str(data / "train"), "--budget", BUDGET, "--prefer", "latency", "--out", str(run))
    test_images = sorted((data / "test").glob("*/*.png"))
    sample = [str(p) for p in test_images[:: max(1, len(test_images) // 8)][:8]]
    print(_run("predict", str(run / "model"), *sample, capture=True), end="")
    print(_run("evaluate", str(run / "model"), str(data / "test"), capture=True), end="")


if __name__ == "__main__":
    main()
