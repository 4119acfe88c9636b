"""``autopreset export``: a saved model as ONNX or TorchScript, checked against PyTorch."""
from __future__ import annotations

import click


@click.command("export")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["onnx", "torchscript"]), default="onnx", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Output file (default: MODEL_DIR/model.onnx or MODEL_DIR/model.torchscript.pt).")
def export_command(model_dir: str, fmt: str, output: str | None) -> None:
    """Export MODEL_DIR; the exported model's outputs are compared with PyTorch's before saving."""
    from autopreset.model import load

    path, max_diff = load(model_dir).export(fmt, output)
    click.echo(f"wrote {path} (max |difference| to PyTorch: {max_diff:.2e})")
