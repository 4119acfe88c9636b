"""Scanning real-world folders: every kind of bad file is skipped with its reason."""
from __future__ import annotations

import io
import os
import shutil
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from autopreset.data import BadImageError, Dataset, decode_image, scan


def _png(path, size=(12, 10), color=(200, 30, 30)):
    Image.new("RGB", size, color).save(path)


def _folder(root, classes=("a", "b"), n=3):
    for c in classes:
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            _png(root / c / f"{i}.png", color=(40 * i, 100, 200))
    return root


def _bomb_png(path, width=100_000, height=100_000):
    """A valid tiny PNG whose header claims width x height pixels."""
    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4:ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr:ihdr + 17])) & 0xFFFFFFFF
    data[ihdr + 17:ihdr + 21] = struct.pack(">I", crc)
    path.write_bytes(bytes(data))


def test_each_bad_file_is_skipped_with_its_reason(tmp_path):
    root = _folder(tmp_path / "data", n=3)
    (root / "a" / "empty.jpg").write_bytes(b"")
    (root / "a" / "notes.jpg").write_text("this is not an image")
    full = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(
        full, format="JPEG")
    (root / "b" / "truncated.jpg").write_bytes(full.getvalue()[:600])
    _bomb_png(root / "b" / "bomb.png")
    os.symlink("selfloop.png", root / "a" / "selfloop.png")
    os.symlink(root / "a" / "missing.png", root / "b" / "dangling.png")
    os.symlink(root, root / "a" / "loop")            # directory loop back to the root
    os.mkfifo(root / "b" / "pipe.jpg")                 # opening it would block forever
    ds = scan(root, n_jobs=2)
    reasons = {os.path.basename(s.path): s.reason for s in ds.skipped}
    assert reasons["empty.jpg"] == "empty file (0 bytes)"
    assert reasons["notes.jpg"].startswith("not an image")
    assert reasons["truncated.jpg"].startswith("truncated or corrupt image")
    assert reasons["bomb.png"].startswith("image too large to decode safely")
    assert "10000000000 pixels" in reasons["bomb.png"]
    assert reasons["selfloop.png"] == "symlink loop"
    assert "not found" in reasons["dangling.png"]
    assert "symlink loop" in reasons["loop"]
    assert reasons["pipe.jpg"] == "not a regular file"
    assert len(ds) == 6 and ds.class_counts() == {"a": 3, "b": 3}
    assert all(p.endswith(".png") for p in ds.paths)


def test_decode_limit_is_checked_from_the_header(tmp_path):
    _png(tmp_path / "x.png", size=(50, 40))
    with pytest.raises(BadImageError, match="50x40 pixels"):
        decode_image(tmp_path / "x.png", max_pixels=1000)
    assert decode_image(tmp_path / "x.png").size == (50, 40)


def test_symlink_loops_end_in_bounded_time(tmp_path):
    root = _folder(tmp_path / "data")
    for i in range(6):   # many mutually-linked folders: exponential without a visited set
        os.symlink(root, root / "a" / f"up{i}")
        os.symlink(root / "b", root / "a" / f"side{i}")
    start = time.perf_counter()
    ds = scan(root, n_jobs=1)
    assert time.perf_counter() - start < 20
    assert ds.class_counts() == {"a": 3, "b": 3}
    reasons = {os.path.basename(s.path): s.reason for s in ds.skipped}
    assert "already scanned" in reasons["up0"] and "already scanned" in reasons["side5"]


@pytest.mark.parametrize("bad, message", [
    ("missing", "does not exist"),
    ("empty", "no class folders"),
    ("one_class", "need at least 2 classes"),
    ("tiny_class", "class 'b' .* has 1 usable image"),
    ("bad_class", "class 'b' .* has 0 usable image"),
])
def test_unusable_folders_are_one_line_errors(tmp_path, bad, message):
    root = tmp_path / "data"
    if bad == "empty":
        root.mkdir()
    elif bad == "one_class":
        _folder(root, classes=("a",))
    elif bad == "tiny_class":
        _folder(root, classes=("a",))
        (root / "b").mkdir()
        _png(root / "b" / "0.png")
    elif bad == "bad_class":
        _folder(root, classes=("a",))
        (root / "b").mkdir()
        (root / "b" / "x.jpg").write_bytes(b"")
    with pytest.raises(ValueError, match=message) as err:
        scan(root, n_jobs=1)
    assert "\n" not in str(err.value) and str(root) in str(err.value) or bad == "missing"


def test_unicode_class_names_round_trip_exactly(tmp_path):
    names = ["café", "cafe\u0301", "日本語", "emoji 🐱", "Zebra"]
    root = _folder(tmp_path / "data", classes=names, n=2)
    ds = scan(root, n_jobs=1)
    assert list(ds.classes) == sorted(names)
    again = Dataset.from_json(ds.to_json())
    assert again.classes == ds.classes and again.fingerprint == ds.fingerprint
    assert again.sizes == ds.sizes == ((12, 10),) * len(ds)
    assert np.array_equal(again.labels, ds.labels) and again.paths == ds.paths


def test_csv_input_with_header_relative_paths_and_missing_files(tmp_path):
    root = _folder(tmp_path / "imgs")
    rows = ["path,label"] + [f"imgs/{c}/{i}.png,{c}" for c in "ab" for i in range(3)]
    rows.append("imgs/a/gone.png,a")
    (tmp_path / "labels.csv").write_text("\n".join(rows), encoding="utf-8")
    ds = scan(tmp_path / "labels.csv", n_jobs=1)
    assert ds.classes == ("a", "b") and len(ds) == 6
    assert [os.path.basename(s.path) for s in ds.skipped] == ["gone.png"]
    assert ds.fingerprint == scan(root, n_jobs=1).fingerprint  # same contents, same labels


def test_fingerprint_follows_content_and_labels_not_location(tmp_path):
    root = _folder(tmp_path / "one")
    first = scan(root, n_jobs=1)
    shutil.copytree(root, tmp_path / "two")
    assert scan(tmp_path / "two", n_jobs=1).fingerprint == first.fingerprint
    _png(tmp_path / "two" / "a" / "0.png", color=(1, 2, 3))
    assert scan(tmp_path / "two", n_jobs=1).fingerprint != first.fingerprint
    shutil.copytree(root, tmp_path / "three")
    os.replace(tmp_path / "three" / "a" / "0.png", tmp_path / "three" / "b" / "9.png")
    moved = scan(tmp_path / "three", n_jobs=1)
    assert moved.fingerprint != first.fingerprint        # a relabelled image is new data
    assert moved.cache_key != first.cache_key


def test_bad_csv_files_are_one_line_errors(tmp_path):
    _png(tmp_path / "photo.png")
    with pytest.raises(ValueError, match="photo.png' is not a UTF-8 CSV"):
        scan(tmp_path / "photo.png", n_jobs=1)
    (tmp_path / "empty.csv").write_text("path,label\n")
    with pytest.raises(ValueError, match="has no path,label rows"):
        scan(tmp_path / "empty.csv", n_jobs=1)
    (tmp_path / "short.csv").write_text("a.png\n")
    with pytest.raises(ValueError, match="row 1: expected 'path,label'"):
        scan(tmp_path / "short.csv", n_jobs=1)
