"""``autopreset export``: a saved model as ONNX or TorchScript, checked against PyTorch."""
from __future__ import annotations

import click


@click.command("export")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["onnx", "torchscript"]), default="onnx", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Output file (default: MODEL_DIR/model.onnx or MODEL_DIR/model.torchscript.pt).")
@click.option("--with-preprocessing", is_flag=True,
              help="Put normalization and softmax into the graph: it takes uint8 RGB pixels "
                   "(batch, height, width, 3), read and resized as the metadata says, and "
                   "returns probabilities. Without it: normalized float32 NCHW in, logits out.")
def export_command(model_dir: str, fmt: str, output: str | None, with_preprocessing: bool) -> None:
    """Export MODEL_DIR; the exported model's outputs are compared with PyTorch's before saving.

    The file carries the classes, the preprocessing (how to read and resize an image: model.json's
    record) and what its input and output are, as metadata (ONNX metadata_props, TorchScript
    extra files). Resizing always happens before the graph.
    """
    import json

    from autopreset.model import load

    predictor = load(model_dir)
    path, max_diff = predictor.export(fmt, output, with_preprocessing=with_preprocessing)
    graph_input = json.loads(predictor.export_metadata(with_preprocessing=with_preprocessing)
                             ["autopreset.input"])
    shape = "(" + ", ".join(str(d) for d in graph_input["shape"]) + ")"
    output_name = "probabilities" if with_preprocessing else "logits"
    click.echo(f"wrote {path} (max |difference| to PyTorch: {max_diff:.2e}; input "
               f"{graph_input['dtype']} {graph_input['layout']} {shape}, output {output_name})")
