"""Images in: scanning and validation, decoding, splits, the decoded-image cache, transforms.

    from autopreset.data import scan, split, build_cache, preprocess
    ds = scan("photos/")                       # one sub-folder per class, or a path,label CSV
    train_idx, val_idx = split(ds, val_fraction=0.2, random_state=0)
    cache = build_cache(ds, 32)                # uint8 (N, 32, 32, 3) memmap, decoded once
    ds = scan("photos/", cache_resolution=32, progress=ProgressDisplay())   # one decode per image
    x = preprocess(["a.jpg"], 32, mean, std)   # the exact eval-time pixels, for predict()
"""
from ._cache import ImageCache, build_cache, cache_dir
from ._progress import ProgressCallback, ProgressDisplay
from ._decode import BACKGROUND, MAX_PIXELS, BadImageError, decode_image
from ._scan import Dataset, SkippedFile, fingerprint, scan
from ._split import cv_folds, split
from ._preprocessing import PREPROCESSING_FORMAT, Preprocessing
from ._transforms import (IMAGENET_MEAN, IMAGENET_STD, Augment, load_rgb, normalize, preprocess,
                          resize_uint8)

__all__ = [
    "Dataset", "SkippedFile", "scan", "fingerprint", "split", "cv_folds",
    "ImageCache", "build_cache", "cache_dir", "ProgressCallback", "ProgressDisplay",
    "BadImageError", "decode_image", "MAX_PIXELS", "BACKGROUND",
    "preprocess", "normalize", "resize_uint8", "load_rgb", "Augment",
    "Preprocessing", "PREPROCESSING_FORMAT",
    "IMAGENET_MEAN", "IMAGENET_STD",
]
