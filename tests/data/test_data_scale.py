"""The data path at scale: progress callbacks, each file decoded once into the cache, bad files
left out of it with their reasons, and the cache written in chunks (memory stays bounded)."""
from __future__ import annotations

import io
import os
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image

from autopreset.data import ProgressDisplay, build_cache, decode_image, resize_uint8, scan
from autopreset.pipeline import prepare_data


def _tiny_folder(root, n_per_class=150, classes=("a", "b")):
    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(n_per_class):
            arr = rng.integers(0, 255, (6 + i % 5, 8 + i % 3, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / c / f"{i:03d}.png", compress_level=0)
    return root


def _bomb_png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    i = data.index(b"IHDR")
    data[i + 4:i + 12] = struct.pack(">II", 100_000, 100_000)
    data[i + 17:i + 21] = struct.pack(">I", zlib.crc32(bytes(data[i:i + 17])) & 0xFFFFFFFF)
    return bytes(data)


def _bad_files(root):
    """One of each kind, first, in the middle and last of the scan's order."""
    jpeg = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (40, 40, 3), np.uint8)).save(
        jpeg, format="JPEG")
    (root / "a" / "000-truncated.jpg").write_bytes(jpeg.getvalue()[:300])
    (root / "a" / "075-empty.jpg").write_bytes(b"")
    (root / "b" / "050-notes.jpg").write_text("a text file, not an image")
    (root / "b" / "zzz-bomb.png").write_bytes(_bomb_png())
    return {"000-truncated.jpg": "truncated or corrupt image",
            "075-empty.jpg": "empty file (0 bytes)",
            "050-notes.jpg": "not an image",
            "zzz-bomb.png": "image too large to decode safely"}


def test_progress_counts_grow_to_the_total_and_the_cache_is_filled_by_the_scan(tmp_path):
    root = _tiny_folder(tmp_path / "d")            # 300 images: two chunks
    expected = _bad_files(root)
    calls = []
    ds = scan(root, n_jobs=2, cache_resolution=8, cache_directory=tmp_path / "c",
              progress=lambda stage, done, total: calls.append((stage, done, total)))
    total = 300 + len(expected)
    assert {c[0] for c in calls} == {"scan"} and {c[2] for c in calls} == {total}
    done = [c[1] for c in calls]
    assert done[0] == 0 and done[-1] == total and len(done) >= 3
    assert all(a < b for a, b in zip(done, done[1:]))
    reasons = {os.path.basename(s.path): s.reason for s in ds.skipped}
    assert set(reasons) == set(expected)
    for name, start in expected.items():
        assert reasons[name].startswith(start), (name, reasons[name])
    # the cache the scan wrote holds exactly the good images, in the dataset's order
    again = []
    cache = build_cache(ds, 8, directory=tmp_path / "c",
                        progress=lambda *a: again.append(a))
    assert again == []                               # found: nothing decoded a second time
    images = cache.open()
    assert images.shape == (300, 8, 8, 3)
    want = np.stack([resize_uint8(decode_image(p), 8) for p in ds.paths])
    assert np.array_equal(images, want)
    assert ds.fingerprint == scan(root, n_jobs=1).fingerprint


def test_prepare_data_decodes_each_image_once(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOPRESET_CACHE", str(tmp_path / "c"))
    root = _tiny_folder(tmp_path / "d", n_per_class=20)
    calls = []
    d = prepare_data(root, seed=0, n_jobs=1,
                     progress=lambda stage, done, total: calls.append((stage, done, total)))
    assert {c[0] for c in calls} == {"scan"} and calls[-1] == ("scan", 40, 40)
    assert d.resolution == 32 and d.cache.open().shape == (40, 32, 32, 3)
    assert d.n_train + d.n_val == 40


def test_cache_build_is_chunked_so_memory_stays_bounded(tmp_path, monkeypatch):
    root = _tiny_folder(tmp_path / "d", n_per_class=200)           # 400 images
    ds = scan(root, n_jobs=1)
    side, chunk = 32, 16
    row = side * side * 3
    writes = []
    real_pwrite = os.pwrite

    def pwrite(fd, data, offset):
        writes.append((len(memoryview(data).cast("B")), offset))
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", pwrite)
    steps = []
    tracemalloc.start()
    try:
        cache = build_cache(ds, side, directory=tmp_path / "c", n_jobs=1, chunk_size=chunk,
                            progress=lambda stage, done, total: steps.append(done))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rows = [w for w in writes if w[0] % row == 0 and w[0] > 0]
    assert max(n for n, _ in rows) == chunk * row                    # one chunk per write
    assert sum(n for n, _ in rows) == len(ds) * row                  # every row once
    assert len({o for _, o in rows}) == len(rows)
    assert max(b - a for a, b in zip(steps, steps[1:])) == chunk
    assert peak < len(ds) * row / 4        # never all decoded rows in memory (1.2 MB here)
    assert np.array_equal(cache.open()[17], resize_uint8(decode_image(ds.paths[17]), side))


def test_progress_display_prints_plain_lines_off_a_terminal():
    out = io.StringIO()
    show = ProgressDisplay(out)
    for done in range(0, 1001, 50):
        show("scan", done, 1000)
    lines = out.getvalue().splitlines()
    assert len(lines) == 11
    assert lines[0].startswith("checking images: 0/1,000 files (0%)")
    assert lines[-1].startswith("checking images: 1,000/1,000 files (100%)")
    assert "files/s" in lines[-1]


def test_scan_refuses_a_bad_cache_resolution(tmp_path):
    root = _tiny_folder(tmp_path / "d", n_per_class=2)
    with pytest.raises(ValueError, match="resolution must be a positive integer"):
        scan(root, cache_resolution=0, cache_directory=tmp_path / "c")
    assert not (tmp_path / "c").exists()          # refused before anything was written


def test_a_rescan_decodes_only_the_files_that_changed(tmp_path, monkeypatch):
    root = _tiny_folder(tmp_path / "d", n_per_class=10)
    opened = []
    real_open = Image.open

    def counting_open(fp, *args, **kwargs):
        opened.append(str(fp))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    first = scan(root, n_jobs=1, cache_resolution=8, cache_directory=tmp_path / "c")
    assert len(opened) == 20
    opened.clear()
    again = scan(root, n_jobs=1, cache_resolution=8, cache_directory=tmp_path / "c")
    assert opened == [] and again.fingerprint == first.fingerprint      # nothing decoded
    assert again.paths == first.paths and again.sizes == first.sizes
    (root / "a" / "003.png").write_text("no longer an image")           # content changed
    opened.clear()
    plain = scan(root, n_jobs=1, cache_directory=tmp_path / "c")
    assert opened == [str(root / "a" / "003.png")]
    assert [os.path.basename(s.path) for s in plain.skipped] == ["003.png"]
    assert plain.skipped[0].reason.startswith("not an image")
    assert plain.fingerprint != first.fingerprint and len(plain) == 19
