"""The zoo's tasks: small image-classification problems with a fixed train/validation/test split.

``write_tasks(OUT)`` writes every task reproducibly (the same seed gives the same bytes) as

    OUT/<task>/train/<class>/*.png
    OUT/<task>/val/<class>/*.png
    OUT/<task>/test/<class>/*.png
    OUT/<task>/task.json          name, description, source, counts, image size, fingerprints

The tasks vary what matters to hyperparameters: the number of classes, images per class (few-shot
at 10, 30 and 100), resolution (16, 32 and 64 px), grey, colour and inverted images, noise,
rotation, natural textures, and synthetic generators (shapes, gratings, counting, glyphs,
coloured noise). Tasks from the bundled datasets draw only from the images that the fit
benchmark trains on: its test split (``autopreset.datasets.benchmark_test_mask``) is never in a
zoo task, so no selection step built from the zoo has seen what the benchmark reports on.

A zoo task's test split is written for outside checks only; ``zoo run`` reads train and val.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from autopreset._atomic import make_dir_temp
from autopreset.errors import InputError

__all__ = ["TASKS", "TaskSpec", "write_tasks", "task_names"]

PARTS = ("train", "val", "test")


@dataclass(frozen=True)
class TaskSpec:
    name: str
    description: str
    make: Callable[[np.random.Generator], dict]   # -> {"classes": [...], part: (images, labels)}


# ---------------------------------------------------------------- sampling helpers

def _per_class(labels: np.ndarray, counts: dict[str, int], rng: np.random.Generator,
               classes: list[int] | None = None) -> dict[str, np.ndarray]:
    """Disjoint stratified index sets: ``counts[part]`` images of every class in ``classes``."""
    classes = sorted(set(labels.tolist())) if classes is None else classes
    out = {part: [] for part in counts}
    for c in classes:
        idx = rng.permutation(np.flatnonzero(labels == c))
        need = sum(counts.values())
        if len(idx) < need:
            raise ValueError(f"class {c} has {len(idx)} images, {need} needed")
        start = 0
        for part, n in counts.items():
            out[part].append(idx[start:start + n])
            start += n
    return {part: np.concatenate(v) for part, v in out.items()}


def _pool(name: str):
    """The bundled dataset's images outside the fit benchmark's test split."""
    from autopreset.datasets import benchmark_test_mask, load_arrays

    images, labels, classes, _ = load_arrays(name)
    keep = ~benchmark_test_mask(name)
    return images[keep], labels[keep], classes


def _resize(images: np.ndarray, side: int) -> np.ndarray:
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(im).resize((side, side), Image.BILINEAR))
                     for im in images])


def _from_pool(name: str, counts: dict[str, int], *, classes: list[int] | None = None,
               transform=None, side: int | None = None):
    def make(rng):
        images, labels, names = _pool(name)
        parts = _per_class(labels, counts, rng, classes)
        keep = classes if classes is not None else sorted(set(labels.tolist()))
        remap = {c: i for i, c in enumerate(keep)}
        out = {"classes": [names[c] for c in keep]}
        for part, idx in parts.items():
            x = images[idx]
            if side is not None:
                x = _resize(x, side)
            if transform is not None:
                x = transform(x, rng)
            out[part] = (x, np.array([remap[int(c)] for c in labels[idx]]))
        return out
    return make


# ---------------------------------------------------------------- transforms of images

def _invert(x, rng):
    return 255 - x


def _colourize(x, rng):
    """Each grey digit painted in a random foreground colour on a random background colour."""
    n = len(x)
    fg = rng.integers(0, 256, (n, 1, 1, 3))
    bg = rng.integers(0, 256, (n, 1, 1, 3))
    same = np.abs(fg - bg).sum(axis=-1, keepdims=True) < 150   # keep the digit visible
    bg = np.where(same, 255 - fg, bg)
    a = x.astype(np.float32)[..., None] / 255.0
    return (a * fg + (1 - a) * bg).clip(0, 255).astype(np.uint8)


def _noise(x, rng):
    noisy = x.astype(np.float32) + rng.normal(0, 70, x.shape)
    salt = rng.random(x.shape) < 0.05
    noisy[salt] = rng.choice([0.0, 255.0], size=int(salt.sum()))
    return noisy.clip(0, 255).astype(np.uint8)


def _rotate(x, rng):
    from PIL import Image

    angles = rng.uniform(-60, 60, len(x))
    return np.stack([np.asarray(Image.fromarray(im).rotate(a, resample=Image.BILINEAR))
                     for im, a in zip(x, angles)])


# ---------------------------------------------------------------- textures (natural photos)

def _textures(patch: int, counts: dict[str, int]):
    """Patches of scikit-image's brick, grass and gravel photos, from the top three quarters
    only (the fit benchmark tests on the bottom quarter). Overlapping patches would leak, so the
    parts come from separate horizontal bands 8 px apart, test lowest, then validation, then
    train (patches lie wholly inside their band): at 32 px train 0..288, validation 296..336,
    test 344..384."""
    band = patch + 8
    bands = {"test": (384 - band, 384), "val": (384 - 2 * band - 8, 384 - band - 8),
             "train": (0, 384 - 2 * band - 16)}

    def make(rng):
        import skimage.data as sd

        out = {"classes": ["brick", "grass", "gravel"]}
        parts = {p: ([], []) for p in counts}
        for label, name in enumerate(out["classes"]):
            photo = np.asarray(getattr(sd, name)())
            if photo.ndim == 3:
                photo = photo[..., :3].mean(axis=2)
            if photo.dtype != np.uint8:
                photo = (255 * (photo - photo.min()) / max(np.ptp(photo), 1e-9)).astype(np.uint8)
            for part, n in counts.items():
                lo, hi = bands[part]
                stride = max(4, patch // 8) if part != "train" else max(4, patch // 4)
                tops = range(lo, hi - patch + 1, stride)
                lefts = range(0, photo.shape[1] - patch + 1, stride)
                spots = [(t, l) for t in tops for l in lefts]
                pick = rng.choice(len(spots), size=min(n, len(spots)), replace=False)
                for k in pick:
                    t, l = spots[int(k)]
                    parts[part][0].append(photo[t:t + patch, l:l + patch])
                    parts[part][1].append(label)
        for part, (xs, ys) in parts.items():
            out[part] = (np.stack(xs), np.array(ys))
        return out
    return make


# ---------------------------------------------------------------- synthetic generators

def _synthetic(classes: list[str], draw, counts: dict[str, int]):
    def make(rng):
        out = {"classes": classes}
        for part, n in counts.items():
            labels = np.repeat(np.arange(len(classes)), n)
            out[part] = (np.stack([draw(int(c), rng) for c in labels]), labels)
        return out
    return make


def _background(rng, side: int = 32) -> np.ndarray:
    base = rng.integers(0, 256, 3).astype(np.float32)
    img = np.ones((side, side, 3), np.float32) * base
    img += rng.normal(0, 25, (side, side, 3))
    return img


def _shape(c: int, rng) -> np.ndarray:
    """circle, square, triangle, plus or ring, of random size, place and colour, on a noisy
    background with a distracting line."""
    from PIL import Image, ImageDraw

    side = 32
    bg = _background(rng, side).clip(0, 255).astype(np.uint8)
    im = Image.fromarray(bg)
    d = ImageDraw.Draw(im)
    colour = tuple(int(v) for v in (255 - np.asarray(bg[0, 0]) + rng.integers(-40, 40, 3)).clip(0, 255))
    d.line([tuple(rng.integers(0, side, 2).tolist()), tuple(rng.integers(0, side, 2).tolist())],
           fill=tuple(int(v) for v in rng.integers(0, 256, 3)), width=1)
    r = int(rng.integers(6, 12))
    cx, cy = (int(v) for v in rng.integers(r, side - r, 2))
    box = [cx - r, cy - r, cx + r, cy + r]
    if c == 0:
        d.ellipse(box, fill=colour)
    elif c == 1:
        d.rectangle(box, fill=colour)
    elif c == 2:
        d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
    elif c == 3:
        w = max(2, r // 3)
        d.rectangle([cx - r, cy - w, cx + r, cy + w], fill=colour)
        d.rectangle([cx - w, cy - r, cx + w, cy + r], fill=colour)
    else:
        d.ellipse(box, outline=colour, width=max(2, r // 3))
    return np.asarray(im)


def _grating(c: int, rng) -> np.ndarray:
    """A sinusoidal grating at 0, 45, 90 or 135 degrees (+-10), random frequency, phase and
    contrast, in grey noise: mirroring swaps 45 and 135."""
    side = 32
    theta = np.deg2rad(45 * c + rng.uniform(-10, 10))
    freq = rng.uniform(2, 6) / side
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
    wave = np.sin(2 * np.pi * freq * (xx * np.cos(theta) + yy * np.sin(theta)) + rng.uniform(0, 2 * np.pi))
    img = 128 + rng.uniform(30, 110) * wave + rng.normal(0, 40, (side, side))
    return img.clip(0, 255).astype(np.uint8)


def _count(c: int, rng) -> np.ndarray:
    """One to five dots of random colours and sizes on a noisy background: count them."""
    from PIL import Image, ImageDraw

    side = 32
    im = Image.fromarray(_background(rng, side).clip(0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    placed: list[tuple[int, int, int]] = []
    while len(placed) < c + 1:
        r = int(rng.integers(2, 5))
        x, y = (int(v) for v in rng.integers(r + 1, side - r - 1, 2))
        if all((x - a) ** 2 + (y - b) ** 2 > (r + q + 2) ** 2 for a, b, q in placed):
            placed.append((x, y, r))
            d.ellipse([x - r, y - r, x + r, y + r], fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return np.asarray(im)


_FONT = {}


def _glyph(c: int, rng) -> np.ndarray:
    """A capital letter (A..H) in Pillow's built-in font, randomly scaled, placed, rotated and
    coloured."""
    from PIL import Image, ImageDraw, ImageFont

    size = int(rng.integers(16, 26))
    if size not in _FONT:
        _FONT[size] = ImageFont.load_default(size=size)
    side = 32
    fg = tuple(int(v) for v in rng.integers(0, 256, 3))
    bg = tuple(int(255 - v) for v in fg)
    im = Image.new("RGB", (side, side), bg)
    d = ImageDraw.Draw(im)
    letter = "ABCDEFGH"[c]
    left, top, right, bottom = d.textbbox((0, 0), letter, font=_FONT[size])
    x = (side - (right - left)) / 2 - left + rng.uniform(-4, 4)
    y = (side - (bottom - top)) / 2 - top + rng.uniform(-4, 4)
    d.text((x, y), letter, fill=fg, font=_FONT[size])
    im = im.rotate(rng.uniform(-20, 20), resample=Image.BILINEAR, fillcolor=bg)
    arr = np.asarray(im).astype(np.float32) + rng.normal(0, 20, (side, side, 3))
    return arr.clip(0, 255).astype(np.uint8)


def _spectrum(c: int, rng) -> np.ndarray:
    """Coloured noise whose class is its spectral slope (1/f^a, a in 0.5..2.5) and its hue
    family: natural-image-like statistics with no object and no orientation."""
    side = 32
    slope = 0.5 + 0.5 * (c % 5)
    fy = np.fft.fftfreq(side)[:, None]
    fx = np.fft.fftfreq(side)[None, :]
    f = np.sqrt(fx ** 2 + fy ** 2)
    f[0, 0] = 1.0
    img = np.empty((side, side, 3), np.float32)
    hue = rng.uniform(0, 1, 3) * 0.5 + (0.5 if c >= 5 else 0.0) * np.array([1, 0, 0])
    for ch in range(3):
        spec = (rng.normal(size=(side, side)) + 1j * rng.normal(size=(side, side))) / f ** slope
        spec[0, 0] = 0
        field = np.real(np.fft.ifft2(spec))
        field = (field - field.mean()) / (field.std() + 1e-9)
        img[..., ch] = 128 + 45 * field + 80 * (hue[ch] - 0.5)
    return img.clip(0, 255).astype(np.uint8)


def _fewshot(k: int, val: int = 10, test: int = 20) -> dict[str, int]:
    return {"train": k, "val": val, "test": test}


_STD = {"train": 40, "val": 15, "test": 20}

TASKS: dict[str, TaskSpec] = {t.name: t for t in [
    TaskSpec("mnist-10c", "MNIST, 10 classes, 40 train images each, 28 px grey",
             _from_pool("mnist", _STD)),
    TaskSpec("mnist-3c", "MNIST 3, 5 and 8 only (the most confused digits), 100 train images each",
             _from_pool("mnist", {"train": 100, "val": 40, "test": 40}, classes=[3, 5, 8])),
    TaskSpec("mnist-shot10", "MNIST few-shot: 10 train images per class",
             _from_pool("mnist", _fewshot(10))),
    TaskSpec("mnist-shot30", "MNIST few-shot: 30 train images per class",
             _from_pool("mnist", _fewshot(30, 15))),
    TaskSpec("mnist-5c-shot100", "MNIST digits 0-4, 100 train images per class",
             _from_pool("mnist", {"train": 100, "val": 30, "test": 30}, classes=[0, 1, 2, 3, 4])),
    TaskSpec("mnist-16px", "MNIST shrunk to 16 px (fit trains it upsampled: blurred digits)",
             _from_pool("mnist", _STD, side=16)),
    TaskSpec("mnist-64px", "MNIST enlarged to 64 px (four times the pixels of 32 px), 20 train each",
             _from_pool("mnist", {"train": 20, "val": 10, "test": 20}, side=64)),
    TaskSpec("mnist-inverted", "MNIST inverted: dark digits on white",
             _from_pool("mnist", _STD, transform=_invert)),
    TaskSpec("mnist-colour", "MNIST painted in random foreground and background colours",
             _from_pool("mnist", _STD, transform=_colourize)),
    TaskSpec("mnist-noise", "MNIST under heavy Gaussian (sigma 70) and 5% salt-and-pepper noise",
             _from_pool("mnist", _STD, transform=_noise)),
    TaskSpec("mnist-rotated", "MNIST rotated by up to 60 degrees either way",
             _from_pool("mnist", _STD, transform=_rotate)),
    TaskSpec("digits-10c", "scikit-learn digits (8x8 scans upsampled to 32 px), 30 train each",
             _from_pool("digits", {"train": 30, "val": 15, "test": 20})),
    TaskSpec("textures-32", "brick, grass and gravel photo patches at 32 px, 100 train each",
             _textures(32, {"train": 100, "val": 40, "test": 40})),
    TaskSpec("textures-64", "brick, grass and gravel photo patches at 64 px, 40 train each",
             _textures(64, {"train": 40, "val": 20, "test": 20})),
    TaskSpec("textures-shot10", "texture patches at 32 px, 10 train images per class",
             _textures(32, {"train": 10, "val": 20, "test": 20})),
    TaskSpec("shapes", "synthetic colour shapes (circle, square, triangle, plus, ring) on clutter",
             _synthetic(["circle", "square", "triangle", "plus", "ring"], _shape, _STD)),
    TaskSpec("gratings", "synthetic grey gratings at 0/45/90/135 degrees in noise",
             _synthetic(["deg000", "deg045", "deg090", "deg135"], _grating, _STD)),
    TaskSpec("counting", "synthetic: count one to five coloured dots",
             _synthetic(["1", "2", "3", "4", "5"], _count, _STD)),
    TaskSpec("glyphs", "synthetic capital letters A-H, random size, place, rotation and colours",
             _synthetic(list("ABCDEFGH"), _glyph, {"train": 30, "val": 15, "test": 20})),
    TaskSpec("spectra", "synthetic coloured 1/f^a noise: 10 classes of slope and hue, no objects",
             _synthetic([f"s{i}" for i in range(10)], _spectrum, {"train": 30, "val": 15, "test": 20})),
]}


def task_names() -> list[str]:
    return list(TASKS)


def _seed(name: str, seed: int) -> np.random.Generator:
    digest = hashlib.sha256(f"{name}|{seed}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def write_tasks(out: str | os.PathLike, names: list[str] | None = None, *, seed: int = 0,
                overwrite: bool = False) -> list[dict]:
    """Write the named tasks (all by default) under ``out``; returns their task.json records.

    A task already written with the same seed is kept as it is (the call is idempotent). Each
    task is built beside its folder and renamed into place, so an interrupted call leaves only
    whole tasks.
    """
    from PIL import Image

    names = list(TASKS) if not names else list(names)
    unknown = [n for n in names if n not in TASKS]
    if unknown:
        raise InputError(f"unknown zoo task {unknown[0]!r}: choose from {', '.join(TASKS)}")
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    records = []
    for name in names:
        folder = root / name
        meta_path = folder / "task.json"
        if meta_path.exists() and not overwrite:
            meta = json.loads(meta_path.read_text())
            if meta.get("seed") == seed:
                records.append(meta)
                continue
            raise InputError(f"{folder} holds task {name!r} written with seed {meta.get('seed')}, "
                             f"not {seed}: remove it or pass another OUT")
        spec = TASKS[name]
        data = spec.make(_seed(name, seed))
        staging = make_dir_temp(root, prefix=f".{name}.")
        try:
            counts = {}
            hashes = {}
            for part in PARTS:
                images, labels = data[part]
                h = hashlib.sha256()
                for i, (im, lab) in enumerate(zip(images, labels)):
                    cls = data["classes"][int(lab)]
                    path = staging / part / cls / f"{name}_{part}_{i:05d}.png"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    Image.fromarray(np.ascontiguousarray(im)).save(path, optimize=False)
                    h.update(cls.encode() + b"\0" + np.ascontiguousarray(im).tobytes())
                counts[part] = int(len(labels))
                hashes[part] = h.hexdigest()
            shape = tuple(int(v) for v in data["train"][0].shape[1:])
            meta = {"format": "autopreset.zoo-task/1", "name": name, "description": spec.description,
                    "seed": seed, "classes": list(data["classes"]), "counts": counts,
                    "image_size": list(shape[:2]), "channels": 1 if len(shape) == 2 else shape[2],
                    "pixels_sha256": hashes}
            (staging / "task.json").write_text(json.dumps(meta, indent=1) + "\n")
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        records.append(meta)
    return records
