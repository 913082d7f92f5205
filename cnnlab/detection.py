"""Object detection piece by piece: box overlap, non-maximum suppression, RoI pooling and RoIAlign,
anchors, the classifier's softmax, and the stages of a real Mask R-CNN.

    box_iou(a, b)                                     == torchvision.ops.box_iou
    nms_steps(boxes, scores, 0.5)[-1].kept            == torchvision.ops.nms
    roi_pool_steps(feature, box, 2)[-1].output        == torchvision.ops.roi_pool
    roi_align_steps(feature, box, 2)[-1].output       == torchvision.ops.roi_align
    anchors((H, W), (h, w), sizes, aspect_ratios)     == torchvision's AnchorGenerator, one level
    softmax_steps(logits, target)                     == torch.softmax, F.cross_entropy
    detector_stages(picture, "lab.maskrcnn")          == model([picture]), stage by stage

Boxes are (x1, y1, x2, y2) in pixels (xyxy), feature maps 2-D (H, W). Inputs may be NumPy or torch;
results are NumPy arrays and Python numbers. The step functions do the arithmetic themselves in plain
loops, to be read, in the precision torchvision's CPU kernels use (float32 for float32 inputs).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torchvision.models.detection.roi_heads import maskrcnn_inference
from torchvision.models.detection.rpn import concat_box_prediction_layers
from torchvision.models.detection.transform import resize_boxes
from torchvision.ops import MultiScaleRoIAlign
from torchvision.ops import boxes as box_ops
from torchvision.ops.poolers import _filter_input, _multiscale_roi_align, _setup_scales
from torchvision.transforms import functional as TF

from cnnlab.errors import LessonInputError
from cnnlab.models import check_aspect
from cnnlab.segmentation import SegmentationModel, _model_for
from cnnlab.steps import _check_steps

MAX_SAMPLES = 65536  # RoIAlign sample points in one step-through; an adaptive grid on a huge box asks for millions
MAX_MAP_SIDE = 256  # a feature map for RoI step-throughs; each step lists the cells or points it reads
FLT_MAX = float(np.finfo(np.float32).max)  # roi_pool starts each bin's maximum at -FLT_MAX, also for float64


# ---------------------------------------------------------------- inputs


def _is_float32(a) -> bool:
    if isinstance(a, torch.Tensor):
        return a.dtype == torch.float32
    return isinstance(a, np.ndarray) and a.dtype == np.float32


def _numbers(a, name: str, dtype=np.float64) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    try:
        return np.asarray(a, dtype=dtype)
    except (TypeError, ValueError):
        raise LessonInputError("error.not_finite", name=name) from None


def _finite(a: np.ndarray, name: str) -> np.ndarray:
    if not np.isfinite(a).all():
        raise LessonInputError("error.not_finite", name=name)
    return a


def _boxes(a, dtype=np.float64) -> np.ndarray:
    """(N, 4) boxes; an empty list is (0, 4)."""
    boxes = _numbers(a, "param.boxes", dtype)
    if boxes.size == 0:
        boxes = boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise LessonInputError("error.boxes_shape", shape=str(boxes.shape))
    return _finite(boxes, "param.boxes")


def _box(a, dtype=np.float64) -> np.ndarray:
    """One box, (4,); a (1, 4) row is accepted too."""
    box = _numbers(a, "param.boxes", dtype)
    if box.shape not in ((4,), (1, 4)):
        raise LessonInputError("error.boxes_shape", shape=str(box.shape))
    return _finite(box.reshape(4), "param.boxes")


def _vector(a, name: str, dtype=np.float64, allow_empty: bool = False) -> np.ndarray:
    v = np.atleast_1d(_numbers(a, name, dtype))
    if v.ndim != 1 or (v.size == 0 and not allow_empty):
        raise LessonInputError("error.not_vector", name=name, shape=str(v.shape))
    return _finite(v, name)


def _positive(values, name: str) -> list[float]:
    v = _vector(values, name)
    for value in v:
        if value <= 0:
            raise LessonInputError("error.positive", name=name, value=float(value))
    return [float(x) for x in v]


def _feature_map(a) -> tuple[np.ndarray, type]:
    """(H, W) feature map and the float type torchvision computes it in."""
    dtype = np.float32 if _is_float32(a) else np.float64
    m = _numbers(a, "param.feature_map", dtype)
    if m.ndim != 2 or 0 in m.shape:
        raise LessonInputError("error.not_matrix", name="param.feature_map", shape=str(m.shape))
    if max(m.shape) > MAX_MAP_SIDE:
        raise LessonInputError("error.too_big_to_draw", rows=m.shape[0], cols=m.shape[1], max=MAX_MAP_SIDE)
    return _finite(m, "param.feature_map"), dtype


def _whole_at_least_1(value, name: str) -> int:
    try:
        whole = not isinstance(value, bool) and float(value).is_integer() and value >= 1
    except (TypeError, ValueError):
        whole = False
    if not whole:
        raise LessonInputError("error.at_least_1", name=name, value=str(value))
    return int(value)


def _pair(size, name: str) -> tuple[int, int]:
    """An int n -> (n, n); a pair (height, width) as given. Both whole and at least 1."""
    if isinstance(size, torch.Size | tuple | list | np.ndarray):
        if len(size) != 2:
            raise LessonInputError("error.at_least_1", name=name, value=str(tuple(size)))
        return _whole_at_least_1(size[0], name), _whole_at_least_1(size[1], name)
    side = _whole_at_least_1(size, name)
    return side, side


def _spatial_scale(value) -> float:
    if not math.isfinite(float(value)) or value <= 0:
        raise LessonInputError("error.positive", name="param.spatial_scale", value=float(value))
    return float(value)


def _round_half_away(v: float) -> int:
    """C's round(): halves go away from zero (2.5 -> 3, -2.5 -> -3), not to the even neighbour as in Python."""
    whole = math.floor(abs(v))
    rounded = whole + 1 if abs(v) - whole >= 0.5 else whole  # the difference is exact; abs(v) + 0.5 can round
    return int(math.copysign(rounded, v))


# ---------------------------------------------------------------- IoU


def box_iou(a, b) -> np.ndarray:
    """(N, 4), (M, 4) xyxy boxes -> (N, M) float64 intersection over union, as torchvision.ops.box_iou.

    Two boxes of zero area give 0 / 0 = nan, as torchvision does.
    """
    a, b = _boxes(a), _boxes(b)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = (bottom_right - top_left).clip(min=0)
    intersection = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None, :] - intersection
    with np.errstate(divide="ignore", invalid="ignore"):
        return intersection / union


@dataclass(frozen=True)
class BoxOverlap:
    """The IoU of two boxes written out: iou = intersection / union, union = area_a + area_b - intersection.

    intersection_box: xyxy of the overlap, None when the boxes do not overlap (intersection 0).
    iou equals box_iou([a], [b])[0, 0] (nan for two empty boxes).
    """

    area_a: float
    area_b: float
    intersection_box: tuple[float, float, float, float] | None
    intersection: float
    union: float
    iou: float


def box_overlap(a, b) -> BoxOverlap:
    """Intersection, union and IoU of two xyxy boxes, each (4,)."""
    a, b = _box(a), _box(b)
    area_a = float((a[2] - a[0]) * (a[3] - a[1]))
    area_b = float((b[2] - b[0]) * (b[3] - b[1]))
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    intersection = float(max(x2 - x1, 0.0) * max(y2 - y1, 0.0))
    overlap = (float(x1), float(y1), float(x2), float(y2)) if intersection > 0 else None
    union = area_a + area_b - intersection
    iou = intersection / union if union else math.nan
    return BoxOverlap(area_a, area_b, overlap, intersection, union, iou)


# ---------------------------------------------------------------- non-maximum suppression


@dataclass(frozen=True)
class NmsStep:
    """One round of greedy non-maximum suppression.

    taken: index (into the input) of the best-scoring box still in play, which is kept; score: its score.
    suppressed: the boxes still in play whose IoU with it is above the threshold, removed (score order);
    ious: their IoU with the taken box. kept: the indices kept so far, in the order taken; the last
    step's equals torchvision.ops.nms. remaining: the boxes still in play after this round, best first.
    """

    taken: int
    score: float
    suppressed: list[int]
    ious: list[float]
    kept: list[int]
    remaining: list[int]


def _check_threshold(value) -> float:
    if not 0.0 <= float(value) <= 1.0:
        raise LessonInputError("error.iou_threshold", value=float(value))
    return float(value)


def nms_steps(boxes, scores, iou_threshold: float) -> list[NmsStep]:
    """The rounds of torchvision.ops.nms: boxes (N, 4) xyxy, scores (N,); one NmsStep per kept box.

    The boxes are visited best score first, boxes of equal score by index (torchvision's kernel sorts the
    scores with a stable sort). A box is suppressed when its IoU with a kept one is strictly above
    iou_threshold. IoUs are computed in the precision of the input (float32 or float64), as the kernel
    does, so that a box just at the threshold goes the same way. No boxes: no steps.
    """
    dtype = np.float32 if _is_float32(boxes) and _is_float32(scores) else np.float64
    boxes, scores = _boxes(boxes, dtype), _vector(scores, "param.scores", dtype, allow_empty=True)
    if len(scores) != len(boxes):
        raise LessonInputError("error.scores_count", boxes=len(boxes), scores=len(scores))
    threshold = _check_threshold(iou_threshold)
    _check_steps(len(boxes))
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1) * (y2 - y1)
    suppressed = np.zeros(len(boxes), dtype=bool)
    kept, steps = [], []
    for position, i in enumerate(order):
        if suppressed[i]:
            continue
        kept.append(int(i))
        later = np.array([j for j in order[position + 1 :] if not suppressed[j]], dtype=np.int64)
        # the kernel's arithmetic, in its precision: inter / (area_i + area_j - inter)
        w = np.maximum(dtype(0), np.minimum(x2[i], x2[later]) - np.maximum(x1[i], x1[later]))
        h = np.maximum(dtype(0), np.minimum(y2[i], y2[later]) - np.maximum(y1[i], y1[later]))
        inter = w * h
        with np.errstate(divide="ignore", invalid="ignore"):
            ious = (inter / (areas[i] + areas[later] - inter)).astype(np.float64)
        gone = ious > threshold  # compared in double, as the kernel compares with its double threshold
        suppressed[later[gone]] = True
        steps.append(
            NmsStep(
                int(i),
                float(scores[i]),
                [int(j) for j in later[gone]],
                [float(v) for v in ious[gone]],
                list(kept),
                [int(j) for j in later[~gone]],
            )
        )
    return steps


@dataclass(frozen=True)
class NmsExample:
    """A small NMS example: a drawn picture with two objects and the many overlapping boxes a detector like
    OverFeat proposes around each (boxes (N, 4) xyxy in its pixels, scores (N,))."""

    picture: Image.Image
    boxes: np.ndarray
    scores: np.ndarray


def nms_example() -> NmsExample:
    """Two shapes on a 320 × 200 canvas, with 5 and 4 boxes around them and one stray box."""
    from PIL import ImageDraw

    picture = Image.new("RGB", (320, 200), (236, 240, 244))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((40, 50, 140, 150), fill=(224, 49, 49))
    draw.polygon([(200, 160), (250, 50), (300, 160)], fill=(47, 158, 68))
    boxes = np.array(
        [
            [42, 48, 140, 152],
            [30, 40, 130, 140],
            [50, 60, 152, 160],
            [36, 52, 146, 146],
            [60, 30, 150, 130],
            [198, 48, 302, 162],
            [190, 60, 290, 170],
            [210, 40, 310, 150],
            [205, 70, 295, 165],
            [120, 20, 220, 90],
        ],
        dtype=np.float32,
    )
    scores = np.array([0.97, 0.84, 0.81, 0.9, 0.62, 0.95, 0.77, 0.7, 0.88, 0.35], dtype=np.float32)
    return NmsExample(picture, boxes, scores)


# ---------------------------------------------------------------- RoI pooling and RoIAlign


def _bins(output_size) -> tuple[int, int]:
    out_h, out_w = _pair(output_size, "param.output_size")
    _check_steps(out_h * out_w)
    return out_h, out_w


@dataclass(frozen=True)
class RoiPoolStep:
    """One output bin of RoI pooling: the largest value among the feature-map cells it covers.

    roi: the box on the feature map, x1, y1, x2, y2 = round(corner · spatial_scale), cells x1..x2 and
    y1..y2 inclusive (at least 1 × 1). bin_size: (height, width) of a bin in cells, fractional.
    rows, cols: the bin's cells [start, end) after rounding out (floor / ceil) and clipping to the map;
    cells: those (row, col). argmax: the cell whose value is taken (the first of equal ones), None for
    an empty bin, which gives 0. output: (out_h, out_w), the bins so far (the rest 0); filled marks them.
    """

    index: int
    bin: tuple[int, int]
    roi: tuple[int, int, int, int]
    bin_size: tuple[float, float]
    rows: tuple[int, int]
    cols: tuple[int, int]
    cells: tuple[tuple[int, int], ...]
    argmax: tuple[int, int] | None
    value: float
    output: np.ndarray
    filled: np.ndarray


def roi_pool_steps(feature, box, output_size, spatial_scale: float = 1.0) -> list[RoiPoolStep]:
    """The bins of torchvision.ops.roi_pool(feature[None, None], [box], output_size, spatial_scale), row by row.

    feature: (H, W); box: (4,) xyxy in picture pixels; output_size: n or (out_h, out_w).
    """
    feature, T = _feature_map(feature)
    box, scale = _box(box, T), T(_spatial_scale(spatial_scale))
    out_h, out_w = _bins(output_size)
    height, width = feature.shape
    x1, y1, x2, y2 = (_round_half_away(float(v * scale)) for v in box)
    roi_w, roi_h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)  # a malformed box becomes 1 × 1
    bin_h, bin_w = T(roi_h) / T(out_h), T(roi_w) / T(out_w)
    output, filled = np.zeros((out_h, out_w)), np.zeros((out_h, out_w), dtype=bool)
    steps = []
    for i in range(out_h):
        for j in range(out_w):
            top = min(max(math.floor(T(i) * bin_h) + y1, 0), height)
            bottom = min(max(math.ceil(T(i + 1) * bin_h) + y1, 0), height)
            left = min(max(math.floor(T(j) * bin_w) + x1, 0), width)
            right = min(max(math.ceil(T(j + 1) * bin_w) + x1, 0), width)
            cells = tuple((r, c) for r in range(top, bottom) for c in range(left, right))
            value, argmax = (0.0 if not cells else -FLT_MAX), None
            for r, c in cells:
                if feature[r, c] > value:
                    value, argmax = float(feature[r, c]), (r, c)
            output[i, j], filled[i, j] = value, True
            steps.append(
                RoiPoolStep(
                    len(steps),
                    (i, j),
                    (x1, y1, x2, y2),
                    (float(bin_h), float(bin_w)),
                    (top, bottom),
                    (left, right),
                    cells,
                    argmax,
                    value,
                    output.copy(),
                    filled.copy(),
                )
            )
    return steps


@dataclass(frozen=True)
class SamplePoint:
    """One bilinear sample of RoIAlign at (y, x) on the feature map, as computed (before clamping to the map).

    cells: its four neighbours (top-left, top-right, bottom-left, bottom-right), the same cell twice at
    the map's last row or column; weights: theirs, summing to 1; value: the weighted sum. A point above
    or left of -1, or below or right of the map's size, contributes 0: no cells, no weights. Between -1
    and 0 it is clamped to 0, beyond the last cell to the last cell.
    """

    y: float
    x: float
    cells: tuple[tuple[int, int], ...]
    weights: tuple[float, ...]
    value: float


@dataclass(frozen=True)
class RoiAlignStep:
    """One output bin of RoIAlign: the mean of grid[0] × grid[1] bilinear samples spread evenly over it.

    roi: the box on the feature map (x1, y1, x2, y2) = corners · spatial_scale, less 0.5 when aligned
    (pixel centres), not rounded. bin_size: (height, width) in cells; grid: samples (rows, cols) per bin;
    points: the samples, row by row; count: the divisor, grid[0]·grid[1] (at least 1; an empty grid gives 0).
    output: (out_h, out_w), the bins so far (the rest 0); filled marks them.
    """

    index: int
    bin: tuple[int, int]
    roi: tuple[float, float, float, float]
    bin_size: tuple[float, float]
    grid: tuple[int, int]
    points: tuple[SamplePoint, ...]
    count: int
    value: float
    output: np.ndarray
    filled: np.ndarray


def _bilinear(feature: np.ndarray, y, x, T: type) -> SamplePoint:
    """The sample at (y, x) by torchvision's rules (roi_align_common.h), in its precision T."""
    height, width = feature.shape
    if not (-1.0 <= y <= height and -1.0 <= x <= width):
        return SamplePoint(float(y), float(x), (), (), 0.0)
    yc, xc = (T(0) if y <= 0 else y), (T(0) if x <= 0 else x)
    y_low, x_low = int(yc), int(xc)
    if y_low >= height - 1:
        y_low = y_high = height - 1
        yc = T(y_low)
    else:
        y_high = y_low + 1
    if x_low >= width - 1:
        x_low = x_high = width - 1
        xc = T(x_low)
    else:
        x_high = x_low + 1
    ly, lx = yc - T(y_low), xc - T(x_low)
    hy, hx = T(1) - ly, T(1) - lx
    weights = (hy * hx, hy * lx, ly * hx, ly * lx)
    cells = ((y_low, x_low), (y_low, x_high), (y_high, x_low), (y_high, x_high))
    value = weights[0] * feature[cells[0]] + weights[1] * feature[cells[1]]
    value = value + weights[2] * feature[cells[2]] + weights[3] * feature[cells[3]]
    return SamplePoint(float(y), float(x), cells, tuple(float(w) for w in weights), value)


def roi_align_steps(
    feature, box, output_size, spatial_scale: float = 1.0, sampling_ratio: int = 2, aligned: bool = True
) -> list[RoiAlignStep]:
    """The bins of torchvision.ops.roi_align(feature[None, None], [box], output_size, spatial_scale,
    sampling_ratio, aligned), row by row.

    feature: (H, W); box: (4,) xyxy in picture pixels; output_size: n or (out_h, out_w).
    sampling_ratio > 0: that many samples per bin along each axis; <= 0: ceil(box size / bins) (adaptive).
    aligned=False is the original Mask R-CNN's version: no half-pixel offset, boxes at least 1 × 1.
    """
    feature, T = _feature_map(feature)
    box, scale = _box(box, T), T(_spatial_scale(spatial_scale))
    out_h, out_w = _bins(output_size)
    sampling_ratio = int(sampling_ratio)
    offset = T(0.5) if aligned else T(0)
    x1, y1, x2, y2 = (v * scale - offset for v in box)
    roi_w, roi_h = x2 - x1, y2 - y1
    if not aligned:
        roi_w, roi_h = max(roi_w, T(1)), max(roi_h, T(1))
    bin_h, bin_w = roi_h / T(out_h), roi_w / T(out_w)
    grid_h = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_h / T(out_h))
    grid_w = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_w / T(out_w))
    samples = out_h * out_w * max(grid_h, 0) * max(grid_w, 0)
    if samples > MAX_SAMPLES:
        raise LessonInputError("error.too_many_samples", count=samples, max=MAX_SAMPLES)
    count = max(grid_h * grid_w, 1)
    output, filled = np.zeros((out_h, out_w)), np.zeros((out_h, out_w), dtype=bool)
    steps = []
    for i in range(out_h):
        for j in range(out_w):
            points = []
            for iy in range(grid_h):
                y = y1 + T(i) * bin_h + T(iy + 0.5) * bin_h / T(grid_h)
                for ix in range(grid_w):
                    x = x1 + T(j) * bin_w + T(ix + 0.5) * bin_w / T(grid_w)
                    points.append(_bilinear(feature, y, x, T))
            total = T(0)
            for point in points:
                total = total + T(point.value)
            value = float(total / T(count))
            points = [SamplePoint(p.y, p.x, p.cells, p.weights, float(p.value)) for p in points]
            output[i, j], filled[i, j] = value, True
            steps.append(
                RoiAlignStep(
                    len(steps),
                    (i, j),
                    (float(x1), float(y1), float(x2), float(y2)),
                    (float(bin_h), float(bin_w)),
                    (max(grid_h, 0), max(grid_w, 0)),
                    tuple(points),
                    int(count),
                    value,
                    output.copy(),
                    filled.copy(),
                )
            )
    return steps


# ---------------------------------------------------------------- anchors


def cell_anchors(sizes, aspect_ratios) -> np.ndarray:
    """(len(aspect_ratios) · len(sizes), 4) anchors centred on (0, 0), as torchvision's AnchorGenerator makes them.

    For an aspect ratio r = height / width and a size s: height s·√r, width s/√r, so the area stays s².
    Corners (∓width/2, ∓height/2) are rounded to whole pixels (halves to even), in float32.
    Order: ratio by ratio, each with every size.
    """
    scales = torch.tensor(_positive(sizes, "param.anchor_sizes"), dtype=torch.float32)
    ratios = torch.tensor(_positive(aspect_ratios, "param.aspect_ratios"), dtype=torch.float32)
    h_ratios = torch.sqrt(ratios)
    w_ratios = 1 / h_ratios
    ws = (w_ratios[:, None] * scales[None, :]).view(-1)
    hs = (h_ratios[:, None] * scales[None, :]).view(-1)
    return (torch.stack([-ws, -hs, ws, hs], dim=1) / 2).round().double().numpy()


def anchor_stride(image_size, feature_size) -> tuple[int, int]:
    """(stride_y, stride_x): pixels between neighbouring anchor centres, image // feature along each axis."""
    (image_h, image_w), (feature_h, feature_w) = (
        _pair(image_size, "param.image_size"),
        _pair(feature_size, "param.feature_size"),
    )
    return image_h // feature_h, image_w // feature_w


def anchors(image_size, feature_size, sizes, aspect_ratios) -> np.ndarray:
    """(feature_h · feature_w · K, 4) xyxy anchor boxes of one feature level, K = len(sizes) · len(aspect_ratios).

    image_size, feature_size: (height, width) of the (padded) image tensor and of the feature map.
    The cell (row, col) is centred at (col · stride_x, row · stride_y) (its top-left pixel, as torchvision).
    Order as torchvision's AnchorGenerator: positions row by row; at each, the K cell_anchors in their order.
    """
    stride_y, stride_x = anchor_stride(image_size, feature_size)
    feature_h, feature_w = _pair(feature_size, "param.feature_size")
    base = torch.from_numpy(cell_anchors(sizes, aspect_ratios)).float()
    shift_y, shift_x = torch.meshgrid(
        torch.arange(feature_h) * stride_y, torch.arange(feature_w) * stride_x, indexing="ij"
    )
    shift_x, shift_y = shift_x.reshape(-1), shift_y.reshape(-1)
    shifts = torch.stack((shift_x, shift_y, shift_x, shift_y), dim=1)
    return (shifts.view(-1, 1, 4) + base.view(1, -1, 4)).reshape(-1, 4).double().numpy()


@dataclass(frozen=True)
class AnchorLevel:
    """The anchors of one feature map of a detector's RPN, in the picture's pixels.

    feature_size: (h, w) of the map; stride: (y, x) pixels of the network's input between anchor centres;
    sizes, aspect_ratios: the generator's settings for this level; boxes: (h · w · K, 4) xyxy anchors
    (K = len(sizes) · len(aspect_ratios)) in picture pixels, in the order of anchors().
    """

    name: str
    feature_size: tuple[int, int]
    stride: tuple[int, int]
    sizes: tuple[int, ...]
    aspect_ratios: tuple[float, ...]
    boxes: np.ndarray

    @property
    def per_location(self) -> int:
        return len(self.sizes) * len(self.aspect_ratios)


def anchor_levels(stages: DetectorStages, model: str | SegmentationModel | None = None) -> list[AnchorLevel]:
    """The RPN's anchors for the picture of `stages`, level by level, scaled to the picture's pixels.

    Reads the anchor generator's settings of the model (default: the one that made `stages`); writes nothing.
    """
    loaded = model if isinstance(model, SegmentationModel) else _model_for(model or stages.model_name, "instance", None)
    generator = loaded.model.rpn.anchor_generator
    working_w, working_h = stages.working_size
    picture_w, picture_h = stages.picture_size
    scale = np.array([picture_w / working_w, picture_h / working_h] * 2)
    # the network's input is padded to a multiple of the transform's size_divisible; strides come from that size
    divisible = loaded.model.transform.size_divisible
    padded = tuple(-(-v // divisible) * divisible for v in (working_h, working_w))
    levels = []
    for (name, (_, h, w)), sizes, ratios in zip(
        stages.features.items(), generator.sizes, generator.aspect_ratios, strict=True
    ):
        boxes = anchors(padded, (h, w), sizes, ratios) * scale
        levels.append(AnchorLevel(name, (h, w), anchor_stride(padded, (h, w)), tuple(sizes), tuple(ratios), boxes))
    return levels


def matched_anchors(anchor_boxes, objects, threshold: float = 0.7) -> list[np.ndarray]:
    """For each object box, the anchors the RPN learns to call "object" for it, as Faster R-CNN's matcher.

    anchor_boxes: (A, 4), objects: (N, 4) xyxy. An anchor belongs to the object it overlaps most; it is
    positive when that IoU ≥ threshold, and every object also keeps its best anchor(s) whatever their IoU
    (torchvision's Matcher(threshold, ·, allow_low_quality_matches=True)). Returns N arrays of anchor
    indices, highest IoU first.
    """
    anchor_boxes, objects = _boxes(anchor_boxes), _boxes(objects)
    if len(objects) == 0 or len(anchor_boxes) == 0:
        return [np.zeros(0, dtype=np.int64) for _ in objects]
    ious = np.nan_to_num(box_iou(objects, anchor_boxes))  # (N, A)
    owner = ious.argmax(axis=0)
    positive = ious.max(axis=0) >= threshold
    for j, best in enumerate(ious.max(axis=1)):
        if best > 0:
            # Matcher hands a low-quality anchor to the object it overlaps most (argmax), not to j
            positive |= ious[j] == best
    out = []
    for j in range(len(objects)):
        mine = np.flatnonzero(positive & (owner == j))
        out.append(mine[np.argsort(-ious[j, mine], kind="stable")])
    return out


# ---------------------------------------------------------------- sliding windows and YOLO's grid


@dataclass(frozen=True)
class WindowScale:
    """One window size slid over a picture: positions (rows, cols) at `stride` pixels, count = rows · cols."""

    window: int
    stride: int
    positions: tuple[int, int]
    count: int


def sliding_windows(picture_size, windows, overlap: float = 0.5) -> list[WindowScale]:
    """How many windows a sliding-window detector classifies: one classifier forward each.

    picture_size: (width, height); windows: square window sides in pixels (those larger than the picture
    are left out); consecutive windows overlap by `overlap` of a side (stride = side · (1 − overlap)).
    """
    width, height = _pair(picture_size, "param.image_size")
    if not 0 <= float(overlap) < 1:
        raise LessonInputError("error.overlap", value=overlap)
    scales = []
    for side in sorted({_whole_at_least_1(s, "param.window") for s in windows}):
        if side > min(width, height):
            continue
        stride = max(1, int(side * (1 - float(overlap))))
        rows, cols = (height - side) // stride + 1, (width - side) // stride + 1
        scales.append(WindowScale(side, stride, (rows, cols), rows * cols))
    return scales


def yolo_cells(boxes, picture_size, grid: int) -> list[tuple[int, int]]:
    """(row, col) of the S × S cell that holds each box's centre: the cell YOLO makes responsible for it.

    boxes: (N, 4) xyxy in pixels; picture_size: (width, height); a centre on the far edge belongs to the last cell.
    """
    width, height = _pair(picture_size, "param.image_size")
    grid = _whole_at_least_1(grid, "param.grid")
    cells = []
    for x1, y1, x2, y2 in _boxes(boxes):
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        cells.append((min(grid - 1, max(0, int(cy * grid / height))), min(grid - 1, max(0, int(cx * grid / width)))))
    return cells


@dataclass(frozen=True)
class YoloCell:
    """What YOLO v1 is trained to output in the cell that holds an object's centre.

    cell: (row, col); offset: the centre within the cell, (x, y) in [0, 1); size: (w, h) as fractions of the
    picture; vector: (5B + C,) the cell's numbers: for its first box slot x, y, w, h, confidence 1, the other
    slots 0, then the class probabilities (one-hot).
    """

    cell: tuple[int, int]
    offset: tuple[float, float]
    size: tuple[float, float]
    vector: np.ndarray


def yolo_cell(box, label: int, picture_size, grid: int = 7, boxes_per_cell: int = 2, classes: int = 20) -> YoloCell:
    """The target of one object for YOLO v1 (Redmon et al. 2016): box (4,) xyxy in pixels, label in [0, classes)."""
    width, height = _pair(picture_size, "param.image_size")
    grid = _whole_at_least_1(grid, "param.grid")
    boxes_per_cell = _whole_at_least_1(boxes_per_cell, "param.boxes_per_cell")
    classes = _whole_at_least_1(classes, "param.classes")
    if not 0 <= int(label) < classes:
        raise LessonInputError("error.label_range", label=int(label), classes=classes)
    x1, y1, x2, y2 = _box(box)
    ((row, col),) = yolo_cells([[x1, y1, x2, y2]], (width, height), grid)
    offset = ((x1 + x2) / 2 * grid / width - col, (y1 + y2) / 2 * grid / height - row)
    size = ((x2 - x1) / width, (y2 - y1) / height)
    vector = np.zeros(5 * boxes_per_cell + classes)
    vector[:5] = (*offset, *size, 1.0)
    vector[5 * boxes_per_cell + int(label)] = 1.0
    return YoloCell((row, col), (float(offset[0]), float(offset[1])), (float(size[0]), float(size[1])), vector)


# ---------------------------------------------------------------- softmax and cross-entropy


@dataclass(frozen=True)
class SoftmaxSteps:
    """Softmax of a classifier's logits z (C,), and its cross-entropy loss against a target class.

    shift: max(z), subtracted before exp so that no exp overflows (it cancels in the ratio).
    exp: exp(z - shift) per class; total: their sum; probabilities: exp / total, equal to torch.softmax.
    loss: -log p[target] = log(total) - (z[target] - shift), equal to F.cross_entropy; None without a target.
    """

    logits: np.ndarray
    shift: float
    exp: np.ndarray
    total: float
    probabilities: np.ndarray
    target: int | None
    loss: float | None


def softmax_steps(logits, target: int | None = None) -> SoftmaxSteps:
    """Softmax of (C,) logits and, with a target class index 0..C-1, the cross-entropy loss."""
    z = _vector(logits, "param.logits")
    if target is not None:
        if isinstance(target, bool) or not float(target).is_integer() or not 0 <= target < len(z):
            raise LessonInputError("error.target_class", value=target, last=len(z) - 1)
        target = int(target)
    shift = float(z.max())
    exp = np.exp(z - shift)
    total = float(exp.sum())
    loss = None if target is None else math.log(total) - (float(z[target]) - shift)
    return SoftmaxSteps(z, shift, exp, total, exp / total, target, loss)


# ---------------------------------------------------------------- inside a Mask R-CNN


@dataclass(frozen=True)
class Proposals:
    """Region proposals of the RPN.

    boxes: (P, 4) xyxy in the picture's pixels; objectness: (P,) the RPN's sigmoid score that a box holds
    an object; level: (P,) the feature map (FPN level, 0 = finest) each came from: NMS compares boxes
    of one level only.
    """

    boxes: np.ndarray
    objectness: np.ndarray
    level: np.ndarray

    def __len__(self) -> int:
        return len(self.boxes)


@dataclass(frozen=True)
class DetectorStages:
    """What a Mask R-CNN computes between a picture and its instances, in the order it does.

    picture_size: (width, height) of the picture; working_size: the same after model.transform's resize.
    features: {name: (C, H, W)} of the backbone's feature maps; anchors: anchors per feature map.
    before_nms: the RPN's best pre_nms_top_n proposals of each level, clipped to the picture, tiny ones
    (and any below rpn.score_thresh) dropped, best first; after_nms: what NMS (IoU above rpn_nms_thresh,
    per level) keeps of them, at most post_nms_top_n, best first, as model.rpn returns them;
    kept: (P,) index into before_nms of each.
    class_scores: (P, K) softmax of the box head for each after_nms proposal (column 0 = background).
    class_boxes: (P, K, 4) the box head's refined box of each proposal for each class, clipped to the picture.
    score_threshold, nms_threshold: the box head's settings for the final detections.
    boxes (D, 4) xyxy in the picture's pixels, labels (D,), scores (D,): the final detections, as
    model([picture]) returns them (score above box_score_thresh, NMS per class, best first).
    masks: (D, M, M) probabilities of each detection's class before they are pasted into its box (M = 28).
    """

    model_name: str
    class_names: list[str]
    picture_size: tuple[int, int]
    working_size: tuple[int, int]
    features: dict[str, tuple[int, int, int]]
    anchors: list[int]
    before_nms: Proposals
    after_nms: Proposals
    kept: np.ndarray
    class_scores: np.ndarray
    class_boxes: np.ndarray
    score_threshold: float
    nms_threshold: float
    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    masks: np.ndarray
    seconds: float
    device: str

    def head_candidates(self, label: int) -> tuple[np.ndarray, np.ndarray]:
        """The boxes (N, 4) and scores (N,) the box head's NMS compares for class `label`: the refined box of
        every proposal whose probability of that class is above score_threshold, best first.

        NMS over them at nms_threshold keeps this class's detections (torchvision runs it per class,
        then keeps the best detections_per_img of all classes).
        """
        scores = self.class_scores[:, label]
        boxes = self.class_boxes[:, label]
        wide = (boxes[:, 2] - boxes[:, 0] >= 1e-2) & (boxes[:, 3] - boxes[:, 1] >= 1e-2)
        keep = np.flatnonzero((scores > self.score_threshold) & wide)
        keep = keep[np.argsort(-scores[keep], kind="stable")]
        return boxes[keep], scores[keep]


def _pool(pool, features: dict[str, torch.Tensor], boxes: list[torch.Tensor], image_sizes) -> torch.Tensor:
    """pool(features, boxes, image_sizes) for a MultiScaleRoIAlign, without its side effect.

    On its first call MultiScaleRoIAlign stores the scales it infers on itself: that would write to a
    model every session shares. They are inferred here, locally, unless a run has stored them already.
    """
    if not isinstance(pool, MultiScaleRoIAlign):
        return pool(features, boxes, image_sizes)
    maps = _filter_input(features, pool.featmap_names)
    scales, mapper = pool.scales, pool.map_levels
    if scales is None or mapper is None:
        scales, mapper = _setup_scales(maps, image_sizes, pool.canonical_scale, pool.canonical_level)
    return _multiscale_roi_align(maps, boxes, pool.output_size, pool.sampling_ratio, scales, mapper)


@dataclass(frozen=True)
class _RpnResult:
    boxes: torch.Tensor  # (P, 4) the candidates NMS sees, in the network's (working) coordinates
    objectness: torch.Tensor  # (P,)
    level: torch.Tensor  # (P,)
    keep: torch.Tensor  # indices NMS keeps, best first, at most post_nms_top_n
    anchors: list[int]  # per feature map


def _rpn(rpn, images, features: dict[str, torch.Tensor]) -> _RpnResult:
    """The RPN's proposals before and after NMS for one image, by the steps of rpn.forward and
    rpn.filter_proposals. The anchors come from anchors(): calling the generator stores them on it."""
    maps = list(features.values())
    objectness, deltas = rpn.head(maps)
    per_level = [o[0].numel() for o in objectness]
    generator, image_size = rpn.anchor_generator, tuple(images.tensors.shape[-2:])
    level_anchors = [
        anchors(image_size, tuple(m.shape[-2:]), sizes, ratios)
        for m, sizes, ratios in zip(maps, generator.sizes, generator.aspect_ratios, strict=True)
    ]
    all_anchors = torch.from_numpy(np.concatenate(level_anchors)).to(maps[0].device, maps[0].dtype)
    objectness, deltas = concat_box_prediction_layers(objectness, deltas)
    proposals = rpn.box_coder.decode(deltas, [all_anchors]).view(-1, 4)
    objectness = objectness.reshape(1, -1)
    levels = torch.cat([torch.full((n,), k, dtype=torch.int64) for k, n in enumerate(per_level)]).to(proposals.device)
    top, offset = [], 0
    for ob in objectness.split(per_level, 1):  # the best pre_nms_top_n of every level
        top.append(ob.topk(min(rpn.pre_nms_top_n(), ob.shape[1]), dim=1)[1] + offset)
        offset += ob.shape[1]
    top = torch.cat(top, dim=1)[0]
    boxes = box_ops.clip_boxes_to_image(proposals[top], images.image_sizes[0])
    scores, levels = torch.sigmoid(objectness[0, top]), levels[top]
    keep = box_ops.remove_small_boxes(boxes, rpn.min_size)
    boxes, scores, levels = boxes[keep], scores[keep], levels[keep]
    keep = torch.where(scores >= rpn.score_thresh)[0]
    boxes, scores, levels = boxes[keep], scores[keep], levels[keep]
    keep = box_ops.batched_nms(boxes, scores, levels, rpn.nms_thresh)[: rpn.post_nms_top_n()]
    return _RpnResult(boxes, scores, levels, keep, per_level)


def detector_stages(
    image: Image.Image, model: str | SegmentationModel = "lab.maskrcnn", device: torch.device | str | None = None
) -> DetectorStages:
    """Run an instance-segmentation model of cnnlab.segmentation on a PIL picture, stage by stage.

    model: a registry name ("lab.maskrcnn" offline, "maskrcnn_resnet50_fpn_v2.coco" when cached) or a
    loaded SegmentationModel. Calls the model's own submodules (transform, backbone, rpn, roi_heads) one
    by one; registers no hook and writes nothing on the model, which every session shares.
    LessonInputError for a picture too thin for a network; WeightsError for a model that is not there.
    """
    check_aspect(image)
    loaded = model if isinstance(model, SegmentationModel) else _model_for(model, "instance", device)
    net, rgb = loaded.model, image.convert("RGB")
    started = time.perf_counter()
    with torch.inference_mode():
        images, _ = net.transform([TF.to_tensor(rgb).to(loaded.device)])
        features = net.backbone(images.tensors)
        if isinstance(features, torch.Tensor):
            features = OrderedDict([("0", features)])
        rpn = _rpn(net.rpn, images, features)
        heads, image_sizes = net.roi_heads, images.image_sizes
        proposals = [rpn.boxes[rpn.keep]]
        box_features = heads.box_head(_pool(heads.box_roi_pool, features, proposals, image_sizes))
        class_logits, box_regression = heads.box_predictor(box_features)
        refined = box_ops.clip_boxes_to_image(heads.box_coder.decode(box_regression, proposals), image_sizes[0])
        found, scores, labels = (
            r[0] for r in heads.postprocess_detections(class_logits, box_regression, proposals, image_sizes)
        )
        if heads.has_mask():
            mask_features = heads.mask_head(_pool(heads.mask_roi_pool, features, [found], image_sizes))
            masks = maskrcnn_inference(heads.mask_predictor(mask_features), [labels])[0][:, 0]
        else:
            masks = torch.zeros((len(found), 0, 0))
        working_hw, picture_hw = tuple(int(v) for v in image_sizes[0]), rgb.size[::-1]

        def on_picture(boxes: torch.Tensor) -> np.ndarray:
            return resize_boxes(boxes, working_hw, picture_hw).float().cpu().numpy()

        def proposals_of(index: torch.Tensor) -> Proposals:
            return Proposals(
                on_picture(rpn.boxes[index]),
                rpn.objectness[index].float().cpu().numpy(),
                rpn.level[index].cpu().numpy(),
            )

        best_first = torch.sort(rpn.objectness, descending=True, stable=True)[1]
        rank = torch.empty_like(best_first)
        rank[best_first] = torch.arange(len(best_first), device=best_first.device)
        stages = DetectorStages(
            loaded.name,
            list(loaded.class_names),
            rgb.size,
            working_hw[::-1],
            {name: tuple(int(v) for v in f.shape[1:]) for name, f in features.items()},
            rpn.anchors,
            proposals_of(best_first),
            proposals_of(rpn.keep),
            rank[rpn.keep].cpu().numpy(),
            torch.softmax(class_logits, -1).float().cpu().numpy(),
            on_picture(refined.reshape(-1, 4)).reshape(refined.shape),
            float(heads.score_thresh),
            float(heads.nms_thresh),
            on_picture(found),
            labels.cpu().numpy(),
            scores.float().cpu().numpy(),
            masks.float().cpu().numpy(),
            time.perf_counter() - started,
            loaded.device.type,
        )
    return stages
