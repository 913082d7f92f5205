"""The one way photos from users enter the app: decoded safely, always ending as RGB.

Pillow runs behind an allow-list of formats; an image whose header claims more than
MAX_DECODE_PIXELS is refused before decoding (a decompression bomb), big photos are
scaled down to MAX_PIXELS, EXIF orientation is applied, every mode becomes RGB without
clipping, and animations give their first frame. Every failure is an ImageInputError.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from cnnlab.assets import ASSETS
from cnnlab.errors import LessonInputError

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")
MAX_BYTES = 20 * 1024 * 1024  # the same as server.maxUploadSize
MAX_DECODE_PIXELS = 40_000_000  # refuse beyond this: about a 7300 × 5500 photo
MAX_PIXELS = 1_000_000  # scale down beyond this: lessons and models need no more
MAX_ASPECT = 32  # longer side / shorter side: a 4000 × 1 "picture" would scale to a 1-pixel line
HIGH_DEPTH_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")  # scaled before any float conversion
QUARTER_TURNS = (5, 6, 7, 8)  # EXIF orientations that swap width and height
BACKGROUND = (255, 255, 255)  # transparent pixels are shown on white


class ImageInputError(LessonInputError):
    """A file that is not a usable image; the message says why, in the session's language."""


@dataclass
class LoadedImage:
    """An RGB image ready for the lessons, with what was done to it (catalog keys + values)."""

    image: Image.Image
    original_size: tuple[int, int]
    notes: list[tuple[str, dict]] = field(default_factory=list)
    digest: str = ""  # SHA-1 of the RGB pixels: the key under which results for this picture are cached


def load_image(data: bytes, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Bytes of an uploaded file -> an RGB PIL image of at most max_pixels pixels."""
    if not data:
        raise ImageInputError("image.error.empty")
    if len(data) > MAX_BYTES:
        raise ImageInputError("image.error.too_many_bytes", mb=MAX_BYTES // (1024 * 1024))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = image.size
            if width * height > MAX_DECODE_PIXELS:
                raise ImageInputError(
                    "image.error.too_many_pixels", width=width, height=height, limit=MAX_DECODE_PIXELS
                )
            check_aspect_size(width, height)
            notes = []
            frames = getattr(image, "n_frames", 1)
            if frames > 1:
                image.seek(0)
                notes.append(("image.note.first_frame", {"count": frames}))
            if image.format == "JPEG" and width * height > max_pixels:
                image.draft("RGB", _fit((width, height), max_pixels))  # decode at a reduced scale
            image.load()
            orientation = _orientation(image)
            image = ImageOps.exif_transpose(image)
            if image.mode in HIGH_DEPTH_MODES and image.width * image.height > max_pixels:
                # 16-bit and float pictures become float64 arrays in to_rgb: shrink them first, in their own mode
                image = image.resize(_fit(image.size, max_pixels), Image.Resampling.BOX)
            rgb = to_rgb(image)
            if orientation not in (None, 1):
                notes.append(("image.note.rotated", {}))
    except ImageInputError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageInputError("image.error.bomb") from None
    except Image.UnidentifiedImageError:
        raise ImageInputError("image.error.unsupported", formats=", ".join(FORMATS)) from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, MemoryError):
        raise ImageInputError("image.error.broken") from None
    original = (height, width) if orientation in QUARTER_TURNS else (width, height)
    if rgb.width * rgb.height > max_pixels:
        rgb = rgb.resize(_fit(rgb.size, max_pixels), Image.Resampling.LANCZOS, reducing_gap=2.0)  # box first: 3× faster
    if rgb.size != original:
        notes.append(
            ("image.note.scaled", {"from_w": original[0], "from_h": original[1], "to_w": rgb.width, "to_h": rgb.height})
        )
    return LoadedImage(rgb, original, notes, hashlib.sha1(rgb.tobytes()).hexdigest())


def check_aspect_size(width: int, height: int) -> None:
    """ImageInputError if one side is more than MAX_ASPECT times the other: such a strip scales to a
    1-pixel line, or, with the shorter side scaled up for a network, to gigabytes."""
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageInputError("image.error.aspect", width=width, height=height, ratio=MAX_ASPECT)


def _orientation(image: Image.Image) -> int | None:
    try:
        return image.getexif().get(0x0112)
    except Exception:  # a broken EXIF block must not stop an otherwise good photo
        return None


def _fit(size: tuple[int, int], max_pixels: int) -> tuple[int, int]:
    """The largest size with the same aspect ratio and at most max_pixels pixels."""
    w, h = size
    scale = min(1.0, (max_pixels / (w * h)) ** 0.5)
    return max(1, int(w * scale)), max(1, int(h * scale))


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB: transparency flattened on white, 16/32-bit and float scaled to 0–255."""
    mode = image.mode
    if mode == "RGB":
        return image.copy()
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or values.max() <= 65535 else values.max()
        if mode == "I" and values.max() <= 255:
            top = 255.0
        return _gray_to_rgb(values / top)
    if mode == "F":
        values = np.asarray(image, dtype=np.float64)
        lo, hi = np.nanmin(values), np.nanmax(values)
        return _gray_to_rgb((values - lo) / (hi - lo) if hi > lo else np.zeros_like(values))
    if mode == "P" and "transparency" in image.info or mode in ("LA", "La", "RGBa", "PA"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        canvas = Image.new("RGB", image.size, BACKGROUND)
        canvas.paste(image, mask=image.getchannel("A"))
        return canvas
    return image.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV


def _gray_to_rgb(unit: np.ndarray) -> Image.Image:
    gray = np.clip(np.nan_to_num(unit) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(gray).convert("RGB")


def to_gray(image: Image.Image) -> np.ndarray:
    """RGB image -> (H, W) float luminance in [0, 1] (ITU-R 601, as Pillow's 'L')."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    return rgb @ np.array([0.299, 0.587, 0.114])


SAMPLES_DIR = ASSETS / "samples"


def sample_images() -> dict[str, Path]:
    """name -> file of the bundled sample images (licences in assets/samples/LICENSES.md)."""
    return {p.stem: p for p in sorted(SAMPLES_DIR.iterdir()) if p.suffix in (".jpg", ".png")}
