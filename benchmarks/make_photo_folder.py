"""A colour-photo classification folder from a Debian wallpaper package, offline.

    apt-get install mate-backgrounds           # 12 nature photographs, 1280-2560 px
    .venv/bin/python benchmarks/make_photo_folder.py /work/photos     # ~2,200 images, ~30 s
    .venv/bin/python benchmarks/make_photo_folder.py /work/photos --probe   # thumbnail probe

One class per photograph of ``/usr/share/backgrounds/mate/nature/`` (the class name is the file
stem, lower-case: ``aqua``, ``blinds``, ``dune``, ...). Every sample is a square crop of random
size (:data:`CROP` of the photo's shorter side) at a random position, resized with
antialiasing (Lanczos) to ``--side`` px, then given its own photometric jitter (brightness,
contrast, saturation and a small hue shift, :data:`JITTER`) so that the mean colour of a crop
does not name its photograph: several are green leaves or grass, several orange or yellow
flowers, and telling them apart takes their texture, which a 32 px thumbnail blurs away.

Train and test are cut from different regions, so that overlapping neighbouring crops do not
leak: train crops lie wholly in the left :data:`TRAIN_SHARE` of each photo's width, test crops
wholly in the rest. The folder::

    OUT/train/<class>/<class>_00000.jpg ...     --per-class per class
    OUT/test/<class>/<class>_00000.jpg ...      --test-per-class per class
    OUT/crops.csv                               split, class, file, photo, left, top, size
    OUT/photos.json                             the arguments, counts and source files

JPEG quality 90. The same ``--seed`` gives the same folder (each sample draws from its own
generator, seeded by (seed, split, class, index)). The folder is written under a temporary
name beside OUT and renamed at the end: an interrupted run leaves no half-written OUT.

``--probe`` (on an existing OUT) fits a logistic regression on small colour thumbnails of the
train folder only, split by region (crops in the left part of the train region against crops
in its right part, those straddling the line dropped): how much of the task mean colour and
coarse layout solve. The jitter and crop sizes were tuned on that probe, never on the test
folder.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

SOURCE = Path("/usr/share/backgrounds/mate/nature")
PACKAGE = "mate-backgrounds"
CROP = (0.12, 0.30)        # a crop's side, as a share of the photo's shorter side
TRAIN_SHARE = 0.65         # train crops: the left 65% of the width; test crops: the right 35%
JITTER = {"brightness": (0.65, 1.35), "contrast": (0.65, 1.35), "saturation": (0.5, 1.5),
          "hue": 0.05}     # hue: the largest shift, as a share of the colour circle
QUALITY = 90
SPLITS = {"train": 0, "test": 1}


def photos(source: Path = SOURCE) -> list[Path]:
    """The package's photographs, sorted; a one-line error naming the folder when absent."""
    files = sorted(p for p in source.glob("*.jpg")) if source.is_dir() else []
    if not files:
        sys.exit(f"Error: no photographs in {source} (apt-get install {PACKAGE})")
    return files


def region(width: int, split: str) -> tuple[int, int]:
    """The columns [start, stop) a split's crops lie in."""
    cut = int(round(width * TRAIN_SHARE))
    return (0, cut) if split == "train" else (cut, width)


def draw_crop(rng, width: int, height: int, split: str) -> tuple[int, int, int]:
    """(left, top, size) of a square crop wholly inside the split's region."""
    start, stop = region(width, split)
    short = min(width, height)
    size = int(round(short * rng.uniform(*CROP)))
    size = max(8, min(size, stop - start, height))
    left = start + int(rng.integers(0, stop - start - size + 1))
    top = int(rng.integers(0, height - size + 1))
    return left, top, size


def jitter(image, rng):
    """Brightness, contrast, saturation and hue, each factor drawn for this sample."""
    import numpy as np
    from PIL import Image, ImageEnhance

    for name, enhance in (("brightness", ImageEnhance.Brightness),
                          ("contrast", ImageEnhance.Contrast),
                          ("saturation", ImageEnhance.Color)):
        image = enhance(image).enhance(float(rng.uniform(*JITTER[name])))
    shift = int(round(rng.uniform(-JITTER["hue"], JITTER["hue"]) * 256))
    if shift:
        hsv = np.asarray(image.convert("HSV")).copy()
        hsv[..., 0] = (hsv[..., 0].astype(np.int16) + shift) % 256
        image = Image.fromarray(hsv, "HSV").convert("RGB")
    return image


@contextlib.contextmanager
def staged_folder(out: Path, force: bool = False):
    """A fresh temporary folder beside ``out``, renamed to ``out`` when the block ends cleanly
    and removed when it raises: an interrupted run never leaves half a folder at ``out``. An
    existing ``out`` is an error unless ``force``, and is replaced only at the end."""
    out = Path(out)
    if out.exists() and not force:
        sys.exit(f"Error: {out} exists (--force replaces it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def make(out: Path, *, side: int = 160, per_class: int = 120, test_per_class: int = 60,
         seed: int = 0, source: Path = SOURCE, force: bool = False) -> dict:
    """Write the folder at ``out``; its summary (also written to ``out/photos.json``)."""
    import numpy as np
    from PIL import Image

    files = photos(source)
    t0 = time.time()
    rows, classes = [], []
    with staged_folder(out, force) as tmp:
        for ci, path in enumerate(files):
            name = path.stem.lower()
            classes.append(name)
            with Image.open(path) as im:
                photo = im.convert("RGB")
            width, height = photo.size
            for split, count in (("train", per_class), ("test", test_per_class)):
                folder = tmp / split / name
                folder.mkdir(parents=True)
                for i in range(count):
                    rng = np.random.default_rng([seed, SPLITS[split], ci, i])
                    left, top, size = draw_crop(rng, width, height, split)
                    crop = photo.resize((side, side), Image.Resampling.LANCZOS,
                                        box=(left, top, left + size, top + size),
                                        reducing_gap=3.0)
                    crop = jitter(crop, rng)
                    file = f"{name}_{i:05d}.jpg"
                    crop.save(folder / file, quality=QUALITY)
                    rows.append((split, name, file, path.name, left, top, size))
        with open(tmp / "crops.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["split", "class", "file", "photo", "left", "top", "size"])
            w.writerows(rows)
        summary = {"source": str(source), "package": PACKAGE, "photos": [p.name for p in files],
                   "classes": classes, "side": side, "per_class": per_class,
                   "test_per_class": test_per_class, "seed": seed, "crop": list(CROP),
                   "train_share": TRAIN_SHARE, "jitter": JITTER, "quality": QUALITY,
                   "train": per_class * len(files), "test": test_per_class * len(files),
                   "seconds": round(time.time() - t0, 1)}
        (tmp / "photos.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


# ---- probe (train folder only) -------------------------------------------------------------
def probe(out: Path, sizes=(1, 4, 8, 16)) -> dict:
    """Logistic regression on ``s`` x ``s`` colour thumbnails of the train folder, fitted on the
    crops in the left part of the train region and scored on those in its right part (the line
    at the median crop centre of each photo; crops straddling it dropped)."""
    import numpy as np
    from PIL import Image
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    with open(out / "crops.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] == "train"]
    by_photo: dict[str, list[dict]] = {}
    for r in rows:
        by_photo.setdefault(r["photo"], []).append(r)
    fit_rows, score_rows = [], []
    for group in by_photo.values():
        centres = [int(r["left"]) + int(r["size"]) / 2 for r in group]
        line = float(np.median(centres))
        for r in group:
            left, size = int(r["left"]), int(r["size"])
            if left + size <= line:
                fit_rows.append(r)
            elif left >= line:
                score_rows.append(r)
    classes = sorted({r["class"] for r in rows})
    result = {"fit": len(fit_rows), "score": len(score_rows), "chance": 1 / len(classes)}
    for s in sizes:
        def features(subset):
            x = [np.asarray(Image.open(out / "train" / r["class"] / r["file"]).convert("RGB")
                            .resize((s, s), Image.Resampling.BOX), dtype=np.float32).ravel() / 255
                 for r in subset]
            return np.stack(x), np.array([classes.index(r["class"]) for r in subset])

        xf, yf = features(fit_rows)
        xs, ys = features(score_rows)
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
        model.fit(xf, yf)
        result[f"{s}px"] = round(float(model.score(xs, ys)), 3)
        result[f"{s}px_fit"] = round(float(model.score(xf, yf)), 3)
    return result


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--side", type=int, default=160, help="pixels of every sample (default 160)")
    ap.add_argument("--per-class", type=int, default=120, help="train images per class")
    ap.add_argument("--test-per-class", type=int, default=60, help="test images per class")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--source", type=Path, default=SOURCE, help=argparse.SUPPRESS)
    ap.add_argument("--force", action="store_true", help="replace OUT if it exists")
    ap.add_argument("--probe", action="store_true",
                    help="only score thumbnail probes on OUT's train folder (split by region)")
    args = ap.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(args.out)))
        return
    s = make(args.out, side=args.side, per_class=args.per_class,
             test_per_class=args.test_per_class, seed=args.seed, source=args.source,
             force=args.force)
    print(f"{args.out}: {len(s['classes'])} classes, {s['train']} train + {s['test']} test "
          f"images, {s['side']} px ({s['seconds']:.0f}s)")


if __name__ == "__main__":
    main()
