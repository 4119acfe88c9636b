"""The one definition of how pixels reach a model, for training and for prediction alike.

Eval-time preprocessing is: decode (:func:`decode_image`: RGB, EXIF, alpha, bit depth) ->
resize the whole image to ``input_size x input_size`` (Pillow's bilinear, antialiased; aspect
not kept, no crop, so objects near the border are kept) -> divide by 255 -> normalize by
``mean``/``std``. A saved model records these steps and their settings as data
(:class:`autopreset.data.Preprocessing`, model.json's ``preprocessing``), and prediction runs
them from that record through the functions here.
The decoded-image cache stores the output of the first two steps, so the trainer's
validation pass and a saved model's ``predict`` (which calls :func:`preprocess`) see
bit-identical inputs.

Training augmentation (:class:`Augment`) works on whole batches of tensors: a timm-style
random resized crop (area scale and aspect ratio drawn per image) and a horizontal flip,
done as one batched affine resampling, so it costs little beside the model.
"""
from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
from PIL import Image

from autopreset.errors import InputError

from ._decode import BACKGROUND, decode_image, to_rgb

__all__ = ["preprocess", "resize_uint8", "normalize", "normalization", "Augment", "load_rgb",
           "INTERPOLATIONS", "DEFAULT_INTERPOLATION", "PIXEL_SCALE"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Resampling filters a resize may use, by the name a preprocessing record gives (Pillow's).
INTERPOLATIONS = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
                  "bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS,
                  "box": Image.Resampling.BOX, "hamming": Image.Resampling.HAMMING}
#: The filter the image cache (training) and prediction use.
DEFAULT_INTERPOLATION = "bilinear"
#: uint8 pixels are divided by this before ``mean``/``std`` (to [0, 1]).
PIXEL_SCALE = 255.0


def load_rgb(image, *, background: tuple[int, int, int] = BACKGROUND) -> Image.Image:
    """A path, PIL image or uint8 array (HxW or HxWx{1,3,4}) as a normalized RGB image
    (transparency composited on ``background``)."""
    if isinstance(image, (str, os.PathLike)):
        return decode_image(image, background=background)
    if isinstance(image, Image.Image):
        return to_rgb(image, background=background)
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.dtype != np.uint8:
        raise InputError(f"image arrays must be uint8, got dtype {arr.dtype}")
    return to_rgb(Image.fromarray(arr), background=background)


def resize_uint8(image: Image.Image, input_size: int | tuple[int, int],
                 interpolation: str = DEFAULT_INTERPOLATION) -> np.ndarray:
    """Resize an RGB image to ``input_size`` (square, or ``(height, width)``) with Pillow's
    ``interpolation`` filter (antialiased when shrinking), aspect not kept; uint8 HxWx3."""
    height, width = (input_size, input_size) if isinstance(input_size, int) else input_size
    if image.size != (width, height):
        image = image.resize((width, height), INTERPOLATIONS[interpolation])
    return np.asarray(image, dtype=np.uint8)


def normalization(mean: Sequence[float], std: Sequence[float],
                  divide_by: float = PIXEL_SCALE) -> tuple[list[float], list[float]]:
    """``(offset, factor)`` per channel such that ``(pixel - offset) * factor`` equals
    ``(pixel / divide_by - mean) / std``: the one formula training, prediction and an exported
    graph with preprocessing apply."""
    return ([divide_by * float(v) for v in mean], [1.0 / (divide_by * float(v)) for v in std])


def normalize(batch, mean: Sequence[float], std: Sequence[float], *,
              divide_by: float = PIXEL_SCALE):
    """uint8 or float (0..255) NHWC/NCHW tensor -> float32 NCHW, normalized, channels_last."""
    import torch

    if batch.dtype == torch.uint8 and batch.shape[-1] == 3 and batch.shape[1] != 3:
        batch = batch.permute(0, 3, 1, 2)          # NHWC storage == channels_last NCHW
    x = batch.float()
    offset, factor = normalization(mean, std, divide_by)
    m = torch.tensor(offset, device=x.device).view(1, 3, 1, 1)
    s = torch.tensor(factor, device=x.device).view(1, 3, 1, 1)
    x = (x - m) * s
    return x.contiguous(memory_format=torch.channels_last)


def preprocess(images, input_size: int | tuple[int, int], mean: Sequence[float] = IMAGENET_MEAN,
               std: Sequence[float] = IMAGENET_STD, *,
               interpolation: str = DEFAULT_INTERPOLATION,
               background: tuple[int, int, int] = BACKGROUND, divide_by: float = PIXEL_SCALE):
    """Eval-time preprocessing of a list of images (paths, PIL images or uint8 arrays).

    Returns a float32 tensor of shape (N, 3, height, width), channels_last. A saved model's
    :class:`~autopreset.data.Preprocessing` calls this with its recorded settings.
    """
    import torch

    if isinstance(images, (str, os.PathLike, Image.Image)):
        images = [images]
    arrays = [resize_uint8(load_rgb(im, background=background), input_size, interpolation)
              for im in images]
    if not arrays:
        raise InputError("preprocess() got no images")
    return normalize(torch.from_numpy(np.stack(arrays)), mean, std, divide_by=divide_by)


class Augment:
    """Batched random resized crop + horizontal flip on uint8 NHWC tensors.

    ``scale`` is the range of the crop's area fraction and ``ratio`` of its aspect ratio
    (as in timm's RandomResizedCrop; the scale floor defaults to 0.25 rather than 0.08
    because the small working resolutions here leave little to crop). ``flip=False`` for
    data where mirroring changes the class (digits, text). Randomness comes from the
    ``numpy.random.Generator`` passed to each call, so a resumed trial can replay it.
    """

    def __init__(self, *, scale: tuple[float, float] = (0.25, 1.0),
                 ratio: tuple[float, float] = (3 / 4, 4 / 3), flip: bool = True):
        if not 0.0 < scale[0] <= scale[1] <= 1.0:
            raise InputError(f"scale must satisfy 0 < low <= high <= 1, got {scale!r}")
        self.scale, self.ratio, self.flip = tuple(scale), tuple(ratio), bool(flip)

    def __call__(self, batch, rng: np.random.Generator):
        """uint8 NHWC batch -> augmented float NCHW batch in 0..255 (same size)."""
        import torch
        import torch.nn.functional as F

        n = batch.shape[0]
        x = batch.permute(0, 3, 1, 2).float()
        if self.scale == (1.0, 1.0) and self.ratio[0] == self.ratio[1] == 1.0:
            if not self.flip:
                return x
            mirror = torch.from_numpy(rng.random(n) < 0.5).to(x.device).view(n, 1, 1, 1)
            return torch.where(mirror, x.flip(-1), x)         # exact pixels, no resampling
        area = rng.uniform(self.scale[0], self.scale[1], n)
        log_r = rng.uniform(math.log(self.ratio[0]), math.log(self.ratio[1]), n)
        aspect = np.exp(log_r)
        w = np.minimum(np.sqrt(area * aspect), 1.0)
        h = np.minimum(np.sqrt(area / aspect), 1.0)
        cx = rng.uniform(-1.0, 1.0, n) * (1.0 - w)
        cy = rng.uniform(-1.0, 1.0, n) * (1.0 - h)
        sign = np.where(rng.random(n) < 0.5, -1.0, 1.0) if self.flip else np.ones(n)
        theta = np.zeros((n, 2, 3), dtype=np.float32)
        theta[:, 0, 0] = w * sign
        theta[:, 0, 2] = cx
        theta[:, 1, 1] = h
        theta[:, 1, 2] = cy
        theta_t = torch.from_numpy(theta).to(x.device)
        grid = F.affine_grid(theta_t, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border",
                             align_corners=False)
