"""Image files made on the spot for tests: good ones in every awkward mode, and hostile ones."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def _save(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def gradient_rgb(w: int = 64, h: int = 48) -> Image.Image:
    x = np.linspace(0, 255, w, dtype=np.uint8)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h, dtype=np.uint8)[:, None].repeat(w, 1)
    return Image.fromarray(np.stack([x, y, 255 - x], -1))


def jpeg() -> bytes:
    return _save(gradient_rgb(), "JPEG", quality=95)


def big_jpeg() -> bytes:
    return _save(gradient_rgb(3000, 2000), "JPEG", quality=70)


def png_alpha() -> bytes:
    """A red square, fully transparent on its left half: it must come out white there."""
    rgba = np.zeros((40, 40, 4), dtype=np.uint8)
    rgba[..., 0] = 255
    rgba[:, 20:, 3] = 255
    return _save(Image.fromarray(rgba, "RGBA"), "PNG")


def palette_transparent_png() -> bytes:
    image = Image.new("P", (10, 10), 1)
    image.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    return _save(image, "PNG", transparency=1)  # every pixel transparent -> white


def la_png() -> bytes:
    return _save(Image.new("LA", (8, 8), (0, 0)), "PNG")  # black but transparent -> white


def cmyk_jpeg() -> bytes:
    return _save(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG")  # red


def gray16_png() -> bytes:
    """16-bit grayscale, left half 65535 and right half 32768: white and mid-grey, not clipped."""
    values = np.full((20, 20), 32768, dtype=np.uint16)
    values[:, :10] = 65535
    return _save(Image.fromarray(values), "PNG")


def exif_rotated_jpeg() -> bytes:
    """Stored 60 wide × 30 high with orientation 6 (turn 90° clockwise): shown 30 × 60."""
    image = gradient_rgb(60, 30)
    exif = Image.Exif()
    exif[0x0112] = 6
    return _save(image, "JPEG", exif=exif.tobytes())


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (20, 20), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def truncated_jpeg() -> bytes:
    data = jpeg()
    return data[: len(data) // 3]


def text_as_png() -> bytes:
    return b"This is not an image, whatever its name says.\n"


def bomb_png(side: int = 30_000) -> bytes:
    """A tiny PNG whose header claims side × side pixels (900 million for the default)."""
    data = _save(Image.new("1", (8, 8)), "PNG")
    ihdr = data.index(b"IHDR")
    fields = struct.pack(">II", side, side) + data[ihdr + 12 : ihdr + 17]
    chunk = b"IHDR" + fields
    return data[:ihdr] + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[ihdr + 21 :]


GOOD = {
    "photo.jpg": jpeg,
    "alpha.png": png_alpha,
    "gray16.png": gray16_png,
    "rotated.jpg": exif_rotated_jpeg,
    "animated.gif": animated_gif,
}
BAD = {
    "empty.png": lambda: b"",
    "truncated.jpg": truncated_jpeg,
    "notes.png": text_as_png,
    "bomb.png": bomb_png,
    "too-big.png": lambda: bomb_png(8_000),
}
