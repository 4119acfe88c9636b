"""``autopreset predict`` and ``autopreset evaluate``: reuse a saved model."""
from __future__ import annotations

import json

import click

from autopreset.errors import RunError


@click.command("predict")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--top-k", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many labels to print per image, most probable first.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
def predict_command(model_dir: str, paths: tuple[str, ...], top_k: int, fmt: str, batch_size: int) -> None:
    """Predict the class of each image in PATHS (files, folders searched recursively, or a CSV
    of path[,label] rows as fit reads it).

    Prints CSV (path,label,probability; one row per label with --top-k) or JSON to stdout.
    Files that are not readable images are reported on stderr and skipped; when none is
    readable the command fails (exit status 1).
    """
    from autopreset.model import load

    predictor = load(model_dir)
    rows, skipped = predictor.predict_paths(list(paths), top_k=top_k, batch_size=batch_size)
    if not rows:
        raise RunError(_nothing_readable(paths, skipped))
    for path, reason in skipped:
        click.echo(f"skipped {path}: {reason}", err=True)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    click.echo("path,label,probability")
    for row in rows:
        for label, prob in zip(row["labels"], row["probabilities"]):
            click.echo(f"{_csv(row['path'])},{_csv(label)},{prob:.6f}")


@click.command("evaluate")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("data", type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def evaluate_command(model_dir: str, data: str, fmt: str) -> None:
    """Accuracy and confusion matrix of a saved model on a labelled folder (one sub-folder per class)."""
    from autopreset.model import load

    result = load(model_dir).evaluate(data)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    click.echo(f"accuracy {result['accuracy']:.4f} on {result['n_images']} images")
    classes = result["classes"]
    width = max(5, *(len(c) for c in classes))
    click.echo("confusion matrix (rows: true, columns: predicted)")
    click.echo(" " * (width + 1) + " ".join(f"{c:>{width}}" for c in classes))
    for name, row in zip(classes, result["confusion"]):
        click.echo(f"{name:>{width}} " + " ".join(f"{v:>{width}d}" for v in row))


def _nothing_readable(paths: tuple[str, ...], skipped: list[tuple[str, str]]) -> str:
    if not skipped:   # only folders, holding no file with an image suffix
        return (f"no image file in the {len(paths)} path(s) given: {paths[0]} "
                "(folders are searched for .png, .jpg, .jpeg, .bmp, .gif, .tif, .webp, ...)")
    first, reason = skipped[0]
    return f"none of the {len(skipped)} path(s) is a readable image: {first} ({reason})"


def _csv(text: str) -> str:
    if any(ch in text for ch in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text
