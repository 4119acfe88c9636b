"""``autopreset fit``: the whole pipeline on a folder of images, within a wall-clock budget."""
from __future__ import annotations

import os
import shlex
import time
from pathlib import Path

import click

from autopreset.cli._lazy import InterruptedExit
from autopreset.cli._types import DURATION
from autopreset.errors import Interrupted

RUN_FILE = "run.json"   # what makes a folder a run that ``--resume`` continues


@click.command("fit")
@click.argument("data", type=click.Path())
@click.option("--budget", type=DURATION, default=None,
              help="Wall-clock budget for the whole command: 90s, 10m, 4h, 1h30m (default 10m). "
                   "With --resume: the run's new total budget, the time it has spent still "
                   "counted (default: the run's own).")
@click.option("--prefer", type=click.Choice(["latency", "balanced", "accuracy"]), default="balanced",
              show_default=True,
              help="WHICH LATENCY the model may have: among the preset's backbones, measured on "
                   "this machine, keep the fastest third (latency), two thirds (balanced) or all "
                   "(accuracy).")
@click.option("--max-latency-ms", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Explicit bound on the model's batch-1 latency, in milliseconds.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run folder (default: runs/<timestamp>; runs/latest points to it). "
                   "One fit at a time per folder: another one is refused at once.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--preset", default="default", show_default=True,
              help="WHICH CONFIGS to start from: the search space and the ordered portfolio, a "
                   "shipped preset name (default, latency, accuracy: autopreset presets list) or "
                   "a preset JSON file (a colleague's card, or one `autopreset zoo portfolio` "
                   "built).")
@click.option("--plan", "plan_only", is_flag=True,
              help="Print the measured plan and stop (with --resume: the run's plan).")
@click.option("--resume", is_flag=True,
              help="Continue a killed or interrupted run from the journal in --out, with its "
                   "preference, seed and resolution.")
@click.option("--on-data-change", type=click.Choice(["refuse", "restart"]), default="refuse",
              show_default=True,
              help="--resume on data that changed since the run started (files added, removed "
                   "or edited): refuse, saying what changed, or restart the search afresh in "
                   "that folder, discarding the old run.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Run trials in this many local processes.")
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS",
              help="Run trials on a Dask cluster (scheduler address).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--latency-device", type=click.Choice(["cpu", "cuda"]), default=None,
              help="Device the model will serve on, where latency is measured (default: cpu).")
@click.option("--resolution", type=click.IntRange(8, 4096), default=None, metavar="PX",
              help="Input size in pixels (default: chosen from the images and the budget: the "
                   "largest of 32..256 within the images' median shorter side at which the "
                   "search still affords a Hyperband bracket; the plan says why).")
@click.option("--fidelity", type=click.Choice(["auto", "full"]), default="auto",
              show_default=True,
              help="auto: where full epochs are too expensive to rank configs, the first rung "
                   "trains on a stratified subset of the images (large folders) or at a "
                   "smaller size, and where even so no Hyperband pass fits, every epoch but "
                   "a schedule's last few trains smaller (the plan says why); full: every "
                   "epoch on every image at full size.")
@click.option("--keep-checkpoints", is_flag=True,
              help="Keep every trial's weights in the run folder (default: only the model's).")
@click.option("--weights", default=None, metavar="DIR|hub",
              help="Fine-tune the backbones DIR holds weights for: <backbone>.safetensors files "
                   "(the catalog/timm name, or a timm tag such as resnet18.a1_in1k), or a Hugging "
                   "Face cache (models--timm--<name>/), or a model folder fit saved; 'hub': "
                   "timm's weights from the Hugging "
                   "Face cache or a download. The plan says which start pretrained. Default: "
                   "every backbone starts from random init.")
@click.option("--tensorboard", "tensorboard_dir", type=click.Path(file_okay=False), default=None,
              metavar="DIR",
              help="Write each trial's curves (validation accuracy and loss, training loss per "
                   "epoch) for TensorBoard under DIR, one run per trial (tensorboard --logdir "
                   "DIR). Needs the tensorboard package.")
def fit_command(data, budget, prefer, max_latency_ms, out, seed, preset, plan_only, resume,
                on_data_change, workers, dask_address, device, latency_device, resolution,
                fidelity, keep_checkpoints, weights, tensorboard_dir) -> None:
    """Train the best image classifier that BUDGET buys on DATA (one sub-folder per class).

    \b
      autopreset fit data/ --budget 4h --prefer latency
      autopreset fit data/ --budget 10m --plan          # print the plan only
      autopreset fit data/ --out runs/r1 --resume       # continue a killed run
      autopreset fit data/ --out runs/r1 --resume --budget 30m   # ... with 30m in all
      autopreset fit data/ --weights weights/           # fine-tune weights/<backbone>.safetensors

    Ctrl-C or SIGTERM stops at the next safe point, records it in the run's journal and
    prints the command that continues the run (exit status 130, or 143 for SIGTERM).
    """
    from autopreset.cli._logging import current_settings
    from autopreset.pipeline import fit

    quiet = current_settings().quiet     # -q/--quiet (every command has it): no display
    started = time.time()
    try:
        result = fit(
            data, budget=budget, prefer=prefer, max_latency_ms=max_latency_ms, out=out, seed=seed,
            preset=preset, plan_only=plan_only, resume=resume, workers=workers, dask=dask_address,
            device=device, latency_device=latency_device, progress=not quiet,
            keep_checkpoints=keep_checkpoints, on_data_change=on_data_change,
            resolution=resolution, tensorboard_dir=tensorboard_dir, weights=weights,
            fidelity=fidelity,
        )
    except Interrupted as exc:
        raise _exit(exc) from None
    except KeyboardInterrupt as exc:      # (before or after the pipeline's own handling)
        raise _exit(interrupted(data, out, resume=resume, since=started,
                                signal_name=getattr(exc, "signal_name", None))) from None
    if plan_only:
        return
    click.echo(f"model saved to {result.model_dir}")


def _exit(exc: Interrupted) -> InterruptedExit:
    """The message alone, with exit status 128 + the signal (130 Ctrl-C, 143 SIGTERM)."""
    out = InterruptedExit(" ".join(str(exc).split()))
    out.exit_code = exc.exit_status
    return out


def interrupted(data: str, out: str | None, *, resume: bool, since: float,
                signal_name: str | None = None) -> Interrupted:
    """The exit line for a Ctrl-C that ended ``fit``: how to continue, when a run folder exists.

    With ``--out`` that folder; without, the ``runs/latest`` this command made (or resumed).
    """
    folder = Path(out) if out is not None else _latest_run(since, resume)
    if folder is None or not (folder / RUN_FILE).is_file():
        by = f" by {signal_name}" if signal_name not in (None, "SIGINT") else ""
        return Interrupted(f"interrupted{by} before the run started: nothing to resume",
                           signal_name=signal_name)
    hint = f"autopreset fit {shlex.quote(str(data))} --out {shlex.quote(str(folder))} --resume"
    return Interrupted(run_dir=folder, resume_hint=hint, signal_name=signal_name)


def _latest_run(since: float, resume: bool) -> Path | None:
    latest = Path("runs") / "latest"
    if not latest.exists():
        return None
    folder = latest.resolve()
    try:   # a run.json older than this command belongs to another (finished) run, unless resumed
        fresh = resume or (folder / RUN_FILE).stat().st_mtime >= since - 1.0
    except OSError:
        return None
    return Path(os.path.relpath(folder)) if fresh else None
