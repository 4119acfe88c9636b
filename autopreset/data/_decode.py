"""Decode one image file to a normalized RGB ``PIL.Image``, or say why it cannot be.

Real photo folders hold files that crash naive loaders: empty files, text files with an image
extension, truncated downloads, absurdly large images (decompression bombs), 16-bit scans,
CMYK print files, palette GIFs and transparent PNGs. :func:`decode_image` turns each readable
file into the same thing, an 8-bit RGB image, with these rules (fixed, so training and
prediction see identical pixels):

* EXIF orientation is applied (phones store portrait photos rotated).
* Transparency is composited on a background colour, white (``BACKGROUND``) unless a saved
  model's preprocessing record says otherwise.
* 16-bit and 32-bit grey images are scaled to 8 bit (divided, not clipped).
* CMYK, palette, grey, YCbCr, LAB and HSV images are converted to RGB.
* Multi-frame files (animated GIF, TIFF stacks) use their first frame.
* Images whose header declares more than ``max_pixels`` pixels are rejected before any pixel
  is decoded, so a tiny file cannot claim gigabytes of memory.

Unreadable files raise :class:`BadImageError` with a one-line reason.
"""
from __future__ import annotations

import os
import stat
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from autopreset.errors import InputError

__all__ = ["BadImageError", "decode_image", "MAX_PIXELS", "BACKGROUND"]

#: Largest image accepted, in pixels (from the header). 64 Mpx is beyond any camera photo
#: that a classifier needs, and decodes in about 200 MB of RGB memory.
MAX_PIXELS = 64_000_000

#: Background that transparent pixels are composited on.
BACKGROUND = (255, 255, 255)


class BadImageError(InputError):
    """A file that cannot be used as an image; ``str(err)`` is the reason."""


def decode_image(path: str | os.PathLike, *, max_pixels: int = MAX_PIXELS,
                 background: tuple[int, int, int] = BACKGROUND) -> Image.Image:
    """Fully decode ``path`` into an 8-bit RGB image (transparency composited on
    ``background``), or raise :class:`BadImageError`."""
    try:
        st = os.stat(path)
    except OSError as err:
        raise BadImageError(_os_reason(err)) from None
    if not stat.S_ISREG(st.st_mode):   # a FIFO or device would block or never end
        raise BadImageError("not a regular file")
    if st.st_size == 0:
        raise BadImageError("empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            # Pillow warns (then errors) on large images itself; we check the header first.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                width, height = im.size
                if width * height > max_pixels:
                    raise BadImageError(
                        f"image too large to decode safely: {width}x{height} pixels "
                        f"(limit {max_pixels})")
                im.seek(0)
                im.load()
                return to_rgb(im, background=background)
    except BadImageError:
        raise
    except UnidentifiedImageError:
        raise BadImageError("not an image (format not recognised)") from None
    except Image.DecompressionBombError as err:
        raise BadImageError(f"image too large to decode safely: {err}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        if isinstance(err, OSError) and err.errno is not None:
            raise BadImageError(_os_reason(err)) from None
        raise BadImageError(f"truncated or corrupt image: {_first_line(err)}") from None
    except MemoryError:
        raise BadImageError("image too large to decode: out of memory") from None
    except Exception as err:  # noqa: BLE001 - a decoder bug on one file must not end a scan
        raise BadImageError(f"corrupt image ({type(err).__name__}: {_first_line(err)})") from None


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:200] if text else type(err).__name__


def to_rgb(im: Image.Image, *, background: tuple[int, int, int] = BACKGROUND) -> Image.Image:
    """Normalize a loaded image to 8-bit RGB (see the module docstring for the rules);
    transparent pixels are composited on ``background``."""
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:  # noqa: BLE001 - a malformed EXIF block keeps the stored orientation
        pass
    mode = im.mode
    if mode == "RGB":
        return im.copy() if im.readonly else im
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return Image.fromarray(_scale_to_uint8(im), mode="L").convert("RGB")
    if mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return _composite(im, background)
    if mode in ("L", "1") and "transparency" in im.info:
        return _composite(im, background)
    return im.convert("RGB")


def _composite(im: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    rgba = im.convert("RGBA")
    under = Image.new("RGBA", rgba.size, tuple(background) + (255,))
    return Image.alpha_composite(under, rgba).convert("RGB")


def _scale_to_uint8(im: Image.Image) -> np.ndarray:
    """Scale a high-bit-depth grey image into 0..255 by its type's range (never clip)."""
    arr = np.asarray(im)
    if im.mode == "F":
        arr = arr.astype(np.float64)
        top = 1.0 if np.nanmax(arr, initial=0.0) <= 1.0 else 65535.0
        arr = np.nan_to_num(arr, nan=0.0)
        return np.rint(np.clip(arr / top, 0.0, 1.0) * 255.0).astype(np.uint8)
    arr = arr.astype(np.int64)
    top = 65535 if arr.max(initial=0) <= 65535 else 2**32 - 1
    arr = np.clip(arr, 0, None)
    return np.rint(arr * (255.0 / top)).astype(np.uint8)


def _os_reason(err: OSError) -> str:
    import errno

    if err.errno == errno.ELOOP:
        return "symlink loop"
    if err.errno == errno.ENOENT:
        return "file not found (or broken symlink)"
    if err.errno == errno.EACCES:
        return "permission denied"
    if err.errno == errno.EISDIR:
        return "is a directory"
    return f"cannot read file: {err.strerror or err}"
