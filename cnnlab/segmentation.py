"""Semantic segmentation of a picture: a per-pixel class map, with the lab U-Net trained on generated shapes.

segment(image, "lab.unet") -> Segmentation(classes (H, W) int, names, probabilities (K, H, W), ...)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torchvision.transforms import functional as TF

from cnnlab.device import best_device
from cnnlab.lab_models import UNET_CONFIG, UNET_FILE
from cnnlab.shapes import CLASSES
from cnnlab.unet import UNet
from cnnlab.weights import WeightsError

WORKING_SIDE = 96  # the lab U-Net sees the picture with its longer side at this size


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
    model: torch.nn.Module
    class_names: list[str]  # index 0 is the background
    device: torch.device


_cache: dict[tuple[str, str], SegmentationModel] = {}
_lock = threading.Lock()


def segmentation_models() -> list[str]:
    return ["lab.unet"]


def get_segmentation_model(name: str, device: torch.device | str | None = None) -> SegmentationModel:
    """The shared eval-mode instance of a segmentation model (one per process and device)."""
    if name not in segmentation_models():
        raise WeightsError("weights.error.unknown_model", name=name, known=", ".join(segmentation_models()))
    device = torch.device(device) if device is not None else best_device()
    with _lock:
        if (name, str(device)) not in _cache:
            from safetensors.torch import load_file

            if not UNET_FILE.is_file():
                raise WeightsError("weights.error.lab_missing", path=str(UNET_FILE))
            model = UNet(**UNET_CONFIG)
            model.load_state_dict(load_file(UNET_FILE))
            model.eval().requires_grad_(False).to(device)
            _cache[(name, str(device))] = SegmentationModel(name, model, ["background", *CLASSES], device)
        return _cache[(name, str(device))]


@dataclass(frozen=True)
class Segmentation:
    classes: np.ndarray  # (H, W) int64 class index per pixel of the input picture, 0 = background
    probabilities: np.ndarray  # (K, H, W) float32 softmax per class
    class_names: list[str]
    working_size: tuple[int, int]  # (width, height) the network saw
    seconds: float  # inference time, preprocessing to class map
    device: str


def segment(image: Image.Image, model_name: str = "lab.unet", device: torch.device | str | None = None) -> Segmentation:
    """A per-pixel class map of a PIL image at its own size.

    The picture is scaled so that its longer side is WORKING_SIDE (rounded to the U-Net's multiple),
    segmented, and the class probabilities scaled back bilinearly.
    """
    loaded = get_segmentation_model(model_name, device)
    started = time.perf_counter()
    rgb = image.convert("RGB")
    scale = WORKING_SIDE / max(rgb.size)
    multiple = loaded.model.multiple
    w, h = (max(multiple, round(side * scale / multiple) * multiple) for side in rgb.size)
    x = TF.to_tensor(rgb.resize((w, h), Image.Resampling.BILINEAR))[None].to(loaded.device)
    with torch.inference_mode():
        logits = loaded.model(x)
        logits = torch.nn.functional.interpolate(logits, size=rgb.size[::-1], mode="bilinear", align_corners=False)
        probabilities = logits.softmax(1)[0].float().cpu()
    return Segmentation(
        probabilities.argmax(0).numpy(),
        probabilities.numpy(),
        loaded.class_names,
        (w, h),
        time.perf_counter() - started,
        loaded.device.type,
    )


PALETTE = np.array(
    [[0, 0, 0], [230, 25, 75], [60, 180, 75], [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240]],
    dtype=np.uint8,
)  # background, then one colour per class; distinct for colour-blind viewers as far as 6 colours go


def overlay(image: Image.Image, classes: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """(H, W, 3) uint8: the picture with every non-background pixel tinted by its class colour."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    colours = PALETTE[classes % len(PALETTE)].astype(np.float32)
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
