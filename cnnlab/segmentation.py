"""Segmentation of a picture, semantic (a class per pixel) and instance (a mask per object).

    segment(image, "lab.unet") -> Segmentation: class map (H, W), 0 = background, and class names
    detect_instances(image, "lab.maskrcnn") -> [Instance(label, score, box xyxy, mask (H, W) bool), ...]

Models come from one registry: the lab models trained here on generated shapes (shipped as
safetensors, offline) and torchvision's pretrained ones when their weights are cached.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torchvision.transforms import functional as TF

from cnnlab.assets import ASSETS
from cnnlab.device import best_device, move_or_cpu
from cnnlab.lab_models import MASK_RCNN_FILE, UNET_CONFIG, UNET_FILE, lab_mask_rcnn
from cnnlab.models import _cache, check_aspect
from cnnlab.shapes import CLASSES
from cnnlab.unet import UNet
from cnnlab.weights import WeightsError, load_cached_weights, load_lab_weights

LAB_CLASSES = ["background", *CLASSES]
UNET_SIDE = 96  # the lab U-Net sees the picture with its longer side at about this size
SEMANTIC_SIDE = {"cpu": 384, "cuda": 520, "mps": 520}  # shorter side for torchvision's FCN/DeepLabV3
INSTANCE_SIDE = {"cpu": 512, "cuda": 800, "mps": 800}  # shorter side for torchvision's Mask R-CNN
MAX_SIDE_RATIO = 1333 / 800  # for both: the longer side at most this times the shorter's (Mask R-CNN's default)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class SegmentationEntry:
    name: str
    task: str  # 'semantic' or 'instance'
    build: Callable[[], nn.Module]  # random weights, nothing downloaded
    torchvision_weights: Callable[[], object] | None = None
    lab_file: Path | None = None
    # Every pixel belongs to at most one object (the generated shapes occlude): an instance
    # mostly covered by better-scored ones is a duplicate of another class, so it is dropped.
    exclusive_instances: bool = False


def _tv(module: str, builder: str, weights: str, member: str, **kwargs):
    import importlib

    def build():
        return getattr(importlib.import_module(module), builder)(weights=None, weights_backbone=None, **kwargs)

    def enum_member():
        return getattr(getattr(importlib.import_module(module), weights), member)

    return build, enum_member


def segmentation_registry() -> dict[str, SegmentationEntry]:
    seg, det = "torchvision.models.segmentation", "torchvision.models.detection"
    fcn = _tv(seg, "fcn_resnet50", "FCN_ResNet50_Weights", "COCO_WITH_VOC_LABELS_V1", num_classes=21, aux_loss=True)
    deeplab = _tv(
        seg,
        "deeplabv3_resnet50",
        "DeepLabV3_ResNet50_Weights",
        "COCO_WITH_VOC_LABELS_V1",
        num_classes=21,
        aux_loss=True,
    )
    maskrcnn = _tv(det, "maskrcnn_resnet50_fpn_v2", "MaskRCNN_ResNet50_FPN_V2_Weights", "COCO_V1", num_classes=91)
    return {
        "lab.unet": SegmentationEntry("lab.unet", "semantic", lambda: UNet(**UNET_CONFIG), lab_file=UNET_FILE),
        "fcn_resnet50.voc": SegmentationEntry("fcn_resnet50.voc", "semantic", *fcn),
        "deeplabv3_resnet50.voc": SegmentationEntry("deeplabv3_resnet50.voc", "semantic", *deeplab),
        "lab.maskrcnn": SegmentationEntry(
            "lab.maskrcnn", "instance", lab_mask_rcnn, lab_file=MASK_RCNN_FILE, exclusive_instances=True
        ),
        "maskrcnn_resnet50_fpn_v2.coco": SegmentationEntry("maskrcnn_resnet50_fpn_v2.coco", "instance", *maskrcnn),
    }


def segmentation_models(task: str | None = None) -> list[str]:
    """Names in the registry, of one task ('semantic' or 'instance') or all."""
    return [n for n, e in segmentation_registry().items() if task is None or e.task == task]


def mean_iou(predicted: np.ndarray, target: np.ndarray, num_classes: int) -> float:
    """Mean over classes present in either map of |pred ∩ target| / |pred ∪ target|; same-shape int arrays."""
    ious = []
    for c in range(num_classes):
        p, t = predicted == c, target == c
        union = np.logical_or(p, t).sum()
        if union:
            ious.append(np.logical_and(p, t).sum() / union)
    return float(np.mean(ious))


@dataclass(frozen=True)
class SegmentationModel:
    name: str
    model: nn.Module
    class_names: list[str]  # index 0 is the background
    device: torch.device
    entry: SegmentationEntry
    note: str | None = None  # 'cuda_oom' after a fall back to the CPU


def _load(entry: SegmentationEntry) -> tuple[nn.Module, list[str]]:
    model = entry.build()
    if entry.lab_file is not None:
        load_lab_weights(model, entry.lab_file)
        return model, list(LAB_CLASSES)
    load_cached_weights(model, entry.name)
    return model, list(entry.torchvision_weights().meta["categories"])


def _prepare(entry: SegmentationEntry, device: torch.device) -> SegmentationModel:
    """entry's model with its weights, in eval mode, on device (or on the CPU, with a note, if the GPU is full)."""
    model, names = _load(entry)
    model.eval().requires_grad_(False)
    if entry.task == "instance" and entry.lab_file is None:
        side = INSTANCE_SIDE.get(device.type, 800)  # set before the instance is shared, never after
        model.transform.min_size, model.transform.max_size = (side,), round(side * MAX_SIDE_RATIO)
    placed, note = move_or_cpu(model, device)
    return SegmentationModel(entry.name, model, names, placed, entry, note)


def get_segmentation_model(name: str, device: torch.device | str | None = None) -> SegmentationModel:
    """The shared eval-mode instance of a segmentation model (one per process and device, in cnnlab.models' cache).

    WeightsError when its weights are missing or damaged; CUDA out of memory -> the CPU, with a note.
    """
    entries = segmentation_registry()
    if name not in entries:
        raise WeightsError("weights.error.unknown_model", name=name, known=", ".join(entries))
    device = torch.device(device) if device is not None else best_device()
    return _cache.get((name, str(device)), lambda: _prepare(entries[name], device))


def _model_for(name: str, task: str, device) -> SegmentationModel:
    """get_segmentation_model, after checking that `name` is a model of `task`."""
    if name not in segmentation_models(task):
        raise WeightsError("weights.error.unknown_model", name=name, known=", ".join(segmentation_models(task)))
    return get_segmentation_model(name, device)


@dataclass(frozen=True)
class Segmentation:
    classes: np.ndarray  # (H, W) int64 class index per pixel of the input picture, 0 = background
    probabilities: np.ndarray  # (K, H, W) float32 softmax per class
    class_names: list[str]
    working_size: tuple[int, int]  # (width, height) the network saw
    seconds: float  # inference time, preprocessing to class map
    device: str

    def compact(self, max_side: int = 480) -> Segmentation:
        """The same result with the probabilities averaged down to at most max_side a side.

        A probability map is drawn a few hundred pixels wide; at a 1-megapixel picture's size,
        21 VOC classes take 84 MB, too much to keep per cached picture.
        """
        k, h, w = self.probabilities.shape
        if max(h, w) <= max_side:
            return self
        size = (max(1, round(h * max_side / max(h, w))), max(1, round(w * max_side / max(h, w))))
        small = F.interpolate(torch.from_numpy(self.probabilities)[None], size=size, mode="area")[0]
        return replace(self, probabilities=small.numpy())


def _scaled_size(size: tuple[int, int], longer: int, shorter: int | None = None, multiple: int = 1) -> tuple[int, int]:
    """(w, h) scaled so that its shorter side is `shorter` but its longer side at most `longer`
    (without `shorter`: exactly `longer`), each rounded to a multiple."""
    scale = longer / max(size) if shorter is None else min(shorter / min(size), longer / max(size))
    return tuple(max(multiple, round(v * scale / multiple) * multiple) for v in size)


def segment(image: Image.Image, model_name: str = "lab.unet", device: torch.device | str | None = None) -> Segmentation:
    """A per-pixel class map of a PIL image at its own size.

    The picture is scaled for the network (lab U-Net: longer side UNET_SIDE, a multiple of 2**depth;
    FCN/DeepLabV3: shorter side SEMANTIC_SIDE, longer side at most MAX_SIDE_RATIO times that),
    segmented, and the class probabilities scaled back bilinearly to the picture's size.
    LessonInputError for a picture too thin for a network (cnnlab.models.check_aspect).
    """
    return segment_batch([image], model_name, device)[0]


def _network_input(loaded: SegmentationModel, rgb: Image.Image) -> torch.Tensor:
    """(3, h, w): the picture scaled and normalised as the semantic model expects it."""
    if loaded.entry.lab_file is not None:
        w, h = _scaled_size(rgb.size, UNET_SIDE, multiple=loaded.model.multiple)
        return TF.to_tensor(rgb.resize((w, h), Image.Resampling.BILINEAR))
    side = SEMANTIC_SIDE.get(loaded.device.type, 520)
    w, h = _scaled_size(rgb.size, round(side * MAX_SIDE_RATIO), shorter=side)
    return TF.normalize(TF.to_tensor(rgb.resize((w, h), Image.Resampling.BILINEAR)), IMAGENET_MEAN, IMAGENET_STD)


def segment_batch(
    images: list[Image.Image], model_name: str = "lab.unet", device: torch.device | str | None = None
) -> list[Segmentation]:
    """segment() for several pictures: those the network sees at the same size go through in one
    (B, 3, h, w) forward (what an inference service does with many students' requests).
    Each Segmentation's `seconds` is its group's time."""
    for image in images:
        check_aspect(image)
    loaded = _model_for(model_name, "semantic", device)
    pictures = [image.convert("RGB") for image in images]
    inputs = [_network_input(loaded, rgb) for rgb in pictures]
    groups: dict[tuple[int, int], list[int]] = {}
    for index, x in enumerate(inputs):
        groups.setdefault(tuple(x.shape[1:]), []).append(index)
    results: list[Segmentation | None] = [None] * len(images)
    for members in groups.values():
        started = time.perf_counter()
        with torch.inference_mode():
            logits = loaded.model(torch.stack([inputs[i] for i in members]).to(loaded.device))
            logits = logits["out"] if isinstance(logits, dict) else logits
            maps = []
            for row, i in enumerate(members):
                scaled = nn.functional.interpolate(
                    logits[row : row + 1], size=pictures[i].size[::-1], mode="bilinear", align_corners=False
                )
                maps.append(scaled.softmax(1)[0].float().cpu())
        seconds = time.perf_counter() - started
        for i, probabilities in zip(members, maps, strict=True):
            h, w = inputs[i].shape[1:]
            results[i] = Segmentation(
                probabilities.max(0).indices.numpy(),  # argmax(0) is ~25× slower over a (K, H, W) tensor on the CPU
                probabilities.numpy(),
                loaded.class_names,
                (w, h),
                seconds,
                loaded.device.type,
            )
    return results


@dataclass(frozen=True)
class Instance:
    label: str
    label_index: int
    score: float
    box: tuple[float, float, float, float]  # xyxy in the picture's pixels
    mask: np.ndarray  # (H, W) bool at the picture's size


@dataclass(frozen=True)
class Detection:
    instances: list[Instance]
    working_size: tuple[int, int]  # (width, height) the network saw
    seconds: float
    device: str
    exclusive: bool = False  # every pixel belongs to one object at most (see SegmentationEntry)

    def above(self, score_threshold: float) -> Detection:
        """The instances scoring at least score_threshold, duplicates dropped for exclusive models.

        No network runs: a page keeps the full detection and moves this threshold freely.
        """
        kept = [i for i in self.instances if i.score >= score_threshold]
        if self.exclusive:
            kept = drop_covered(kept)
        return replace(self, instances=kept)


def detect(
    image: Image.Image,
    model_name: str = "lab.maskrcnn",
    score_threshold: float = 0.5,
    mask_threshold: float = 0.5,
    device: torch.device | str | None = None,
) -> Detection:
    """Instances found by a Mask R-CNN in a PIL image, best score first, with timing and the size used.

    LessonInputError for a picture too thin for a network (cnnlab.models.check_aspect).
    """
    return detect_all(image, model_name, mask_threshold, device).above(score_threshold)


def detect_all(
    image: Image.Image,
    model_name: str = "lab.maskrcnn",
    mask_threshold: float = 0.5,
    device: torch.device | str | None = None,
) -> Detection:
    """Every instance the model returns (its own floor is a score of 0.05), none dropped yet.

    A page caches this per picture and model and applies Detection.above(score) as the slider
    moves, so the score threshold never runs the network again.
    """
    return detect_batch([image], model_name, mask_threshold, device)[0]


def detect_batch(
    images: list[Image.Image],
    model_name: str = "lab.maskrcnn",
    mask_threshold: float = 0.5,
    device: torch.device | str | None = None,
) -> list[Detection]:
    """detect_all for several pictures in one forward (the model pads them to one (B, 3, H, W) batch).

    What an inference service does with the requests of many students at once; each Detection's
    `seconds` is the whole batch's time. LessonInputError for a picture too thin for a network.
    """
    for image in images:
        check_aspect(image)
    loaded = _model_for(model_name, "instance", device)
    pictures = [image.convert("RGB") for image in images]
    started = time.perf_counter()
    with torch.inference_mode():
        outputs = loaded.model([TF.to_tensor(rgb).to(loaded.device) for rgb in pictures])
    seconds = time.perf_counter() - started
    transform = loaded.model.transform  # resizes inside the model; boxes and masks come back at the picture's size
    found = []
    for rgb, output in zip(pictures, outputs, strict=True):
        instances = [
            Instance(
                loaded.class_names[int(label)],
                int(label),
                float(score),
                tuple(float(v) for v in box),
                (mask[0] > mask_threshold).cpu().numpy(),
            )
            for box, label, score, mask in zip(
                output["boxes"], output["labels"], output["scores"], output["masks"], strict=True
            )
        ]
        ratio = min(transform.min_size[0] / min(rgb.size), transform.max_size / max(rgb.size))
        working = tuple(round(v * ratio) for v in rgb.size)
        found.append(Detection(instances, working, seconds, loaded.device.type, loaded.entry.exclusive_instances))
    return found


def drop_covered(instances: list[Instance], cover: float = 0.5) -> list[Instance]:
    """The instances (best score first) less those whose mask is more than `cover` inside the masks kept before."""
    kept, taken = [], None
    for instance in instances:
        if taken is not None and (instance.mask & taken).sum() > cover * max(int(instance.mask.sum()), 1):
            continue
        kept.append(instance)
        taken = instance.mask.copy() if taken is None else taken | instance.mask
    return kept


def detect_instances(
    image: Image.Image, model_name: str = "lab.maskrcnn", score_threshold: float = 0.5
) -> list[Instance]:
    """The instances of a PIL image: label, score, box (xyxy) and a boolean mask of the image's size."""
    return detect(image, model_name, score_threshold).instances


DISTINCT = (  # Sasha Trubetskoy's 20 distinct colours, most distinguishable first
    (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240),
    (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (220, 190, 255), (170, 110, 40),
    (255, 250, 200), (128, 0, 0), (170, 255, 195), (128, 128, 0), (255, 215, 180), (0, 0, 128), (128, 128, 128),
)  # fmt: skip


def palette(n: int) -> np.ndarray:
    """(n, 3) uint8 class colours: black for the background, then DISTINCT, repeated beyond 21 classes."""
    colours = np.zeros((n, 3), dtype=np.uint8)
    for index in range(1, n):
        colours[index] = DISTINCT[(index - 1) % len(DISTINCT)]
    return colours


def overlay(image: Image.Image, classes: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """(H, W, 3) uint8: the picture with every non-background pixel tinted by its class colour."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    colours = palette(int(classes.max()) + 1)[classes].astype(np.float32)
    tinted = np.where((classes > 0)[..., None], (1 - alpha) * rgb + alpha * colours, rgb)
    return tinted.round().astype(np.uint8)


def class_areas(classes: np.ndarray, num_classes: int) -> np.ndarray:
    """(num_classes,) share of the picture's pixels given to each class (sums to 1)."""
    return np.bincount(classes.ravel(), minlength=num_classes)[:num_classes] / classes.size


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two boolean masks of the same shape."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0


def match_instances(
    masks: np.ndarray, labels: np.ndarray, true_masks: np.ndarray, true_labels: np.ndarray
) -> list[tuple[float, bool]]:
    """Greedy one-to-one matching of predicted to true masks by IoU, best pairs first.

    masks: (N, H, W) bool, labels (N,); true_masks (M, H, W) bool, true_labels (M,).
    Returns (IoU, same class) for each true instance; unmatched ones count as (0.0, False).
    """
    pairs = sorted(
        ((mask_iou(p, t), i, j) for i, p in enumerate(masks) for j, t in enumerate(true_masks)), reverse=True
    )
    used_pred, result = set(), {}
    for iou, i, j in pairs:
        if iou > 0 and i not in used_pred and j not in result:
            used_pred.add(i)
            result[j] = (iou, bool(labels[i] == true_labels[j]))
    return [result.get(j, (0.0, False)) for j in range(len(true_masks))]


DRAWING_SIDE = 600  # small pictures are enlarged to about this before drawing, so that the labels can be read
LABEL_FONT = ASSETS / "fonts" / "DejaVuSans.ttf"  # has ă, â, î, ș, ț


def draw_instances(
    image: Image.Image,
    instances: list[Instance],
    num_classes: int,
    names: list[str] | None = None,
    score_text: Callable[[float], str] | None = None,
) -> np.ndarray:
    """(k·H, k·W, 3) uint8: the picture with each instance's mask, box and 'number: name score' drawn
    (torchvision's utilities); names default to the labels, score_text (the page's language: '0,93')
    to two decimals with a point. k = 1, or a whole number that brings a small picture's longer side
    to about DRAWING_SIDE."""
    from torchvision.utils import draw_bounding_boxes, draw_segmentation_masks

    k = max(1, round(DRAWING_SIDE / max(image.size)))
    pixels = np.asarray(image.convert("RGB")).repeat(k, 0).repeat(k, 1)
    canvas = torch.from_numpy(pixels.copy()).permute(2, 0, 1)
    if not instances:
        return canvas.permute(1, 2, 0).numpy()
    class_colours = palette(num_classes)
    colours = [tuple(int(v) for v in class_colours[i.label_index]) for i in instances]
    masks = torch.from_numpy(np.stack([i.mask.repeat(k, 0).repeat(k, 1) for i in instances]))
    canvas = draw_segmentation_masks(canvas, masks, alpha=0.45, colors=colours)
    boxes = torch.tensor([i.box for i in instances], dtype=torch.float32) * k
    width = max(2, round(k * max(image.size) / 250))
    names = names or [i.label for i in instances]
    score_text = score_text or (lambda score: f"{score:.2f}")
    labels = [f"{n}: {name} {score_text(i.score)}" for n, (name, i) in enumerate(zip(names, instances, strict=True), 1)]
    font_size = max(12, round(max(canvas.shape[1:]) / 42))
    font = {"font": str(LABEL_FONT), "font_size": font_size} if LABEL_FONT.is_file() else {}
    canvas = draw_bounding_boxes(canvas, boxes, labels=labels, colors=colours, width=width, fill_labels=True, **font)
    return canvas.permute(1, 2, 0).numpy()


def colour_mask(classes: np.ndarray, num_classes: int) -> np.ndarray:
    """(H, W, 3) uint8: every pixel in its class colour, the background black."""
    return palette(num_classes)[classes]
