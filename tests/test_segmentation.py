"""U-Net shapes, the lab U-Net's quality on generated and hand-drawn scenes, and the segmentation page."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from cnnlab.segmentation import class_areas, mean_iou, overlay, segment
from cnnlab.shapes import CLASSES, class_map, draw_scene
from cnnlab.unet import UNet, level_shapes
from tests.pagehelpers import open_page


@pytest.mark.parametrize("depth,width,size", [(1, 4, (6, 10)), (3, 8, (64, 40)), (4, 4, (32, 48))])
def test_unet_output_has_the_input_size(depth, width, size):
    model = UNet(3, 5, depth, width).eval()
    with torch.inference_mode():
        assert model(torch.zeros(1, 3, *size)).shape == (1, 5, *size)


def test_paper_sized_unet_and_its_levels():
    model = UNet(1, 2, depth=4, width=64)
    assert 31.0e6 < sum(p.numel() for p in model.parameters()) < 31.1e6  # the paper's 31M
    rows = level_shapes(model, 512, 512)
    assert [(r.stage, r.level, r.shape) for r in rows[:5]] == [
        ("down", 0, (64, 512, 512)),
        ("down", 1, (128, 256, 256)),
        ("down", 2, (256, 128, 128)),
        ("down", 3, (512, 64, 64)),
        ("bottom", 4, (1024, 32, 32)),
    ]
    ups = [r for r in rows if r.stage == "up"]
    assert [r.level for r in ups] == [3, 2, 1, 0] and all(r.skip_joins for r in ups)
    assert rows[-1].shape == (2, 512, 512)
    # concatenation: each merge block reads the skip's channels plus the upsampled ones
    assert [m[0].in_channels for m in model.merge] == [1024, 512, 256, 128]


def test_mean_iou():
    target = np.array([[0, 0, 1, 1]])
    assert mean_iou(target, target, 3) == 1
    assert mean_iou(np.array([[0, 1, 1, 1]]), target, 3) == pytest.approx((1 / 2 + 2 / 3) / 2)


def generated_miou(size: int) -> float:
    scores = []
    for seed in range(7_000_000, 7_000_030):
        scene = draw_scene(seed, size, (1, 4))
        scores.append(mean_iou(segment(Image.fromarray(scene.image)).classes, class_map(scene), 1 + len(CLASSES)))
    return float(np.mean(scores))


@pytest.mark.parametrize("size", [64, 256])
def test_lab_unet_on_held_out_generated_scenes(size):
    assert generated_miou(size) > 0.8


def drawn_scene(background: str) -> tuple[Image.Image, np.ndarray]:
    """Three shapes drawn with Pillow's own primitives at 3× and downscaled (anti-aliased), with their classes."""
    size, big = 240, 720
    if background == "white":
        image = Image.new("RGB", (big, big), "white")
    else:
        cells = (np.indices((big, big)) // 36).sum(0) % 2
        image = Image.fromarray(np.where(cells[..., None] == 1, 190, 235).astype(np.uint8).repeat(3, axis=2))
    truth = Image.new("L", (big, big), 0)
    for draw, fill in ((ImageDraw.Draw(image), None), (ImageDraw.Draw(truth), "class")):
        draw.ellipse([60, 60, 260, 260], fill=fill and 1 or "crimson")
        draw.regular_polygon((520, 180, 120), 4, rotation=20, fill=fill and 2 or "navy")
        draw.regular_polygon((240, 520, 130), 3, fill=fill and 3 or "darkgreen")
        draw.polygon(
            [
                (
                    560 + (110 if k % 2 == 0 else 50) * np.sin(np.pi * k / 5),
                    540 - (110 if k % 2 == 0 else 50) * np.cos(np.pi * k / 5),
                )
                for k in range(10)
            ],
            fill=fill and 4 or "darkorange",
        )
    classes = np.asarray(truth.resize((size, size), Image.Resampling.NEAREST)).astype(np.int64)
    return image.resize((size, size), Image.Resampling.LANCZOS), classes


@pytest.mark.parametrize("background", ["white", "checkerboard"])
def test_lab_unet_on_shapes_drawn_by_hand(background):
    image, truth = drawn_scene(background)
    result = segment(image)
    assert result.classes.shape == truth.shape
    assert mean_iou(result.classes, truth, 5) > 0.75
    for k in range(1, 5):  # each shape's pixels are mostly given its class
        assert (result.classes[truth == k] == k).mean() > 0.7, CLASSES[k - 1]


def test_segment_keeps_the_picture_size_and_is_thread_safe():
    image = Image.fromarray(draw_scene(5, 200, (2, 3)).image).resize((300, 170))
    expected = segment(image)
    assert expected.classes.shape == (170, 300) and expected.probabilities.shape == (5, 170, 300)
    assert np.allclose(expected.probabilities.sum(0), 1, atol=1e-5)
    assert expected.working_size[0] % 8 == 0 and expected.working_size[1] % 8 == 0
    with ThreadPoolExecutor(8) as pool:
        for result in pool.map(lambda _: segment(image), range(16)):
            assert np.array_equal(result.classes, expected.classes)


def test_overlay_and_areas():
    image = Image.new("RGB", (4, 2), (10, 20, 30))
    classes = np.array([[0, 1, 1, 2], [0, 0, 0, 0]])
    tinted = overlay(image, classes)
    assert (tinted[1] == [10, 20, 30]).all() and not (tinted[0, 1] == [10, 20, 30]).all()
    assert class_areas(classes, 5).tolist() == [5 / 8, 2 / 8, 1 / 8, 0, 0]


@pytest.mark.parametrize("lang", ["en", "ro"])
def test_segmentation_page(lang):
    at = open_page("lessons/segmentation.py", lang)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="seg.image.sample").value == "generated_scene"
    assert len(at.get("plotly_chart")) == 2
    areas = at.table[0].value

    def share(text: str) -> float:  # "79.0%" in English, "79,0 %" in Romanian
        return float(text.rstrip("%").replace("\xa0", "").strip().replace(",", "."))

    shares = {name: share(v) for name, v in zip(areas.iloc[:, 0], areas.iloc[:, 1], strict=True)}
    assert abs(sum(shares.values()) - 100) < 0.5
    names = ("background", "circle", "square", "triangle", "star")
    if lang == "ro":
        names = ("fundal", "cerc", "pătrat", "triunghi", "stea")
    # the generated scene holds two circles, a triangle and a star, and no square
    assert shares[names[0]] < 90 and shares[names[1]] > 1 and shares[names[3]] > 1 and shares[names[4]] > 1
    assert shares.get(names[2], 0) < 1
    at.segmented_control(key="seg.view").set_value("mask").run()
    assert not at.exception and len(at.get("plotly_chart")) == 2
    net = at.table[1].value
    assert net.iloc[-1, 1] == "5 × 64 × 64"
    at.selectbox(key="seg.class.lab.unet").select(4).run()
    assert not at.exception
