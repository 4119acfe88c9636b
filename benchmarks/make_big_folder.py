"""A large class-per-folder image tree, generated reproducibly from a seed, for the data path.

    python benchmarks/make_big_folder.py /work/big                # 100,000 images, 10 classes
    python benchmarks/make_big_folder.py /tmp/small -n 2000 --seed 1

Every image is drawn procedurally: a noisy background of a random colour with one class shape
on it (circle, square, triangle, ring, cross, horizontal / vertical / diagonal stripes,
checkerboard, dots) in a random colour, position and size, so the classes are separable and a
fit on the folder means something. Sizes are mixed and non-square: the shorter side is
log-uniform in 32..400 px (median about 113) and the aspect ratio log-uniform in 0.6..1.6.
About 78% are JPEG (quality 70..95), 18% PNG; 2% are greyscale and 2% RGBA PNGs (transparent
background). A few bad files are planted as real folders have them: truncated JPEGs,
zero-byte files, text files named ``.jpg``, and PNGs whose header claims 100,000 x 100,000
pixels (over the decoder's limit).

The same seed gives the same files, byte for byte (Pillow's encoders are deterministic); every
image has its own generator seeded from (seed, class, index), so the tree does not depend on
how the work is split across processes. It is written by a process pool (``--workers``, every
core by default). Images are named ``<class>/<index>.<ext>``; the bad files ``<class>/bad-*``.
"""
from __future__ import annotations

import argparse
import io
import os
import struct
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ("checker", "circle", "cross", "diagonal", "dots", "hstripes", "ring", "square",
           "triangle", "vstripes")
BAD_KINDS = ("truncated", "empty", "text", "bomb")


def image_size(rng: np.random.Generator) -> tuple[int, int]:
    short = float(np.exp(rng.uniform(np.log(32), np.log(400))))
    aspect = float(np.exp(rng.uniform(np.log(0.6), np.log(1.6))))
    w, h = (short * aspect, short) if aspect >= 1 else (short, short / aspect)
    return max(8, round(w)), max(8, round(h))


def _colour(rng, lo=0, hi=256):
    return tuple(int(v) for v in rng.integers(lo, hi, 3))


def draw(cls: int, rng: np.random.Generator) -> Image.Image:
    """One RGB image of class ``cls``: its shape on a noisy background."""
    w, h = image_size(rng)
    base = rng.integers(0, 256, 3)
    noise = rng.integers(-24, 25, (h, w, 1), dtype=np.int16)
    bg = np.clip(base[None, None, :] + noise, 0, 255).astype(np.uint8)
    im = Image.fromarray(bg, "RGB")
    d = ImageDraw.Draw(im)
    ink = tuple(int(255 - v) for v in base)           # contrasting colour, jittered
    ink = tuple(int(np.clip(v + rng.integers(-40, 41), 0, 255)) for v in ink)
    s = min(w, h)
    r = s * rng.uniform(0.2, 0.4)
    cx, cy = w * rng.uniform(0.35, 0.65), h * rng.uniform(0.35, 0.65)
    box = (cx - r, cy - r, cx + r, cy + r)
    lw = max(1, int(s * rng.uniform(0.04, 0.09)))
    period = max(4, int(s * rng.uniform(0.1, 0.2)))
    name = CLASSES[cls]
    if name == "circle":
        d.ellipse(box, fill=ink)
    elif name == "square":
        d.rectangle(box, fill=ink)
    elif name == "triangle":
        d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=ink)
    elif name == "ring":
        d.ellipse(box, outline=ink, width=lw)
    elif name == "cross":
        d.rectangle((cx - r, cy - lw, cx + r, cy + lw), fill=ink)
        d.rectangle((cx - lw, cy - r, cx + lw, cy + r), fill=ink)
    elif name == "hstripes":
        for y in range(int(rng.integers(0, period)), h, period):
            d.rectangle((0, y, w, y + period // 2 - 1), fill=ink)
    elif name == "vstripes":
        for x in range(int(rng.integers(0, period)), w, period):
            d.rectangle((x, 0, x + period // 2 - 1, h), fill=ink)
    elif name == "diagonal":
        for k in range(-h, w, period):
            d.line((k, 0, k + h, h), fill=ink, width=max(1, period // 3))
    elif name == "checker":
        for y in range(0, h, period):
            for x in range((y // period) % 2 * period, w, 2 * period):
                d.rectangle((x, y, x + period - 1, y + period - 1), fill=ink)
    elif name == "dots":
        for _ in range(int(rng.integers(5, 12))):
            px, py, pr = rng.uniform(0, w), rng.uniform(0, h), s * rng.uniform(0.04, 0.08)
            d.ellipse((px - pr, py - pr, px + pr, py + pr), fill=ink)
    return im


def encode(im: Image.Image, rng: np.random.Generator) -> tuple[bytes, str]:
    """The file bytes and extension: 2% greyscale (PNG or JPEG), 2% RGBA PNG with a
    transparent band, 18% PNG, the rest JPEG."""
    u = rng.random()
    if u < 0.02:
        im = im.convert("L")
        fmt = "PNG" if rng.random() < 0.5 else "JPEG"
    elif u < 0.04:
        alpha = np.full((im.height, im.width), 255, np.uint8)
        alpha[: im.height // 4] = 0
        im = im.convert("RGBA")
        im.putalpha(Image.fromarray(alpha, "L"))
        fmt = "PNG"
    else:
        fmt = "PNG" if u < 0.22 else "JPEG"
    buf = io.BytesIO()
    if fmt == "PNG":
        im.save(buf, format="PNG", compress_level=1)
        return buf.getvalue(), "png"
    im.save(buf, format="JPEG", quality=int(rng.integers(70, 96)))
    return buf.getvalue(), "jpg"


def bad_file(kind: str, rng: np.random.Generator) -> tuple[bytes, str]:
    """A file of one of ``BAD_KINDS``: half a JPEG, zero bytes, text named .jpg, a pixel bomb."""
    if kind == "truncated":
        buf = io.BytesIO()
        draw(0, rng).save(buf, format="JPEG", quality=90)
        return buf.getvalue()[: buf.tell() // 2], "jpg"
    if kind == "empty":
        return b"", "jpg"
    if kind == "text":
        return b"this is a text file, not a JPEG\n", "jpg"
    buf = io.BytesIO()                                 # "bomb": header claims 1e10 pixels
    Image.new("L", (1, 1)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    i = data.index(b"IHDR")
    data[i + 4:i + 12] = struct.pack(">II", 100_000, 100_000)
    data[i + 17:i + 21] = struct.pack(">I", zlib.crc32(bytes(data[i:i + 17])) & 0xFFFFFFFF)
    return bytes(data), "png"


def _write_range(args) -> int:
    root, seed, cls, start, stop = args
    folder = Path(root) / CLASSES[cls]
    for i in range(start, stop):
        rng = np.random.default_rng([seed, cls, i])
        data, ext = encode(draw(cls, rng), rng)
        (folder / f"{i:06d}.{ext}").write_bytes(data)
    return stop - start


def make(root: str | os.PathLike, n: int = 100_000, *, seed: int = 0, workers: int | None = None,
         n_bad: int = 4, chunk: int = 500) -> dict:
    """Write ``n`` images (split evenly over the classes) and ``n_bad`` bad files of each
    kind under ``root``; returns counts."""
    root = Path(root)
    if root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root} is not empty; remove it or pick another folder")
    for name in CLASSES:
        (root / name).mkdir(parents=True, exist_ok=True)
    per = [n // len(CLASSES) + (c < n % len(CLASSES)) for c in range(len(CLASSES))]
    jobs = [(str(root), seed, c, s, min(s + chunk, per[c]))
            for c in range(len(CLASSES)) for s in range(0, per[c], chunk)]
    done, t0 = 0, time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count()) as pool:
        for k in pool.map(_write_range, jobs):
            done += k
            if done % 10_000 < k or done == n:
                print(f"{done}/{n} images ({time.perf_counter() - t0:.0f}s)", file=sys.stderr)
    rng = np.random.default_rng([seed, 999])
    bad = 0
    for kind in BAD_KINDS:
        for j in range(n_bad):
            data, ext = bad_file(kind, rng)
            cls = CLASSES[int(rng.integers(len(CLASSES)))]
            (root / cls / f"bad-{kind}-{j}.{ext}").write_bytes(data)
            bad += 1
    return {"images": n, "bad_files": bad, "classes": len(CLASSES),
            "seconds": round(time.perf_counter() - t0, 1)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root")
    ap.add_argument("-n", type=int, default=100_000, help="number of images (default 100000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    ap.add_argument("--bad", type=int, default=4, help="bad files of each kind (default 4)")
    args = ap.parse_args(argv)
    print(make(args.root, args.n, seed=args.seed, workers=args.workers, n_bad=args.bad))


if __name__ == "__main__":
    main()
