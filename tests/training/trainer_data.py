"""The trainer tests' tiny image folder (3 colour classes, a few bad files) and its task; a
module of its own so tests and the resume worker import it by a name no other folder uses."""
from __future__ import annotations

import numpy as np
from PIL import Image

from autopreset.data import build_cache, scan, split
from autopreset.training import TrainingTask

SIZE = 12
CONFIG = {"backbone": "test_resnet", "lr": 0.05, "batch_size": 16, "augment": "crop_flip"}


def make_folder(root):
    rng = np.random.default_rng(0)
    for c in range(3):
        folder = root / f"class_{c}"
        folder.mkdir(parents=True)
        for i in range(20):
            arr = rng.integers(0, 90, (SIZE + i % 3, SIZE, 3)).astype(np.uint8)
            arr[:, :, c] += 140
            Image.fromarray(arr).save(folder / f"{i}.png")
    (root / "class_0" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    (root / "class_1" / "empty.png").write_bytes(b"")
    (root / "class_2" / "readme.txt").write_text("hello")
    return root


def make_task(data_dir, cache_dir, threads=1):
    ds = scan(data_dir, n_jobs=1)
    tr, va = split(ds, val_fraction=0.25, random_state=0)
    cache = build_cache(ds, SIZE, directory=cache_dir, n_jobs=1)
    return ds, TrainingTask(cache=cache, labels=ds.labels, train_idx=tr, val_idx=va,
                            classes=ds.classes, device="cpu", threads=threads,
                            pretrained=False)
