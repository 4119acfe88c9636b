"""Decoding normalizes every image kind to the same 8-bit RGB, without clipping or rotation errors."""
from __future__ import annotations

import numpy as np
from PIL import Image

from autopreset.data import BACKGROUND, decode_image


def test_exif_orientation_is_applied(tmp_path):
    arr = np.zeros((10, 20, 3), np.uint8)
    arr[:, :10] = (255, 0, 0)                      # left half red, right half blue
    arr[:, 10:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6                               # stored rotated: display turned 90 deg CW
    Image.fromarray(arr).save(tmp_path / "r.jpg", exif=exif, quality=100)
    out = np.asarray(decode_image(tmp_path / "r.jpg"))
    assert out.shape == (20, 10, 3)
    assert out[2, 5, 0] > 200 and out[2, 5, 2] < 60     # red ends up on top
    assert out[17, 5, 2] > 200 and out[17, 5, 0] < 60   # blue at the bottom


def test_alpha_is_composited_on_the_fixed_background(tmp_path):
    arr = np.zeros((4, 4, 4), np.uint8)
    arr[..., 0] = 255
    arr[0, 0, 3] = 0          # transparent red -> background
    arr[1, 1, 3] = 255        # opaque red stays red
    arr[2, 2, 3] = 128        # half-transparent red -> halfway to background
    Image.fromarray(arr, "RGBA").save(tmp_path / "a.png")
    out = np.asarray(decode_image(tmp_path / "a.png")).astype(int)
    assert tuple(out[0, 0]) == BACKGROUND
    assert tuple(out[1, 1]) == (255, 0, 0)
    assert abs(out[2, 2, 1] - 127) <= 2 and out[2, 2, 0] == 255


def test_16_bit_grey_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257 * 64, 257 * 128, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode.startswith("I")
    out = np.asarray(decode_image(tmp_path / "g16.png"))
    assert out.shape == (1, 4, 3) and out.dtype == np.uint8
    assert out[0, :, 0].tolist() == [0, 64, 128, 255]
    assert (out[..., 0] == out[..., 2]).all()


def test_cmyk_palette_grey_and_bilevel_become_rgb(tmp_path):
    Image.new("CMYK", (5, 5), (0, 255, 255, 0)).save(tmp_path / "c.jpg")
    pal = Image.new("P", (5, 5))
    pal.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    pal.putpixel((0, 0), 1)
    pal.save(tmp_path / "p.png")
    transparent = pal.copy()
    transparent.info["transparency"] = 0
    transparent.save(tmp_path / "pt.png", transparency=0)
    Image.new("L", (5, 5), 77).save(tmp_path / "l.png")
    Image.new("1", (5, 5), 1).save(tmp_path / "b.png")
    cmyk = np.asarray(decode_image(tmp_path / "c.jpg"))
    assert cmyk[2, 2, 0] > 200 and cmyk[2, 2, 1] < 60        # cyan+yellow off -> red
    p = np.asarray(decode_image(tmp_path / "p.png"))
    assert tuple(p[0, 0]) == (0, 200, 0) and tuple(p[1, 1]) == (0, 0, 0)
    pt = np.asarray(decode_image(tmp_path / "pt.png"))
    assert tuple(pt[1, 1]) == BACKGROUND and tuple(pt[0, 0]) == (0, 200, 0)
    assert tuple(np.asarray(decode_image(tmp_path / "l.png"))[0, 0]) == (77, 77, 77)
    assert tuple(np.asarray(decode_image(tmp_path / "b.png"))[0, 0]) == (255, 255, 255)
    for name in ("c.jpg", "p.png", "pt.png", "l.png", "b.png"):
        assert decode_image(tmp_path / name).mode == "RGB"


def test_animated_gif_uses_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (6, 6), c) for c in [(255, 0, 0), (0, 0, 255)]]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    out = np.asarray(decode_image(tmp_path / "anim.gif"))
    assert out[0, 0, 0] > 200 and out[0, 0, 2] < 60


def test_a_malformed_exif_block_keeps_the_image(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 99                              # not a valid orientation
    Image.new("RGB", (8, 4), (10, 20, 30)).save(tmp_path / "e.jpg", exif=exif, quality=100)
    out = decode_image(tmp_path / "e.jpg")
    assert out.size == (8, 4) and out.mode == "RGB"
