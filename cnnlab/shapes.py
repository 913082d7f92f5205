"""A synthetic shapes dataset, deterministic by seed, for the models this project trains itself.

Each image holds shapes (circle, square, triangle, star) of random size, colour and
position on a varied background (plain, gradient, stripes, noise). Drawn with Pillow and
anti-aliased by supersampling, so that shapes drawn by a person look alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CLASSES = ("circle", "square", "triangle", "star")
SUPERSAMPLE = 4


@dataclass(frozen=True)
class ShapeScene:
    """image: (H, W, 3) uint8; labels: class index per shape (0-based, into CLASSES);
    masks: (N, H, W) bool per shape, after occlusion by later shapes; boxes: (N, 4) xyxy."""

    image: np.ndarray
    labels: np.ndarray
    masks: np.ndarray
    boxes: np.ndarray


def _background(rng: np.random.Generator, size: int) -> Image.Image:
    """Plain, gradient, stripes at any angle, checkerboard, blotches or noise."""
    kind = rng.integers(6)
    base, other = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    if kind == 0:
        return Image.new("RGB", (size, size), tuple(int(v) for v in base))
    y, x = np.mgrid[0:size, 0:size] / size
    angle = rng.uniform(0, np.pi)
    along = x * np.cos(angle) + y * np.sin(angle)
    if kind == 1:
        weight = (along - along.min()) / (along.max() - along.min())
    elif kind == 2:
        weight = (along * size // rng.integers(4, 16)) % 2
    elif kind == 3:
        cell = rng.integers(4, 20)
        weight = ((np.floor(x * size / cell) + np.floor(y * size / cell)) % 2).astype(float)
    elif kind == 4:
        coarse = rng.random((int(rng.integers(2, 6)),) * 2)
        weight = np.asarray(Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC)).clip(0, 1)
    else:
        noise = rng.normal(0, 30, (size, size, 3)) + base
        return Image.fromarray(np.clip(noise, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1))
    pixels = base * (1 - weight[..., None]) + other * weight[..., None]
    return Image.fromarray(pixels.astype(np.uint8))


def _polygon(label: int, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]] | None:
    if label == 0:
        return None  # circle: drawn as an ellipse
    corners = {1: 4, 2: 3, 3: 10}[label]
    points = []
    for k in range(corners):
        radius = r if label != 3 or k % 2 == 0 else r * 0.45
        a = angle + 2 * math.pi * k / corners
        points.append((cx + radius * math.cos(a), cy + radius * math.sin(a)))
    return points


def _colour_far_from(rng: np.random.Generator, background: np.ndarray) -> tuple[int, int, int]:
    for _ in range(20):
        colour = rng.integers(0, 256, 3)
        if np.abs(colour - background).sum() > 150:
            break
    return tuple(int(v) for v in colour)


def draw_scene(seed: int, size: int = 64, n_shapes: tuple[int, int] = (1, 1)) -> ShapeScene:
    """One scene; the same seed always gives the same image, labels and masks."""
    rng = np.random.default_rng(seed)
    background = _background(rng, size)
    mean_bg = np.asarray(background, dtype=float).reshape(-1, 3).mean(0)
    big = size * SUPERSAMPLE
    canvas = background.resize((big, big), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(canvas)
    count = int(rng.integers(n_shapes[0], n_shapes[1] + 1))
    labels, instance_masks = [], []
    for _ in range(count):
        label = int(rng.integers(len(CLASSES)))
        r = rng.uniform(0.16, 0.34) * big if count == 1 else rng.uniform(0.08, 0.2) * big
        cx, cy = rng.uniform(r, big - r), rng.uniform(r, big - r)
        colour = _colour_far_from(rng, mean_bg)
        points = _polygon(label, cx, cy, r, rng.uniform(0, 2 * math.pi))
        mask = Image.new("L", (big, big), 0)
        mdraw = ImageDraw.Draw(mask)
        if points is None:
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
            mdraw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
        else:
            draw.polygon(points, fill=colour)
            mdraw.polygon(points, fill=255)
        small = np.asarray(mask.resize((size, size), Image.Resampling.BOX)) >= 128
        for earlier in instance_masks:
            earlier &= ~small  # later shapes cover earlier ones
        labels.append(label)
        instance_masks.append(small)
    image = np.asarray(canvas.resize((size, size), Image.Resampling.BOX))
    masks = np.stack(instance_masks) if instance_masks else np.zeros((0, size, size), bool)
    boxes = np.array([_box(m) for m in masks], dtype=np.float32).reshape(-1, 4)
    return ShapeScene(image, np.array(labels, dtype=np.int64), masks, boxes)


def _box(mask: np.ndarray) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return (0.0, 0.0, 0.0, 0.0)
    return (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))


def classification_batch(first_seed: int, count: int, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(count, 3, size, size) float32 images in [0, 1] with one shape each, and (count,) labels."""
    scenes = [draw_scene(first_seed + k, size) for k in range(count)]
    images = np.stack([s.image for s in scenes]).transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    return images, np.array([s.labels[0] for s in scenes], dtype=np.int64)


def class_map(scene: ShapeScene) -> np.ndarray:
    """(H, W) int64 per-pixel classes of a scene: 0 = background, 1 + index into CLASSES for a shape."""
    classes = np.zeros(scene.image.shape[:2], dtype=np.int64)
    for label, mask in zip(scene.labels, scene.masks, strict=True):
        classes[mask] = label + 1
    return classes


def segmentation_batch(
    first_seed: int, count: int, size: int = 64, n_shapes: tuple[int, int] = (1, 4)
) -> tuple[np.ndarray, np.ndarray]:
    """(count, 3, size, size) float32 images in [0, 1] and (count, size, size) class maps (see class_map)."""
    scenes = [draw_scene(first_seed + k, size, n_shapes) for k in range(count)]
    images = np.stack([s.image for s in scenes]).transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    return images, np.stack([class_map(s) for s in scenes])


def detection_target(scene: ShapeScene, min_pixels: int = 12) -> dict[str, np.ndarray]:
    """torchvision detection targets of a scene: boxes (N, 4) xyxy float32, labels (N,) in 1..4, masks (N, H, W) uint8.

    Shapes hidden behind later ones down to fewer than min_pixels visible pixels are left out.
    """
    keep = scene.masks.reshape(len(scene.masks), -1).sum(1) >= min_pixels
    masks = scene.masks[keep]
    boxes = np.array([_box(m) for m in masks], dtype=np.float32).reshape(-1, 4)
    return {"boxes": boxes, "labels": scene.labels[keep] + 1, "masks": masks.astype(np.uint8)}
