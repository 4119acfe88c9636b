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
@click.option("--misclassified", "misclassified_dir", type=click.Path(file_okay=False),
              help="Write DIR/misclassified.csv: every wrong prediction (path, true label, "
                   "predicted, confidence), most confident first.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
def evaluate_command(model_dir: str, data: str, fmt: str, misclassified_dir: str | None,
                     batch_size: int) -> None:
    """Score a saved model on labelled images DATA (one sub-folder per class, or fit's
    path,label CSV): accuracy, per-class precision, recall, F1 and support with macro and
    weighted averages, and the confusion matrix.

    --format json prints the same numbers and the misclassified files as JSON. Files the scan
    skipped are reported on stderr with their reason.
    """
    from autopreset.model import load

    result = load(model_dir).evaluate(data, batch_size=batch_size)
    for s in result["skipped"]:
        click.echo(f"skipped {s['path']}: {s['reason']}", err=True)
    if misclassified_dir is not None:
        path = _write_misclassified(misclassified_dir, result["misclassified"])
        click.echo(f"{len(result['misclassified'])} misclassified file(s) listed in {path}", err=True)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    click.echo(f"accuracy {result['accuracy']:.4f} on {result['n_images']} images\n")
    click.echo(_per_class_text(result))
    classes = result["classes"]
    width = max(5, *(len(c) for c in classes))
    click.echo("\nconfusion matrix (rows: true, columns: predicted)")
    click.echo(" " * (width + 1) + " ".join(f"{c:>{width}}" for c in classes))
    for name, row in zip(classes, result["confusion"]):
        click.echo(f"{name:>{width}} " + " ".join(f"{v:>{width}d}" for v in row))


def _per_class_text(result: dict) -> str:
    """The per-class table as scikit-learn's ``classification_report`` lays it out."""
    rows = [(r["class"], r) for r in result["per_class"]]
    width = max(len("weighted avg"), *(len(name) for name, _ in rows))
    lines = [f"{'':>{width}}  precision    recall  f1-score   support", ""]
    for name, r in rows:
        lines.append(f"{name:>{width}}  {r['precision']:9.4f} {r['recall']:9.4f} "
                     f"{r['f1']:9.4f} {r['support']:9d}")
    lines += ["", f"{'accuracy':>{width}}  {'':9} {'':9} {result['accuracy']:9.4f} "
                  f"{result['n_images']:9d}"]
    for key, label in (("macro_avg", "macro avg"), ("weighted_avg", "weighted avg")):
        a = result[key]
        lines.append(f"{label:>{width}}  {a['precision']:9.4f} {a['recall']:9.4f} "
                     f"{a['f1']:9.4f} {a['support']:9d}")
    if len(result["averaged_over"]) < len(result["classes"]):
        lines.append(f"(averages over the {len(result['averaged_over'])} classes present in the data)")
    return "\n".join(lines)


def _write_misclassified(folder: str, rows: list[dict]):
    """``folder/misclassified.csv`` (written atomically): ``path,label,predicted,confidence,
    label_probability``, label being the true class. The first two columns are the CSV fit and
    predict read, so ``autopreset predict MODEL folder/misclassified.csv --top-k 3`` shows the
    runners-up of exactly these files; no image is copied."""
    import csv
    import io
    from pathlib import Path

    from autopreset._atomic import write_bytes_atomic

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["path", "label", "predicted", "confidence", "label_probability"])
    for r in rows:
        writer.writerow([str(Path(r["path"]).resolve()), r["label"], r["predicted"],
                         f"{r['confidence']:.6f}", f"{r['label_probability']:.6f}"])
    path = Path(folder) / "misclassified.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, buf.getvalue().encode("utf-8"))
    return path


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
