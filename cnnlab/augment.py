"""Data augmentation by name, reproducible by seed: torchvision's transforms.v2 functionals plus fog and rain.

Every random choice is drawn from a torch.Generator that belongs to the call, never from torch's
global generator: a server trains several networks in threads at once, and a shared generator
would make one student's augmentation depend on another's. The parameters drawn are returned with
the picture, so a page can print what each version had done to it.

Pictures are float tensors (3, H, W) in [0, 1]; batches (N, 3, H, W).
The transforms follow the notes' four groups: geometric, colour, noise/occlusion, weather.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torchvision.transforms.v2.functional as F
from PIL import Image, ImageDraw

from cnnlab.errors import LessonInputError

GROUPS = {
    "geometric": ("hflip", "vflip", "rotation", "crop", "perspective"),
    "colour": ("color_jitter", "grayscale", "blur"),
    "noise": ("noise", "erasing"),
    "weather": ("fog", "rain"),
}
TRANSFORMS = tuple(name for names in GROUPS.values() for name in names)
MAX_SIDE = 512  # pictures are augmented at most this large: the grid shows them at a few hundred pixels


@dataclass(frozen=True)
class Applied:
    """One transform as it was applied: its name and the parameters drawn for it (numbers, rounded)."""

    name: str
    params: dict[str, float]


def check_names(names: Sequence[str]) -> tuple[str, ...]:
    """The names as a tuple, or LessonInputError naming the first unknown one."""
    for name in names:
        if name not in TRANSFORMS:
            raise LessonInputError("aug.error.unknown", name=str(name)[:40])
    return tuple(names)


def _uniform(g: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=g))


def _int(g: torch.Generator, low: int, high: int) -> int:
    """A whole number in [low, high]."""
    return int(torch.randint(low, high + 1, (), generator=g))


def sample_params(name: str, g: torch.Generator, height: int, width: int) -> dict[str, float]:
    """The random parameters of one transform for an (H, W) picture, drawn from g."""
    if name in ("hflip", "vflip", "grayscale"):
        return {}
    if name == "rotation":
        return {"angle": round(_uniform(g, -30, 30), 1)}
    if name == "crop":  # torchvision's RandomResizedCrop: area share and aspect ratio, then a position
        share, ratio = _uniform(g, 0.4, 1.0), math.exp(_uniform(g, math.log(3 / 4), math.log(4 / 3)))
        h = min(height, max(1, round(math.sqrt(share * height * width / ratio))))
        w = min(width, max(1, round(math.sqrt(share * height * width * ratio))))
        return {"top": _int(g, 0, height - h), "left": _int(g, 0, width - w), "height": h, "width": w}
    if name == "perspective":  # each corner moves inwards by up to 30 % of the side
        dx, dy = 0.3 * width / 2, 0.3 * height / 2
        return {f"{k}{axis}": _int(g, 0, int(d)) for k in range(4) for axis, d in (("x", dx), ("y", dy))}
    if name == "color_jitter":
        return {
            "brightness": round(_uniform(g, 0.6, 1.4), 2),
            "contrast": round(_uniform(g, 0.6, 1.4), 2),
            "saturation": round(_uniform(g, 0.5, 1.5), 2),
            "hue": round(_uniform(g, -0.1, 0.1), 3),
        }
    if name == "blur":
        return {"sigma": round(_uniform(g, 0.6, 2.0), 2)}
    if name == "noise":
        return {"sigma": round(_uniform(g, 0.04, 0.15), 3), "seed": _int(g, 0, 2**31 - 1)}
    if name == "erasing":  # torchvision's RandomErasing: 2-20 % of the picture, aspect 0.3-3.3
        share, ratio = _uniform(g, 0.02, 0.2), math.exp(_uniform(g, math.log(0.3), math.log(3.3)))
        h = min(height, max(1, round(math.sqrt(share * height * width * ratio))))
        w = min(width, max(1, round(math.sqrt(share * height * width / ratio))))
        return {"top": _int(g, 0, height - h), "left": _int(g, 0, width - w), "height": h, "width": w}
    if name == "fog":
        return {"density": round(_uniform(g, 0.3, 0.7), 2), "seed": _int(g, 0, 2**31 - 1)}
    if name == "rain":
        return {
            "drops": _int(g, 40, 160),
            "angle": round(_uniform(g, -20, 20), 1),
            "length": round(_uniform(g, 0.05, 0.15), 3),
            "seed": _int(g, 0, 2**31 - 1),
        }
    raise LessonInputError("aug.error.unknown", name=str(name)[:40])


def _perspective(image: torch.Tensor, p: dict[str, float]) -> torch.Tensor:
    h, w = image.shape[-2:]
    start = [[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]
    inwards = [(1, 1), (-1, 1), (-1, -1), (1, -1)]  # the direction that moves each corner into the picture
    end = [
        [x + sx * int(p[f"{k}x"]), y + sy * int(p[f"{k}y"])]
        for k, ((x, y), (sx, sy)) in enumerate(zip(start, inwards, strict=True))
    ]
    return F.perspective(image, start, end, fill=[0.0] * image.shape[-3])


def _fog(image: torch.Tensor, density: float, seed: int) -> torch.Tensor:
    """A smooth, uneven white haze, denser towards the top: image · (1 − a) + 1 · a, a ≤ density."""
    h, w = image.shape[-2:]
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 1, 4, 4, generator=g)
    patches = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False)[0, 0]
    towards_top = torch.linspace(1.0, 0.5, h).unsqueeze(1)
    alpha = (density * (0.6 + 0.4 * patches.clamp(0, 1)) * towards_top).clamp(0, 1)
    return image * (1 - alpha) + alpha


def _rain(image: torch.Tensor, p: dict[str, float]) -> torch.Tensor:
    """Light grey streaks at an angle drawn over a slightly darkened picture (an overcast sky)."""
    h, w = image.shape[-2:]
    rng = np.random.default_rng(int(p["seed"]))
    streaks = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(streaks)
    length = p["length"] * h
    a = math.radians(p["angle"])
    dx, dy = length * math.sin(a), length * math.cos(a)
    thickness = max(1, round(min(h, w) / 150))
    for x, y in rng.uniform(0, 1, (int(p["drops"]), 2)) * (w, h):
        draw.line([(x, y), (x + dx, y + dy)], fill=200, width=thickness)
    alpha = torch.from_numpy(np.asarray(streaks, dtype=np.float32) / 255.0)
    darker = image * 0.85
    return darker * (1 - alpha) + 0.85 * alpha


def apply(image: torch.Tensor, name: str, params: dict[str, float]) -> torch.Tensor:
    """image (3, H, W) or (N, 3, H, W) in [0, 1] transformed by `name` with the given parameters."""
    if name == "hflip":
        return F.horizontal_flip(image)
    if name == "vflip":
        return F.vertical_flip(image)
    if name == "rotation":
        return F.rotate(image, params["angle"], interpolation=F.InterpolationMode.BILINEAR)
    if name == "crop":
        box = [int(params[k]) for k in ("top", "left", "height", "width")]
        return F.resized_crop(image, *box, size=list(image.shape[-2:]), antialias=True)
    if name == "perspective":
        return _perspective(image, params)
    if name == "color_jitter":
        out = F.adjust_brightness(image, params["brightness"])
        out = F.adjust_contrast(out, params["contrast"])
        out = F.adjust_saturation(out, params["saturation"])
        return F.adjust_hue(out, params["hue"])
    if name == "grayscale":
        return F.rgb_to_grayscale(image, num_output_channels=3)
    if name == "blur":
        sigma = params["sigma"]
        size = 2 * math.ceil(3 * sigma) + 1
        return F.gaussian_blur(image, [size, size], [sigma, sigma])
    if name == "noise":  # transforms.v2's GaussianNoise, with noise from this call's own generator
        noise = torch.randn(image.shape, generator=torch.Generator().manual_seed(int(params["seed"])))
        return (image + params["sigma"] * noise).clamp(0, 1)
    if name == "erasing":
        box = [int(params[k]) for k in ("top", "left", "height", "width")]
        return F.erase(image, *box, v=torch.tensor(0.5))  # grey: neither the shape nor a usual background
    if name == "fog":
        return _fog(image, params["density"], int(params["seed"]))
    if name == "rain":
        return _rain(image, params)
    raise LessonInputError("aug.error.unknown", name=str(name)[:40])


def augment(image: torch.Tensor, names: Sequence[str], seed: int) -> tuple[torch.Tensor, list[Applied]]:
    """Apply every named transform in order, each with parameters drawn from a generator seeded by seed.

    image: (3, H, W) float in [0, 1] (H, W ≤ MAX_SIDE). Returns the (3, H, W) result in [0, 1] and what
    was applied; the same image, names and seed always give the same result.
    """
    names = check_names(names)
    if image.ndim != 3 or image.shape[0] != 3 or max(image.shape[-2:]) > MAX_SIDE:
        raise LessonInputError("aug.error.picture", max=MAX_SIDE)
    g = torch.Generator().manual_seed(int(seed))
    applied = []
    for name in names:
        params = sample_params(name, g, *image.shape[-2:])
        image = apply(image, name, params).clamp(0, 1)
        applied.append(Applied(name, params))
    return image, applied


def augment_batch(
    images: torch.Tensor, names: Sequence[str], g: torch.Generator, probability: float = 0.5, group: int = 8
) -> torch.Tensor:
    """Training-time augmentation of (N, 3, H, W): each run of `group` pictures gets each named transform
    with the given probability and parameters of its own, all drawn from g. Returns a new tensor.

    Groups, not single pictures: a transform on a 32 × 32 picture is so small that its fixed cost
    dominates (and multiplies on a busy server's threads); a group costs one call. Over the epochs
    every picture still meets new parameters.
    """
    names = check_names(names)
    h, w = images.shape[-2:]
    parts = []
    for start in range(0, len(images), group):
        part = images[start : start + group]
        for name in names:
            if float(torch.rand((), generator=g)) < probability:
                part = apply(part, name, sample_params(name, g, h, w))
        parts.append(part.clamp(0, 1))
    return torch.cat(parts) if parts else images.clone()


def to_tensor(rgb: np.ndarray | Image.Image, max_side: int = MAX_SIDE) -> torch.Tensor:
    """An RGB picture ((H, W, 3) uint8 or PIL) as a (3, H', W') float tensor in [0, 1], at most max_side a side."""
    picture = rgb if isinstance(rgb, Image.Image) else Image.fromarray(np.asarray(rgb, dtype=np.uint8))
    picture = picture.convert("RGB")
    if max(picture.size) > max_side:
        picture = picture.copy()
        picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return torch.from_numpy(np.asarray(picture, dtype=np.float32) / 255.0).permute(2, 0, 1).contiguous()


def to_rgb(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) float in [0, 1] -> (H, W, 3) uint8."""
    return (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
