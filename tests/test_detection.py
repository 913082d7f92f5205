"""cnnlab.detection against torchvision: IoU, NMS, RoI pooling, RoIAlign, anchors, softmax, and the
stages of the lab Mask R-CNN and of the COCO R50-FPN v2 architecture."""

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.roi_heads import paste_masks_in_image
from torchvision.models.detection.transform import resize_boxes
from torchvision.ops import box_iou as tv_box_iou
from torchvision.ops import nms, roi_align, roi_pool
from torchvision.transforms import functional as TF

from cnnlab import segmentation
from cnnlab.detection import (
    DetectorStages,
    anchor_levels,
    anchor_stride,
    anchors,
    box_iou,
    box_overlap,
    cell_anchors,
    detector_stages,
    matched_anchors,
    nms_steps,
    roi_align_steps,
    roi_pool_steps,
    sliding_windows,
    softmax_steps,
    yolo_cells,
)
from cnnlab.errors import LessonInputError
from cnnlab.shapes import draw_scene
from cnnlab.weights import WeightsError


def random_boxes(rng, n: int, extent: float = 20.0, integer: bool = False) -> np.ndarray:
    """(n, 4) xyxy boxes inside about [0, extent]², fractional corners unless integer."""
    corner = rng.uniform(-2, extent, (n, 2))
    size = rng.uniform(0.5, extent / 2, (n, 2))
    boxes = np.concatenate([corner, corner + size], axis=1)
    return np.round(boxes) if integer else boxes


# ---------------------------------------------------------------- IoU


def test_iou_worked_case():
    a, b = [0, 0, 2, 2], [1, 1, 3, 3]
    assert box_iou([a], [b])[0, 0] == pytest.approx(1 / 7)
    overlap = box_overlap(a, b)
    assert overlap.intersection_box == (1, 1, 2, 2)
    assert (overlap.area_a, overlap.area_b, overlap.intersection, overlap.union) == (4, 4, 1, 7)
    assert overlap.iou == pytest.approx(1 / 7)
    apart = box_overlap(a, [5, 5, 6, 7])
    assert apart.intersection_box is None and apart.intersection == 0 and apart.union == 6 and apart.iou == 0


@pytest.mark.parametrize("seed", range(30))
def test_box_iou_equals_torchvision(seed):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(0, 12, 2)
    a, b = random_boxes(rng, n, integer=seed % 3 == 0), random_boxes(rng, m, integer=seed % 3 == 0)
    expected = tv_box_iou(torch.from_numpy(a).reshape(-1, 4), torch.from_numpy(b).reshape(-1, 4)).numpy()
    result = box_iou(a, b)
    assert result.shape == (n, m)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)
    for i in range(min(n, 3)):
        for j in range(min(m, 3)):
            assert box_overlap(a[i], b[j]).iou == pytest.approx(result[i, j], abs=1e-12)


def test_box_iou_of_no_boxes_and_of_empty_boxes():
    assert box_iou([], [[0, 0, 1, 1]]).shape == (0, 1)
    assert box_iou(np.zeros((2, 4)), np.zeros((0, 4))).shape == (2, 0)
    # two zero-area boxes: 0 / 0, as torchvision
    expected = tv_box_iou(torch.zeros(1, 4), torch.zeros(1, 4)).numpy()
    np.testing.assert_equal(box_iou(np.zeros((1, 4)), np.zeros((1, 4))), expected)
    assert math.isnan(box_overlap([0, 0, 0, 0], [0, 0, 0, 0]).iou)


# ---------------------------------------------------------------- NMS


def test_nms_worked_case():
    boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9]]
    steps = nms_steps(boxes, [0.9, 0.8, 0.7, 0.95], 0.5)
    assert [s.taken for s in steps] == [3, 2]
    first = steps[0]
    assert first.score == 0.95 and first.suppressed == [0, 1] and first.remaining == [2]
    assert first.ious == pytest.approx([0.9, 72 / 118])
    assert steps[-1].kept == [3, 2] and steps[-1].suppressed == [] and steps[-1].remaining == []
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95], dtype=torch.float64)
    assert steps[-1].kept == nms(torch.tensor(boxes, dtype=torch.float64), scores, 0.5).tolist()


@pytest.mark.parametrize("seed", range(40))
def test_nms_equals_torchvision(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 60))
    dtype = np.float32 if seed % 2 else np.float64
    boxes = random_boxes(rng, n, extent=float(rng.uniform(5, 40)), integer=seed % 4 < 2).astype(dtype)
    # a third of the cases have many equal scores (an unstable sort would order them otherwise beyond 16 boxes)
    scores = (rng.integers(0, 4, n) / 4 if seed % 3 == 0 else rng.random(n)).astype(dtype)
    threshold = [0.0, 1.0, 0.5][seed] if seed < 3 else float(rng.uniform(0.05, 0.95))
    steps = nms_steps(torch.from_numpy(boxes), torch.from_numpy(scores), threshold)
    expected = nms(torch.from_numpy(boxes), torch.from_numpy(scores), threshold).tolist()
    assert steps[-1].kept == expected
    taken = [s.taken for s in steps]
    assert taken == expected
    removed = [j for s in steps for j in s.suppressed]
    assert sorted(taken + removed) == list(range(n))  # every box is kept or suppressed once
    for step in steps:
        assert all(iou > threshold for iou in step.ious)
        assert set(step.remaining).isdisjoint(step.suppressed)
    reference = tv_box_iou(torch.from_numpy(boxes).double(), torch.from_numpy(boxes).double()).numpy()
    for step in steps:
        np.testing.assert_allclose(step.ious, reference[step.taken, step.suppressed], rtol=1e-5, atol=1e-6)


def test_nms_of_no_boxes():
    assert nms_steps(np.zeros((0, 4)), [], 0.5) == []
    assert nms(torch.zeros(0, 4), torch.zeros(0), 0.5).tolist() == []


# ---------------------------------------------------------------- RoI pooling and RoIAlign


def feature_and_box(seed: int):
    """A random (H, W) map, a box in picture pixels (fractional, on borders, partly outside or malformed),
    a spatial scale and an output size."""
    rng = np.random.default_rng(1000 + seed)
    height, width = (int(v) for v in rng.integers(1, 13, 2))
    scale = [1.0, 0.5, 0.25, 0.8, 1 / 3][seed % 5]
    feature = rng.normal(size=(height, width))
    kind = seed % 4
    if kind == 0:  # fractional, inside
        x1, y1 = rng.uniform(0, width / scale), rng.uniform(0, height / scale)
        box = [x1, y1, rng.uniform(x1, width / scale), rng.uniform(y1, height / scale)]
    elif kind == 1:  # the whole map, on its borders
        box = [0, 0, width / scale, height / scale]
    elif kind == 2:  # partly or wholly outside
        box = list(rng.uniform(-6, 1.5, 2) * [width / scale, height / scale]) + list(
            rng.uniform(0.5, 2.5, 2) * [width / scale, height / scale]
        )
    else:  # whole pixels, sometimes malformed (x2 < x1)
        box = list(rng.integers(-2, max(width, height) + 2, 4) / scale)
    output = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    return feature, np.array(box, dtype=np.float64), scale, output


def run_torchvision(op, feature, box, *args, dtype=torch.float32, **kwargs):
    x = torch.as_tensor(feature, dtype=dtype)[None, None]
    return op(x, [torch.as_tensor(box, dtype=dtype)[None]], *args, **kwargs)[0, 0].numpy()


def test_roi_pool_worked_case():
    feature = np.arange(16.0).reshape(4, 4)
    steps = roi_pool_steps(feature, [0, 0, 3, 3], 2)
    assert [s.value for s in steps] == [5, 7, 13, 15]
    assert steps[0].cells == ((0, 0), (0, 1), (1, 0), (1, 1)) and steps[0].argmax == (1, 1)
    assert steps[0].roi == (0, 0, 3, 3) and steps[0].bin_size == (2.0, 2.0)
    assert steps[1].filled.tolist() == [[True, True], [False, False]]
    # corners rounded half away from zero, like C's round(): 1.5 -> 2, 2.5 -> 3
    assert roi_pool_steps(feature, [1.5, 2.5, 3, 3], 1)[0].roi == (2, 3, 3, 3)


@pytest.mark.parametrize("seed", range(40))
def test_roi_pool_equals_torchvision(seed):
    feature, box, scale, output = feature_and_box(seed)
    dtype = torch.float32 if seed % 2 else torch.float64
    steps = roi_pool_steps(torch.as_tensor(feature, dtype=dtype), torch.as_tensor(box, dtype=dtype), output, scale)
    expected = run_torchvision(roi_pool, feature, box, output, scale, dtype=dtype)
    np.testing.assert_array_equal(steps[-1].output, expected)
    assert len(steps) == output[0] * output[1] and steps[-1].filled.all()
    typed = torch.as_tensor(feature, dtype=dtype).numpy()
    for step in steps:
        if step.argmax is None:
            assert step.cells == () and step.value == 0
        else:
            assert step.value == max(typed[c] for c in step.cells) == typed[step.argmax]


@pytest.mark.parametrize("seed", range(48))
def test_roi_align_equals_torchvision(seed):
    feature, box, scale, output = feature_and_box(seed)
    sampling_ratio = [1, 2, 3, 4, 0, -1][seed % 6]
    aligned = seed % 4 < 2
    dtype = torch.float32 if seed % 3 else torch.float64
    steps = roi_align_steps(
        torch.as_tensor(feature, dtype=dtype), torch.as_tensor(box, dtype=dtype), output, scale, sampling_ratio, aligned
    )
    expected = run_torchvision(
        roi_align, feature, box, output, scale, sampling_ratio=sampling_ratio, aligned=aligned, dtype=dtype
    )
    tolerance = 1e-6 if dtype == torch.float32 else 1e-12
    np.testing.assert_allclose(steps[-1].output, expected, rtol=tolerance, atol=tolerance)
    for step in steps:
        assert len(step.points) == step.grid[0] * step.grid[1]
        total = 0.0
        for point in step.points:
            if point.cells:
                assert sum(point.weights) == pytest.approx(1.0, abs=1e-6)
                expected_value = sum(w * feature[c] for w, c in zip(point.weights, point.cells, strict=True))
                assert point.value == pytest.approx(expected_value, rel=1e-5, abs=1e-5)
            else:
                assert point.value == 0 and not (
                    -1 <= point.y <= feature.shape[0] and -1 <= point.x <= feature.shape[1]
                )
            total += point.value
        assert step.value == pytest.approx(total / step.count, rel=1e-5, abs=1e-5)


def test_roi_align_worked_case():
    feature = np.arange(16.0).reshape(4, 4)  # value = 4·row + col, so bilinear samples are exact
    steps = roi_align_steps(feature, [0, 0, 4, 4], 1, sampling_ratio=2)
    points = steps[0].points
    assert [(p.y, p.x) for p in points] == [(0.5, 0.5), (0.5, 2.5), (2.5, 0.5), (2.5, 2.5)]
    assert points[0].cells == ((0, 0), (0, 1), (1, 0), (1, 1)) and points[0].weights == (0.25, 0.25, 0.25, 0.25)
    assert points[0].value == 2.5 and steps[0].value == 7.5 and steps[0].roi == (-0.5, -0.5, 3.5, 3.5)
    # at the last row and column a point is clamped to the last cell
    edge = roi_align_steps(feature, [3, 3, 4, 4], 1, sampling_ratio=1, aligned=False)[0].points[0]
    assert (edge.y, edge.x) == (3.5, 3.5) and edge.cells == ((3, 3),) * 4 and edge.value == 15
    # beyond the map by more than one cell a sample contributes nothing
    assert roi_align_steps(feature, [10, 10, 12, 12], 1, aligned=False)[0].value == 0


@pytest.mark.parametrize(
    "box,sampling_ratio",
    [([0, 0, 9, 9], 0), ([-3, -3, 12, 12], -1), ([0, 0, 0, 0], 0), ([5, 5, 2, 2], 0), ([8.75, 0, 9, 9], 3)],
)
def test_roi_align_adaptive_grid_and_border_boxes(box, sampling_ratio):
    feature = np.random.default_rng(7).normal(size=(9, 9)).astype(np.float32)
    for aligned in (True, False):
        steps = roi_align_steps(feature, np.float32(box), (3, 2), 1.0, sampling_ratio, aligned)
        expected = run_torchvision(roi_align, feature, box, (3, 2), 1.0, sampling_ratio=sampling_ratio, aligned=aligned)
        np.testing.assert_allclose(steps[-1].output, expected, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- anchors


def torchvision_anchors(image_size, feature_size, sizes, ratios) -> np.ndarray:
    generator = AnchorGenerator(sizes=(tuple(sizes),), aspect_ratios=(tuple(ratios),))
    images = ImageList(torch.zeros(1, 3, *image_size), [tuple(image_size)])
    return generator(images, [torch.zeros(1, 1, *feature_size)])[0].double().numpy()


def test_anchors_worked_case():
    assert cell_anchors([32], [0.5, 1.0, 2.0]).tolist() == [
        [-23, -11, 23, 11],  # height / width = 0.5: 45.25 wide, 22.6 high, rounded
        [-16, -16, 16, 16],
        [-11, -23, 11, 23],
    ]
    assert anchor_stride((64, 96), (2, 3)) == (32, 32)
    assert anchors((64, 64), (2, 2), [32], [1.0]).tolist() == [
        [-16, -16, 16, 16],
        [16, -16, 48, 16],
        [-16, 16, 16, 48],
        [16, 16, 48, 48],
    ]


@pytest.mark.parametrize("seed", range(25))
def test_anchors_equal_torchvision(seed):
    rng = np.random.default_rng(2000 + seed)
    feature_size = tuple(int(v) for v in rng.integers(1, 9, 2))
    strides, extra = rng.integers(1, 33, 2), rng.integers(0, 5, 2)  # extra: an image the stride does not divide
    image_size = tuple(int(f * s + e) for f, s, e in zip(feature_size, strides, extra, strict=True))
    sizes = [int(v) for v in rng.choice([8, 11, 16, 25, 32, 45, 64, 128], int(rng.integers(1, 4)), replace=False)]
    ratios = [float(v) for v in rng.choice([0.25, 0.5, 2 / 3, 1, 1.5, 2, 3], int(rng.integers(1, 4)), replace=False)]
    result = anchors(image_size, feature_size, sizes, ratios)
    assert result.shape == (feature_size[0] * feature_size[1] * len(sizes) * len(ratios), 4)
    np.testing.assert_array_equal(result, torchvision_anchors(image_size, feature_size, sizes, ratios))


# ---------------------------------------------------------------- softmax


def test_softmax_worked_case():
    result = softmax_steps([1.0, 2.0, 3.0], target=0)
    assert result.shift == 3 and result.exp.tolist() == pytest.approx([math.exp(-2), math.exp(-1), 1])
    assert result.total == pytest.approx(1 + math.exp(-1) + math.exp(-2))
    assert result.loss == pytest.approx(-math.log(result.probabilities[0]))
    assert softmax_steps([0.0, 0.0]).loss is None and softmax_steps([0.0, 0.0]).probabilities.tolist() == [0.5, 0.5]


@pytest.mark.parametrize("seed", range(30))
def test_softmax_equals_torch(seed):
    rng = np.random.default_rng(3000 + seed)
    logits = rng.normal(0, [1, 10, 300][seed % 3], int(rng.integers(1, 12)))  # 300: exp would overflow unshifted
    target = int(rng.integers(0, len(logits)))
    result = softmax_steps(torch.from_numpy(logits), target)
    z = torch.from_numpy(logits)
    np.testing.assert_allclose(result.probabilities, torch.softmax(z, 0).numpy(), rtol=1e-12, atol=1e-300)
    expected = F.cross_entropy(z[None], torch.tensor([target])).item()
    assert result.loss == pytest.approx(expected, rel=1e-12, abs=1e-12)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "call,key",
    [
        (lambda: box_iou([[0, 0, 1]], [[0, 0, 1, 1]]), "error.boxes_shape"),
        (lambda: box_iou([[0, 0, 1, math.nan]], []), "error.not_finite"),
        (lambda: box_overlap([0, 0, 1, 1, 2], [0, 0, 1, 1]), "error.boxes_shape"),
        (lambda: nms_steps([[0, 0, 1, 1]], [0.5, 0.4], 0.5), "error.scores_count"),
        (lambda: nms_steps([[0, 0, 1, 1]], [0.5], 1.5), "error.iou_threshold"),
        (lambda: nms_steps([[0, 0, 1, 1]], [0.5], -0.1), "error.iou_threshold"),
        (lambda: nms_steps(np.zeros((2000, 4)), np.zeros(2000), 0.5), "error.too_many_steps"),
        (lambda: roi_pool_steps(np.zeros(5), [0, 0, 1, 1], 2), "error.not_matrix"),
        (lambda: roi_pool_steps(np.zeros((0, 3)), [0, 0, 1, 1], 2), "error.not_matrix"),
        (lambda: roi_pool_steps(np.zeros((3, 3)), [0, 0, 1, 1], 0), "error.at_least_1"),
        (lambda: roi_pool_steps(np.zeros((3, 300)), [0, 0, 1, 1], 2), "error.too_big_to_draw"),
        (lambda: roi_pool_steps(np.zeros((3, 3)), [0, 0, 1, 1], (2, 2, 2)), "error.at_least_1"),
        (lambda: roi_pool_steps(np.zeros((3, 3)), [0, 0, 1, 1], 2, spatial_scale=0), "error.positive"),
        (lambda: roi_align_steps(np.zeros((3, 3)), [0, 0, 1, 1], 2, spatial_scale=-1), "error.positive"),
        (lambda: roi_align_steps(np.zeros((3, 3)), [0, 0, 1], 2), "error.boxes_shape"),
        (lambda: roi_align_steps(np.zeros((3, 3)), [0, 0, 1, 1], 64), "error.too_many_steps"),
        (lambda: roi_align_steps(np.zeros((3, 3)), [0, 0, 1e6, 1e6], 7, sampling_ratio=0), "error.too_many_samples"),
        (lambda: anchors((64, 64), (0, 4), [32], [1.0]), "error.at_least_1"),
        (lambda: anchors((64, -1), (4, 4), [32], [1.0]), "error.at_least_1"),
        (lambda: anchors((64, 64), (4, 4), [], [1.0]), "error.not_vector"),
        (lambda: anchors((64, 64), (4, 4), [32, -8], [1.0]), "error.positive"),
        (lambda: cell_anchors([32], [0.0]), "error.positive"),
        (lambda: softmax_steps([]), "error.not_vector"),
        (lambda: softmax_steps([[1.0, 2.0]]), "error.not_vector"),
        (lambda: softmax_steps([1.0, math.inf]), "error.not_finite"),
        (lambda: softmax_steps([1.0, 2.0], target=2), "error.target_class"),
        (lambda: softmax_steps([1.0, 2.0], target=-1), "error.target_class"),
    ],
)
def test_impossible_inputs_are_refused_with_a_message(call, key):
    with pytest.raises(LessonInputError) as err:
        call()
    assert err.value.key == key
    assert "{" not in str(err.value)


def test_boxes_outside_the_map_are_fine():
    feature = np.ones((4, 4), dtype=np.float32)
    assert roi_pool_steps(feature, [40, 40, 50, 50], 2)[-1].output.tolist() == [[0, 0], [0, 0]]
    assert roi_align_steps(feature, [40, 40, 50, 50], 2)[-1].output.tolist() == [[0, 0], [0, 0]]


# ---------------------------------------------------------------- inside a Mask R-CNN


def scene_picture(seed: int = 11, size: int = 160) -> Image.Image:
    return Image.fromarray(draw_scene(seed, size, (2, 4)).image)


def run_model(loaded, picture: Image.Image):
    """model([picture]) and model.rpn's proposals (mapped to the picture's pixels), the ordinary way."""
    net = loaded.model
    x = TF.to_tensor(picture.convert("RGB")).to(loaded.device)
    with torch.inference_mode():
        output = net([x])[0]
        images, _ = net.transform([x])
        features = net.backbone(images.tensors)
        if isinstance(features, torch.Tensor):
            features = OrderedDict([("0", features)])
        proposals = net.rpn(images, features)[0][0]
    return output, resize_boxes(proposals, images.image_sizes[0], picture.size[::-1]).numpy()


def check_stages_equal_the_model(stages: DetectorStages, loaded, picture: Image.Image):
    output, proposals = run_model(loaded, picture)
    np.testing.assert_allclose(stages.boxes, output["boxes"].numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(stages.labels, output["labels"].numpy())
    np.testing.assert_allclose(stages.scores, output["scores"].numpy(), rtol=1e-5, atol=1e-6)
    pasted = paste_masks_in_image(torch.from_numpy(stages.masks)[:, None], output["boxes"], picture.size[::-1])
    np.testing.assert_allclose(pasted.numpy(), output["masks"].numpy(), atol=1e-5)
    np.testing.assert_allclose(stages.after_nms.boxes, proposals, rtol=1e-5, atol=1e-4)
    # the proposals NMS keeps are some of those it saw, best first
    before, after = stages.before_nms, stages.after_nms
    np.testing.assert_array_equal(before.boxes[stages.kept], after.boxes)
    np.testing.assert_array_equal(before.objectness[stages.kept], after.objectness)
    assert np.all(np.diff(before.objectness) <= 0) and np.all(np.diff(after.objectness) <= 0)
    assert len(before) >= len(after) == len(stages.class_scores)
    np.testing.assert_allclose(stages.class_scores.sum(1), 1, atol=1e-5)
    assert stages.class_scores.shape[1] == len(stages.class_names)
    assert stages.masks.shape == (len(stages.boxes), 28, 28)
    assert sum(stages.anchors) == sum(
        h * w * len(s) * len(r)
        for (_, h, w), s, r in zip(
            stages.features.values(),
            loaded.model.rpn.anchor_generator.sizes,
            loaded.model.rpn.anchor_generator.aspect_ratios,
            strict=True,
        )
    )


def test_lab_mask_rcnn_stages_equal_the_model():
    picture = scene_picture()
    stages = detector_stages(picture, "lab.maskrcnn", "cpu")
    loaded = segmentation.get_segmentation_model("lab.maskrcnn", "cpu")
    assert stages.working_size == (128, 128) and stages.picture_size == (160, 160)
    assert stages.features == {"0": (128, 32, 32)} and stages.anchors == [32 * 32 * 12]
    assert len(stages.boxes) >= 1 and stages.class_names == segmentation.LAB_CLASSES
    check_stages_equal_the_model(stages, loaded, picture)


def fresh_lab_model():
    entry = segmentation.segmentation_registry()["lab.maskrcnn"]
    return segmentation._prepare(entry, torch.device("cpu"))


def attributes(net: torch.nn.Module) -> dict:
    """Every module's attributes, and what a dict or list attribute holds, by identity."""

    def contents(value):
        if isinstance(value, dict):
            return {k: id(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [id(v) for v in value]
        return None

    return {
        (name, key): (id(value), contents(value)) for name, m in net.named_modules() for key, value in vars(m).items()
    }


def test_stages_write_nothing_on_the_shared_model():
    loaded = fresh_lab_model()  # never run: the first model() call stores anchors and pooling scales on it
    before = attributes(loaded.model)
    weights = {k: v.clone() for k, v in loaded.model.state_dict().items()}
    stages = detector_stages(scene_picture(12), loaded)
    assert attributes(loaded.model) == before
    assert all(torch.equal(v, weights[k]) for k, v in loaded.model.state_dict().items())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in loaded.model.modules())
    # the same results as the model, which does write on itself (so the check above can see a write)
    check_stages_equal_the_model(stages, loaded, scene_picture(12))
    assert attributes(loaded.model) != before


def test_coco_v2_architecture_stages_equal_the_model():
    """maskrcnn_resnet50_fpn_v2 with random weights (five FPN levels, multi-level RoIAlign), at a small size."""
    entry = segmentation.segmentation_registry()["maskrcnn_resnet50_fpn_v2.coco"]
    torch.manual_seed(0)
    net = entry.build().eval().requires_grad_(False)
    net.transform.min_size, net.transform.max_size = (128,), 214  # this instance only: keeps the test fast
    net.roi_heads.score_thresh = 0.0  # random weights score every class about 1/91: keep them all
    names = list(entry.torchvision_weights().meta["categories"])
    loaded = segmentation.SegmentationModel(entry.name, net, names, torch.device("cpu"), entry)
    picture = scene_picture(13, 200).resize((240, 200))
    stages = detector_stages(picture, loaded)
    assert stages.working_size == (153, 128) and len(stages.features) == 5
    assert len(set(stages.after_nms.level.tolist())) > 1 and len(stages.boxes) == 100
    check_stages_equal_the_model(stages, loaded, picture)


def test_stages_refuse_a_semantic_model():
    with pytest.raises(WeightsError):
        detector_stages(scene_picture(), "lab.unet")


def reference_anchors(loaded, picture) -> torch.Tensor:
    """torchvision's anchors for the picture, in the network's input pixels (a fresh model: calling writes on it)."""
    images, _ = loaded.model.transform([TF.to_tensor(picture.convert("RGB"))])
    features = loaded.model.backbone(images.tensors)
    if isinstance(features, torch.Tensor):
        features = OrderedDict([("0", features)])
    return loaded.model.rpn.anchor_generator(images, list(features.values()))[0]


@pytest.mark.parametrize("size", [(160, 160), (240, 200), (203, 131)])
def test_anchor_levels_are_the_rpn_anchors_on_the_picture(size):
    loaded = fresh_lab_model()
    picture = scene_picture(14, 200).resize(size)
    stages = detector_stages(picture, loaded)
    levels = anchor_levels(stages, fresh_lab_model())
    expected = reference_anchors(fresh_lab_model(), picture).numpy()
    (working_w, working_h), (picture_w, picture_h) = stages.working_size, stages.picture_size
    scale = np.array([picture_w / working_w, picture_h / working_h] * 2)
    ours = np.concatenate([level.boxes for level in levels]) / scale
    np.testing.assert_allclose(ours, expected, atol=1e-3)
    assert [len(level.boxes) for level in levels] == stages.anchors
    assert levels[0].per_location == 12 and levels[0].sizes == (12, 24, 48, 96)


def test_anchor_levels_of_the_five_fpn_levels():
    entry = segmentation.segmentation_registry()["maskrcnn_resnet50_fpn_v2.coco"]
    torch.manual_seed(0)
    net = entry.build().eval().requires_grad_(False)
    net.transform.min_size, net.transform.max_size = (128,), 214
    names = list(entry.torchvision_weights().meta["categories"])
    loaded = segmentation.SegmentationModel(entry.name, net, names, torch.device("cpu"), entry)
    picture = scene_picture(13, 200).resize((240, 200))
    stages = detector_stages(picture, loaded)
    levels = anchor_levels(stages, loaded)
    # the last level's width stride is 160 // 3 = 53: torchvision's integer division of the padded size
    assert [lv.stride for lv in levels] == [(4, 4), (8, 8), (16, 16), (32, 32), (64, 53)]
    assert [lv.sizes for lv in levels] == [(32,), (64,), (128,), (256,), (512,)]
    scale = np.array([240 / stages.working_size[0], 200 / stages.working_size[1]] * 2)
    with torch.inference_mode():
        expected = reference_anchors(loaded, picture).numpy()
    np.testing.assert_allclose(np.concatenate([lv.boxes for lv in levels]) / scale, expected, atol=1e-3)


@pytest.mark.parametrize("seed", range(8))
def test_matched_anchors_follow_torchvisions_matcher(seed):
    from torchvision.models.detection._utils import Matcher

    rng = np.random.default_rng(seed)
    anchor_boxes = anchors((64, 64), (8, 8), (8, 16, 32), (0.5, 1.0, 2.0))
    objects = random_boxes(rng, int(rng.integers(1, 5)), extent=64)
    objects[:, 2:] = np.maximum(objects[:, 2:], objects[:, :2] + 2)
    matcher = Matcher(0.7, 0.3, allow_low_quality_matches=True)
    owner = matcher(tv_box_iou(torch.from_numpy(objects), torch.from_numpy(anchor_boxes))).numpy()
    ours = matched_anchors(anchor_boxes, objects)
    for j, found in enumerate(ours):
        assert sorted(found.tolist()) == np.flatnonzero(owner == j).tolist()
        ious = box_iou(objects[j : j + 1], anchor_boxes[found])[0]
        assert np.all(np.diff(ious) <= 0)  # best first
    assert matched_anchors(anchor_boxes, np.zeros((0, 4))) == []


@pytest.mark.parametrize(
    ("width", "height", "window", "overlap"), [(640, 480, 64, 0.5), (257, 130, 128, 0.75), (50, 50, 50, 0)]
)
def test_sliding_windows_count_the_positions_unfold_visits(width, height, window, overlap):
    (scale,) = sliding_windows((width, height), [window], overlap)
    positions = F.unfold(torch.zeros(1, 1, height, width), window, stride=scale.stride).shape[-1]
    assert scale.count == positions == scale.positions[0] * scale.positions[1]
    assert sliding_windows((width, height), [max(width, height) + 1]) == []
    with pytest.raises(LessonInputError):
        sliding_windows((width, height), [window], 1.0)


def test_yolo_cells_hold_the_box_centres():
    boxes = np.array([[0, 0, 10, 10], [60, 40, 100, 100], [0, 0, 448, 448], [440, 440, 448, 448]])
    assert yolo_cells(boxes, (448, 448), 7) == [(0, 0), (1, 1), (3, 3), (6, 6)]  # 64-px cells
    assert yolo_cells(np.array([[100, 0, 300, 50]]), (400, 100), 2) == [(0, 1)]


def test_class_logits_give_the_top_classes():
    from cnnlab.features import class_logits, top_classes
    from cnnlab.models import get_model

    loaded = get_model("lab.shapes", "cpu")
    picture = scene_picture(3)
    logits = class_logits(loaded, picture)
    top = top_classes(loaded, picture, 2)
    probabilities = softmax_steps(logits).probabilities
    assert top[0].index == int(np.argmax(logits))
    assert probabilities[top[0].index] == pytest.approx(top[0].probability, rel=1e-5)


@pytest.mark.parametrize("seed", [0, 5, 12])
def test_head_candidates_through_nms_give_each_class_detections(seed):
    stages = detector_stages(scene_picture(seed), "lab.maskrcnn", "cpu")
    assert stages.class_boxes.shape == (*stages.class_scores.shape, 4)
    for label in range(1, len(stages.class_names)):
        boxes, scores = stages.head_candidates(label)
        assert np.all(np.diff(scores) <= 0) and np.all(scores > stages.score_threshold)
        steps = nms_steps(boxes, scores, stages.nms_threshold)
        kept = steps[-1].kept if steps else []
        mine = stages.labels == label
        np.testing.assert_allclose(boxes[kept], stages.boxes[mine], atol=1e-3)
        np.testing.assert_allclose(scores[kept], stages.scores[mine], atol=1e-6)
