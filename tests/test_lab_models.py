"""The shipped lab classifier: held-out generated shapes and shapes drawn another way, as a person would."""

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnnlab.features import top_classes
from cnnlab.lab_models import SHAPES_CLASSIFIER_FILE
from cnnlab.models import get_model
from cnnlab.shapes import CLASSES, classification_batch, draw_scene


def test_shapes_are_deterministic_by_seed():
    a, b = draw_scene(7, 64, (2, 4)), draw_scene(7, 64, (2, 4))
    assert np.array_equal(a.image, b.image) and np.array_equal(a.masks, b.masks)
    assert not np.array_equal(a.image, draw_scene(8, 64, (2, 4)).image)
    assert a.masks.shape[1:] == (64, 64) and len(a.labels) == len(a.boxes) == len(a.masks)


def test_shipped_weights_are_safetensors_with_their_accuracy():
    from safetensors import safe_open

    with safe_open(SHAPES_CLASSIFIER_FILE, "pt") as f:
        assert float(f.metadata()["validation_accuracy"]) > 0.95


def test_held_out_generated_shapes():
    loaded = get_model("lab.shapes", "cpu")
    images, labels = classification_batch(5_000_000, 400)
    import torch

    with torch.inference_mode():
        predicted = loaded.model(torch.from_numpy(images)).argmax(1).numpy()
    assert (predicted == labels).mean() > 0.95


def hand_drawn(shape: str, colour, background: str, size: int = 200, seed: int = 0) -> Image.Image:
    """A shape drawn with Pillow's own primitives (not the generator's code), anti-aliased by downscaling."""
    rng = np.random.default_rng(seed)
    big = size * 3
    if background == "white":
        image = Image.new("RGB", (big, big), "white")
    else:  # a checkerboard texture
        cells = (np.indices((big, big)) // 30).sum(0) % 2
        image = Image.fromarray(np.where(cells[..., None] == 1, 200, 240).astype(np.uint8).repeat(3, axis=2))
    draw = ImageDraw.Draw(image)
    cx, cy, r = big / 2 + rng.uniform(-60, 60), big / 2 + rng.uniform(-60, 60), big * rng.uniform(0.25, 0.32)
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    elif shape == "square":
        draw.regular_polygon((cx, cy, r), 4, rotation=float(rng.uniform(0, 90)), fill=colour)
    elif shape == "triangle":
        draw.regular_polygon((cx, cy, r), 3, rotation=float(rng.uniform(0, 120)), fill=colour)
    else:  # a five-pointed star
        points = [
            (
                cx + (r if k % 2 == 0 else r * 0.5) * math.sin(math.pi * k / 5),
                cy - (r if k % 2 == 0 else r * 0.5) * math.cos(math.pi * k / 5),
            )
            for k in range(10)
        ]
        draw.polygon(points, fill=colour)
    return image.resize((size, size), Image.Resampling.LANCZOS)


@pytest.mark.parametrize("background", ["white", "checkerboard"])
def test_shapes_drawn_another_way(background):
    loaded = get_model("lab.shapes", "cpu")
    cases = [(shape, colour, seed) for shape in CLASSES for colour in ("red", "navy", "darkgreen") for seed in (1, 2)]
    right = sum(
        top_classes(loaded, hand_drawn(shape, colour, background, seed=seed))[0].category == shape
        for shape, colour, seed in cases
    )
    assert right >= 0.9 * len(cases), f"{right} of {len(cases)}"
