"""Stratified seeded splits, the decoded-image cache, and the shared preprocessing."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

from autopreset.data import Augment, build_cache, cache_dir, cv_folds, preprocess, scan, split


def test_split_is_stratified_seeded_and_a_partition():
    labels = np.repeat([0, 1, 2], [50, 20, 3])
    tr, va = split(labels, val_fraction=0.2, random_state=7)
    assert np.array_equal(np.sort(np.concatenate([tr, va])), np.arange(len(labels)))
    assert np.bincount(labels[va]).tolist() == [10, 4, 1]
    tr2, va2 = split(labels, val_fraction=0.2, random_state=7)
    assert np.array_equal(va, va2)
    _, va3 = split(labels, val_fraction=0.2, random_state=8)
    assert not np.array_equal(va, va3)
    _, va4 = split(labels, val_fraction=0.2, random_state=np.random.default_rng(7))
    assert np.array_equal(va, va4)


def test_split_errors_name_the_class_or_value():
    with pytest.raises(ValueError, match="class 1 has 1 image"):
        split(np.array([0, 0, 0, 1]))
    with pytest.raises(ValueError, match="val_fraction"):
        split(np.array([0, 0, 1, 1]), val_fraction=1.5)
    with pytest.raises(ValueError, match="class 1 has 2 image.*3-fold"):
        cv_folds(np.array([0, 0, 0, 1, 1]), n_folds=3)


def test_cv_folds_cover_each_index_once_and_stay_stratified():
    labels = np.repeat([0, 1], [9, 6])
    folds = cv_folds(labels, n_folds=3, random_state=0)
    val = np.concatenate([v for _, v in folds])
    assert sorted(val.tolist()) == list(range(15))
    for tr, va in folds:
        assert not set(tr) & set(va)
        assert np.bincount(labels[va]).tolist() == [3, 2]


@pytest.fixture()
def photos(tmp_path):
    rng = np.random.default_rng(0)
    for c in ("x", "y"):
        (tmp_path / "d" / c).mkdir(parents=True)
        for i in range(4):
            arr = rng.integers(0, 255, (13 + i, 17, 3), dtype=np.uint8)
            Image.fromarray(arr).save(tmp_path / "d" / c / f"{i}.png")
    (tmp_path / "d" / "x" / "rgba.png").unlink(missing_ok=True)
    Image.fromarray(rng.integers(0, 255, (9, 9, 4), dtype=np.uint8), "RGBA").save(
        tmp_path / "d" / "x" / "rgba.png")
    return scan(tmp_path / "d", n_jobs=1)


def test_cache_holds_exactly_the_eval_preprocessing_pixels(photos, tmp_path):
    cache = build_cache(photos, 12, directory=tmp_path / "c", n_jobs=1)
    images = cache.open()
    assert images.shape == (9, 12, 12, 3) and images.dtype == np.uint8
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    x = preprocess(list(photos.paths), 12, mean, std)
    assert x.shape == (9, 3, 12, 12) and x.is_contiguous(memory_format=torch.channels_last)
    back = x.permute(0, 2, 3, 1).numpy() * np.array(std) + np.array(mean)
    np.testing.assert_allclose(back * 255, images, atol=1e-3)
    pil = [Image.open(p) for p in photos.paths]
    assert torch.equal(preprocess(pil, 12, mean, std), x)


def test_cache_is_reused_and_found_through_the_environment(photos, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOPRESET_CACHE", str(tmp_path / "envcache"))
    assert cache_dir() == tmp_path / "envcache"
    first = build_cache(photos, 8, n_jobs=1)
    assert first.path.startswith(str(tmp_path / "envcache"))
    stamp = os.stat(first.path).st_mtime_ns
    again = build_cache(photos, 8, n_jobs=1)
    assert again == first and os.stat(again.path).st_mtime_ns == stamp
    other = build_cache(photos, 10, n_jobs=1)
    assert other.path != first.path and other.open().shape[1] == 10
    assert not [p for p in os.listdir(tmp_path / "envcache" / "images") if ".tmp" in p]


def test_augment_identity_flip_and_seeded_crops():
    batch = torch.arange(2 * 6 * 6 * 3, dtype=torch.uint8).reshape(2, 6, 6, 3)
    ref = batch.permute(0, 3, 1, 2).float()
    ident = Augment(scale=(1.0, 1.0), ratio=(1.0, 1.0), flip=False)
    torch.testing.assert_close(ident(batch, np.random.default_rng(0)), ref)
    flip = Augment(scale=(1.0, 1.0), ratio=(1.0, 1.0), flip=True)
    out = flip(batch, np.random.default_rng(1))
    for i in range(2):
        assert (torch.allclose(out[i], ref[i], atol=1e-3)
                or torch.allclose(out[i], ref[i].flip(-1), atol=1e-3))
    crops = Augment(scale=(0.3, 0.6))
    a = crops(batch, np.random.default_rng(5))
    b = crops(batch, np.random.default_rng(5))
    assert torch.equal(a, b) and a.shape == ref.shape and not torch.allclose(a, ref)
    with pytest.raises(ValueError, match="scale"):
        Augment(scale=(0.0, 1.0))


def test_preprocess_accepts_arrays_of_any_channel_count_and_rejects_other_dtypes():
    grey = np.full((5, 7), 128, np.uint8)
    rgba = np.zeros((5, 7, 4), np.uint8)
    x = preprocess([grey, grey[..., None], rgba], 4, (0.5,) * 3, (0.5,) * 3)
    assert x.shape == (3, 3, 4, 4)
    torch.testing.assert_close(x[0], x[1])
    torch.testing.assert_close(x[2], torch.ones_like(x[2]))   # transparent -> white -> +1
    with pytest.raises(ValueError, match="uint8"):
        preprocess([grey.astype(np.float32)], 4)


def test_relative_paths_are_made_absolute(photos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ds = scan("d", n_jobs=1)
    assert all(os.path.isabs(p) for p in ds.paths) and ds.fingerprint == photos.fingerprint
