"""The lab Mask R-CNN on generated and hand-drawn scenes, and the instance segmentation page."""

import numpy as np
import pytest
from PIL import Image

from cnnlab.segmentation import Instance, detect, detect_instances, draw_instances, drop_covered, match_instances
from cnnlab.shapes import CLASSES, detection_target, draw_scene
from tests.pagehelpers import open_page
from tests.test_segmentation import drawn_scene


def scene_scores(scene_masks, scene_labels, instances):
    masks = np.stack([i.mask for i in instances]) if instances else np.zeros((0, *scene_masks.shape[1:]), bool)
    labels = np.array([i.label_index for i in instances])
    return match_instances(masks, labels, scene_masks, scene_labels)


def test_match_instances():
    a = np.zeros((2, 4, 4), bool)
    a[0, :2], a[1, 2:] = True, True
    assert match_instances(a[::-1], np.array([2, 1]), a, np.array([1, 2])) == [(1.0, True), (1.0, True)]
    assert match_instances(a[:1], np.array([1]), a, np.array([1, 2])) == [(1.0, True), (0.0, False)]


def test_drop_covered_keeps_the_better_of_two_masks_on_one_object():
    def instance(score, rows):
        mask = np.zeros((4, 4), bool)
        mask[rows] = True
        return Instance("x", 1, score, (0, 0, 4, 4), mask)

    best, duplicate, beside = instance(0.9, slice(0, 2)), instance(0.6, slice(0, 1)), instance(0.5, slice(1, 4))
    kept = drop_covered([best, duplicate, beside])
    assert [i.score for i in kept] == [0.9, 0.5]  # beside: 4 of its 12 pixels are taken


@pytest.mark.parametrize("size", [128, 320])
def test_lab_mask_rcnn_on_held_out_generated_scenes(size):
    right, ious = 0, []
    seeds = range(8_000_000, 8_000_100)
    for seed in seeds:
        scene = draw_scene(seed, size, (1, 4))
        target = detection_target(scene, min_pixels=12 * (size // 128) ** 2)
        instances = detect_instances(Image.fromarray(scene.image), "lab.maskrcnn", score_threshold=0.5)
        matched = scene_scores(target["masks"].astype(bool), target["labels"], instances)
        right += len(instances) == len(matched) and all(same for _, same in matched)
        ious += [iou for iou, same in matched if same]
    assert right / len(seeds) > 0.75
    assert np.mean(ious) > 0.8


@pytest.mark.parametrize("background", ["white", "checkerboard"])
def test_lab_mask_rcnn_on_shapes_drawn_by_hand(background):
    image, truth = drawn_scene(background)
    instances = detect_instances(image, "lab.maskrcnn", score_threshold=0.5)
    assert sorted(i.label for i in instances) == sorted(CLASSES)
    masks = np.stack([truth == k for k in range(1, 5)])
    matched = scene_scores(masks, np.arange(1, 5), instances)
    assert all(same for _, same in matched) and min(iou for iou, _ in matched) > 0.8


def test_detection_reports_size_time_and_draws():
    image = Image.fromarray(draw_scene(12, 256, (3, 5)).image)
    result = detect(image, "lab.maskrcnn")
    assert result.working_size == (128, 128) and result.seconds > 0 and result.device in ("cpu", "cuda", "mps")
    scores = [i.score for i in result.instances]
    assert scores == sorted(scores, reverse=True) and all(s >= 0.5 for s in scores)
    drawn = draw_instances(image, result.instances, 5)
    enlarged = np.asarray(image).repeat(2, 0).repeat(2, 1)  # 256 is enlarged twice so that labels can be read
    assert drawn.shape == (512, 512, 3) and not np.array_equal(drawn, enlarged)
    assert np.array_equal(draw_instances(image, [], 5), enlarged)
    large = image.resize((900, 700))
    assert draw_instances(large, detect(large, "lab.maskrcnn").instances, 5).shape == (700, 900, 3)
    assert len(detect(image, "lab.maskrcnn", score_threshold=0.99999).instances) <= len(result.instances)


@pytest.mark.parametrize("lang", ["en", "ro"])
def test_instance_page(lang):
    at = open_page("lessons/instances.py", lang)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert len(table) == 4  # the generated scene: two circles, a triangle, a star
    at.select_slider(key="inst.score").set_value(0.95).run()
    assert not at.exception
    at.select_slider(key="inst.mask").set_value(0.8).run()
    assert not at.exception and len(at.get("plotly_chart")) == 1


def test_drawn_labels_use_the_given_names_in_a_font_with_romanian_letters():
    from PIL import ImageFont

    from cnnlab.segmentation import LABEL_FONT

    font = ImageFont.truetype(str(LABEL_FONT), 20)
    missing = bytes(font.getmask("\ue000"))  # a private-use code point: the font's 'no glyph' box
    assert all(bytes(font.getmask(letter)) != missing for letter in "ăâîșț")
    image = Image.fromarray(draw_scene(12, 256, (3, 5)).image)
    found = detect_instances(image, "lab.maskrcnn")
    english = draw_instances(image, found, 5)
    romanian = draw_instances(image, found, 5, ["pătrat"] * len(found))
    assert found and not np.array_equal(english, romanian)


def test_concurrent_detections_on_the_shared_model_are_identical():
    from concurrent.futures import ThreadPoolExecutor

    pictures = [Image.fromarray(draw_scene(seed, size, (2, 4)).image) for seed, size in [(3, 128), (4, 256), (5, 200)]]
    expected = [detect_instances(p, "lab.maskrcnn") for p in pictures]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda k: (k % 3, detect_instances(pictures[k % 3], "lab.maskrcnn")), range(24)))
    for k, found in results:
        assert [(i.label, round(i.score, 4)) for i in found] == [(i.label, round(i.score, 4)) for i in expected[k]]
        assert all(np.array_equal(a.mask, b.mask) for a, b in zip(found, expected[k], strict=True))


def test_threshold_and_language_changes_reuse_the_cached_detection(monkeypatch):
    """Moving the score threshold only changes the drawing, a language switch only the words: no network."""
    import cnnlab.segmentation as segmentation
    from cnnlab import inference as backends
    from tests.pagehelpers import open_page
    from ui import inference

    calls = []
    real = segmentation.detect_all

    def counted(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(backends, "detect_all", counted)  # what the in-process backend calls
    inference._packed_detection.clear()
    at = open_page("lessons/instances.py")
    assert not at.exception and len(calls) == 1
    for score in (0.3, 0.9, 0.5):
        at.select_slider(key="inst.score").set_value(score).run()
    at.session_state["lang"] = "ro"
    at.run()
    assert not at.exception
    assert len(calls) == 1, "the network ran again for a change that needs only the cached detection"
    at.select_slider(key="inst.mask").set_value(0.7).run()
    assert len(calls) == 2  # the mask threshold does change the masks
