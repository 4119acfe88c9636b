"""A colour-photo folder where the class is in the fine detail: image quality, offline.

    apt-get install plasma-workspace-wallpapers gnome-backgrounds mate-backgrounds ukui-wallpapers
    .venv/bin/python benchmarks/make_quality_folder.py /work/quality     # ~2,200 images, ~1 min

Four classes, as a photo-inspection step would sort images: ``sharp`` (the crop as it is),
``blur`` (Gaussian blur of radius :data:`BLUR` px), ``noise`` (Gaussian sensor-like noise of
standard deviation :data:`NOISE` grey levels, per pixel and channel) and ``jpeg`` (re-encoded at
JPEG quality :data:`JPEG`). The degradation is applied at the stored size (``--side`` px), so
a thumbnail a few times smaller averages most of it away: what separates the classes is the
image's detail, not its colour or its subject.

The photographs are those of the Debian wallpaper packages (:data:`SOURCES`; one image per
wallpaper, the largest, shorter side at least :data:`MIN_SIDE` px), split by photograph: train
crops come from one set of photographs, test crops from the others, so no test crop shares a
scene with a train crop. Every sample is a square crop of random size (:data:`CROP` of the
photo's shorter side) at a random position, resized with antialiasing (Lanczos) to ``--side``
px (redrawn, up to :data:`TRIES` times, while it has less detail than :data:`DETAIL`: a crop
of flat sky or a plain gradient looks the same blurred or re-encoded), then degraded by its
class; all are saved as PNG (lossless, so the only compression is the
``jpeg`` class's). The folder::

    OUT/train/<class>/<class>_00000.png ...     --per-class per class
    OUT/test/<class>/<class>_00000.png ...      --test-per-class per class
    OUT/crops.csv                               split, class, file, photo, left, top, size, level
    OUT/photos.json                             the arguments, counts, photographs per split

The same ``--seed`` gives the same folder. The folder is written under a temporary name beside
OUT and renamed at the end: an interrupted run leaves no half-written OUT.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_photo_folder import staged_folder  # noqa: E402  (the generators' one staging rule)

SOURCES = (Path("/usr/share/wallpapers"), Path("/usr/share/backgrounds"))
PACKAGES = "plasma-workspace-wallpapers gnome-backgrounds mate-backgrounds ukui-wallpapers"
MIN_SIDE = 900
CROP = (0.15, 0.50)        # a crop's side, as a share of the photo's shorter side
TEST_SHARE = 0.3           # the share of photographs whose crops form the test split
BLUR = (1.0, 2.0)          # Gaussian blur radius, px at the stored size
NOISE = (5.0, 12.0)        # noise standard deviation, grey levels of 255
JPEG = (8, 20)             # JPEG quality of the re-encoding
DETAIL = 6.0               # the least detail a crop may have: grey Laplacian sd, levels of 255
TRIES = 30                 # crops drawn for a sample before the most detailed is kept
CLASSES = ("sharp", "blur", "noise", "jpeg")
SPLITS = {"train": 0, "test": 1}


def photographs(sources=SOURCES) -> list[tuple[str, Path]]:
    """(name, file) of one image per wallpaper, its largest, sorted by name; a one-line error
    naming the folders when there are none."""
    from PIL import Image

    best: dict[str, tuple[int, Path]] = {}
    for root in sources:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() not in {".jpg", ".jpeg", ".png"}:
                continue
            rel = path.relative_to(root).parts
            # a KDE wallpaper is a folder of sizes (NAME/contents/images*/WxH.ext): one photograph
            name = rel[0] if len(rel) > 1 and "contents" in rel else path.stem
            name = name.lower().replace(" ", "_")
            try:
                with Image.open(path) as im:
                    w, h = im.size
            except Exception:   # a file Pillow cannot read is not a photograph for this folder
                continue
            if min(w, h) >= MIN_SIDE and (name not in best or w * h > best[name][0]):
                best[name] = (w * h, path)
    if not best:
        sys.exit(f"Error: no images of at least {MIN_SIDE} px in "
                 f"{', '.join(map(str, sources))} (apt-get install {PACKAGES})")
    return sorted((n, p) for n, (_, p) in best.items())


def split_of(name: str) -> str:
    """The split a photograph's crops go to: a stable hash of its name (no seed: the same
    photographs are test photographs in every folder made)."""
    h = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if h < TEST_SHARE else "train"


def detail(image) -> float:
    """The standard deviation of the 4-neighbour Laplacian of the grey image."""
    import numpy as np

    g = np.asarray(image.convert("L"), dtype=np.float32)
    lap = 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
    return float(lap.std())


def draw(photo, side: int, rng):
    """A square crop resized to ``side`` px with enough detail (the most detailed of
    :data:`TRIES` when none has), and its (left, top, size)."""
    from PIL import Image

    width, height = photo.size
    short = min(width, height)
    best = None
    for _ in range(TRIES):
        size = max(side, int(round(short * rng.uniform(*CROP))))
        left = int(rng.integers(0, width - size + 1))
        top = int(rng.integers(0, height - size + 1))
        crop = photo.resize((side, side), Image.Resampling.LANCZOS,
                            box=(left, top, left + size, top + size), reducing_gap=3.0)
        d = detail(crop)
        if best is None or d > best[0]:
            best = (d, crop, (left, top, size))
        if d >= DETAIL:
            break
    return best[1], best[2]


def degrade(image, cls: str, rng):
    """The crop with its class's degradation, and the level drawn (None for sharp)."""
    import numpy as np
    from PIL import Image, ImageFilter

    if cls == "sharp":
        return image, None
    if cls == "blur":
        level = float(rng.uniform(*BLUR))
        return image.filter(ImageFilter.GaussianBlur(radius=level)), round(level, 3)
    if cls == "noise":
        level = float(rng.uniform(*NOISE))
        x = np.asarray(image, dtype=np.float32) + rng.normal(0.0, level, (*image.size[::-1], 3))
        return Image.fromarray(np.clip(np.rint(x), 0, 255).astype(np.uint8), "RGB"), round(level, 2)
    if cls == "jpeg":
        level = int(rng.integers(JPEG[0], JPEG[1] + 1))
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=level)
        buf.seek(0)
        with Image.open(buf) as im:
            return im.convert("RGB"), level
    raise ValueError(f"unknown class {cls!r}")


def make(out: Path, *, side: int = 160, per_class: int = 360, test_per_class: int = 180,
         seed: int = 0, sources=SOURCES, force: bool = False) -> dict:
    """Write the folder at ``out``; its summary (also written to ``out/photos.json``)."""
    import numpy as np
    from PIL import Image

    found = photographs(sources)
    by_split = {s: [(n, p) for n, p in found if split_of(n) == s] for s in SPLITS}
    for s, group in by_split.items():
        if not group:
            sys.exit(f"Error: no photographs fall in the {s} split ({len(found)} found)")
    t0 = time.time()
    rows = []
    with staged_folder(out, force) as tmp:
        for split, count in (("train", per_class), ("test", test_per_class)):
            for cls in CLASSES:
                (tmp / split / cls).mkdir(parents=True)
            group = by_split[split]
            # sample i of every class comes from photograph i mod len(group): the photographs
            # are spread evenly over the classes, and each photo is decoded once per split
            for pi, (name, path) in enumerate(group):
                with Image.open(path) as im:
                    photo = im.convert("RGB")
                for ci, cls in enumerate(CLASSES):
                    for i in range(pi, count, len(group)):
                        rng = np.random.default_rng([seed, SPLITS[split], ci, i])
                        crop, (left, top, size) = draw(photo, side, rng)
                        crop, level = degrade(crop, cls, rng)
                        file = f"{cls}_{i:05d}.png"
                        crop.save(tmp / split / cls / file)
                        rows.append((split, cls, file, name, left, top, size, level))
        with open(tmp / "crops.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["split", "class", "file", "photo", "left", "top", "size", "level"])
            w.writerows(rows)
        summary = {
            "description": (
                f"Data: `benchmarks/make_quality_folder.py` (packages `{PACKAGES}`): "
                f"{len(CLASSES)} image-quality classes ({', '.join(CLASSES)}: Gaussian blur "
                f"radius {BLUR[0]}-{BLUR[1]} px, noise sd {NOISE[0]:g}-{NOISE[1]:g} grey levels, "
                f"JPEG quality {JPEG[0]}-{JPEG[1]}, applied at {side} px), "
                f"{per_class * len(CLASSES)} train and {test_per_class * len(CLASSES)} test PNG "
                f"images of {side} px, square crops of {CROP[0]:.0%}-{CROP[1]:.0%} of the "
                f"photo's shorter side with some detail (grey Laplacian sd >= {DETAIL:g}); train and test from different photographs "
                f"({len(by_split['train'])} and {len(by_split['test'])}); seed {seed}."),
            "sources": [str(s) for s in sources], "packages": PACKAGES,
            "photos": {s: [n for n, _ in g] for s, g in by_split.items()},
            "classes": list(CLASSES), "side": side, "per_class": per_class,
            "test_per_class": test_per_class, "seed": seed, "crop": list(CROP),
            "detail": DETAIL, "tries": TRIES, "blur": list(BLUR), "noise": list(NOISE), "jpeg": list(JPEG),
            "train": per_class * len(CLASSES), "test": test_per_class * len(CLASSES),
            "seconds": round(time.time() - t0, 1)}
        (tmp / "photos.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--side", type=int, default=160, help="pixels of every sample (default 160)")
    ap.add_argument("--per-class", type=int, default=360, help="train images per class")
    ap.add_argument("--test-per-class", type=int, default=180, help="test images per class")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="replace OUT if it exists")
    args = ap.parse_args(argv)
    summary = make(args.out, side=args.side, per_class=args.per_class,
                   test_per_class=args.test_per_class, seed=args.seed, force=args.force)
    print(json.dumps({k: summary[k] for k in ("train", "test", "seconds")}),
          f"photographs: {len(summary['photos']['train'])} train, "
          f"{len(summary['photos']['test'])} test")


if __name__ == "__main__":
    main()
