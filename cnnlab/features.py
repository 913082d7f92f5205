"""What a CNN sees: feature maps, learned filters, top classes, an architecture table, Grad-CAM.

Every model in the registry is laid out as torchvision's AlexNet/VGG: features (an
nn.Sequential of conv / ReLU / pool layers) -> avgpool -> flatten -> classifier. Feature
maps are collected by running `features` one layer at a time: no torch.fx graph and no
hooks, so the shared model is only ever called, never modified, and calls from several
sessions at once are safe.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnlab.models import LoadedModel, architecture, get_model

KINDS = {nn.Conv2d: "conv", nn.ReLU: "relu", nn.MaxPool2d: "pool", nn.BatchNorm2d: "bn", nn.AvgPool2d: "pool"}


@dataclass(frozen=True)
class LayerInfo:
    name: str  # module path, e.g. 'features.3'
    kind: str  # conv, relu, pool, bn, linear, ...
    label: str  # 'conv2', 'relu2', 'pool1': counted per kind, as lectures name them


def feature_layers(model: nn.Module) -> list[LayerInfo]:
    """The layers of model.features, named conv1, relu1, pool1, ... in order."""
    counts: dict[str, int] = {}
    layers = []
    for index, module in enumerate(model.features):
        kind = KINDS.get(type(module), type(module).__name__.lower())
        counts[kind] = counts.get(kind, 0) + 1
        layers.append(LayerInfo(f"features.{index}", kind, f"{kind}{counts[kind]}"))
    return layers


def _run_features(
    loaded: LoadedModel, x: torch.Tensor, wanted: set[str]
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """x: (B, 3, S, S) -> ({layer name: (B, C, H, W) on the CPU}, the features' output)."""
    maps = {}
    with torch.inference_mode():
        for index, module in enumerate(loaded.model.features):
            x = module(x)
            name = f"features.{index}"
            if name in wanted:
                maps[name] = x.to("cpu", torch.float32, copy=True)  # a copy: the next ReLU works in place
    return maps, x


def feature_maps(
    model_name: str, image: Image.Image, layers: list[str] | None = None, device: torch.device | str | None = None
) -> dict[str, torch.Tensor]:
    """Feature maps of a PIL image: {layer name -> (C, H, W) float tensor on the CPU}, all layers by default.

    Runs on `device` (default: the best one).
    """
    return feature_maps_batch(model_name, [image], layers, device)[0]


def feature_maps_batch(
    model_name: str,
    images: list[Image.Image],
    layers: list[str] | None = None,
    device: torch.device | str | None = None,
) -> list[dict[str, torch.Tensor]]:
    """feature_maps for several pictures in one (B, 3, S, S) forward: what an inference service does
    with many students' requests."""
    loaded = get_model(model_name, device)
    wanted = {layer.name for layer in feature_layers(loaded.model)} if layers is None else set(layers)
    x = torch.stack([loaded.preprocess(image) for image in images]).to(loaded.device)
    maps, _ = _run_features(loaded, x, wanted)
    return [{name: batch[i] for name, batch in maps.items()} for i in range(len(images))]


@dataclass(frozen=True)
class Prediction:
    category: str
    index: int
    probability: float


def class_logits(loaded: LoadedModel, image: Image.Image) -> np.ndarray:
    """The classifier's raw scores (C,) for a PIL image, before softmax (float64)."""
    with torch.inference_mode():
        return loaded.model(loaded.preprocess(image)[None].to(loaded.device))[0].double().cpu().numpy()


def top_classes(loaded: LoadedModel, image: Image.Image, k: int = 5) -> list[Prediction]:
    """The k most probable categories for a PIL image (softmax over the logits)."""
    with torch.inference_mode():
        logits = loaded.model(loaded.preprocess(image)[None].to(loaded.device))[0].float().cpu()
    probabilities = logits.softmax(0)
    values, indices = probabilities.topk(min(k, len(probabilities)))
    return [Prediction(loaded.categories[i], int(i), float(p)) for p, i in zip(values, indices, strict=True)]


def channels_by_mean(fmap: torch.Tensor) -> list[int]:
    """Channel indices of a (C, H, W) map, most active (highest mean) first."""
    return fmap.mean(dim=(1, 2)).argsort(descending=True).tolist()


def scaled_tiles(fmap: torch.Tensor, channels: list[int]) -> np.ndarray:
    """(C, H, W) map -> (len(channels), H, W) in [0, 1], each channel scaled on its own (flat ones are 0)."""
    tiles = fmap[channels].float().numpy()
    lo = tiles.min(axis=(1, 2), keepdims=True)
    span = tiles.max(axis=(1, 2), keepdims=True) - lo
    return np.where(span > 0, (tiles - lo) / np.where(span > 0, span, 1), 0.0)


def mosaic(tiles: np.ndarray, columns: int, gap: int = 1, fill: float = np.nan) -> np.ndarray:
    """(N, H, W[, 3]) tiles -> one image of `columns` tiles per row, separated by `gap` cells of `fill`."""
    n, h, w = tiles.shape[:3]
    rows = -(-n // columns)
    shape = (rows * (h + gap) - gap, columns * (w + gap) - gap, *tiles.shape[3:])
    out = np.full(shape, fill, dtype=np.float64)
    for k in range(n):
        r, c = divmod(k, columns)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = tiles[k]
    return out


def first_layer_filters_rgb(model: nn.Module) -> np.ndarray:
    """(N, K, K, 3) first-layer kernels, each scaled to [0, 1] on its own, as RGB pictures."""
    weight = model.features[0].weight.detach().float().cpu().numpy()  # (N, 3, K, K)
    lo = weight.min(axis=(1, 2, 3), keepdims=True)
    hi = weight.max(axis=(1, 2, 3), keepdims=True)
    return ((weight - lo) / np.maximum(hi - lo, 1e-12)).transpose(0, 2, 3, 1)


def kernels_for_input_channel(model: nn.Module, layer_name: str, channel: int) -> np.ndarray:
    """(N, K, K) signed kernels of conv layer `layer_name` that read input channel `channel`."""
    conv = model.get_submodule(layer_name)
    return conv.weight.detach()[:, channel].float().cpu().numpy()


@dataclass(frozen=True)
class ArchitectureRow:
    layer: str
    kind: str
    kernel: str
    stride: str
    padding: str
    output_shape: tuple[int, ...]
    parameters: int
    flops: int  # multiply-adds counted twice, as torch.utils.flop_counter does


def _first(module: nn.Module, attribute: str) -> str:
    """'3' for kernel_size=(3, 3) or 3; '' where the layer has no such attribute."""
    value = getattr(module, attribute, None)
    return "" if value is None else str(value[0] if isinstance(value, tuple) else value)


@functools.cache
def architecture_table(model_name: str, input_size: int | None = None) -> tuple[ArchitectureRow, ...]:
    """Every layer of features, avgpool and classifier with its shape, weights and FLOPs for one image.

    Computed from the architecture on the meta device: nothing is downloaded. Building the network
    and counting its FLOPs takes a tenth of a second, so each table is made once per process.
    """
    from cnnlab.models import registry

    model = architecture(model_name)
    size = input_size or registry()[model_name].input_size
    modules = [(f"features.{i}", m) for i, m in enumerate(model.features)]
    modules += [("avgpool", model.avgpool)] + [(f"classifier.{i}", m) for i, m in enumerate(model.classifier)]
    rows, x = [], torch.zeros(1, 3, size, size, device="meta")
    labels = {layer.name: layer.label for layer in feature_layers(model)}
    linear = 0
    with torch.inference_mode():
        for name, module in modules:
            if name == "classifier.0" or (name.startswith("classifier") and x.dim() > 2):
                x = torch.flatten(x, 1)
            with FlopCounterMode(display=False) as counter:
                x = module(x)
            if isinstance(module, nn.Linear):
                linear += 1
            label = labels.get(name) or (
                "avgpool"
                if name == "avgpool"
                else f"fc{linear}"
                if isinstance(module, nn.Linear)
                else type(module).__name__.lower()
            )

            rows.append(
                ArchitectureRow(
                    label,
                    KINDS.get(type(module), type(module).__name__.lower()),
                    _first(module, "kernel_size"),
                    _first(module, "stride"),
                    _first(module, "padding"),
                    tuple(x.shape[1:]),
                    sum(p.numel() for p in module.parameters()),
                    counter.get_total_flops(),
                )
            )
    return tuple(rows)  # immutable: the cached table is shared by every session


def grad_cam(
    loaded: LoadedModel, image: Image.Image, layer_name: str, target: int | None = None
) -> tuple[np.ndarray, int]:
    """Grad-CAM (Selvaraju et al. 2017) at a layer of features, for class `target` (default: the top one).

    Returns the (S, S) map in [0, 1] over the model's view of the image, and the class used.
    Gradients come from torch.autograd.grad on a copy of the activations, so the shared
    model gets no hooks and no .grad.
    """
    index = int(layer_name.split(".")[1])
    features = loaded.model.features
    x = loaded.preprocess(image)[None].to(loaded.device)
    with torch.inference_mode():
        for module in features[: index + 1]:
            x = module(x)
    activations = x.clone().requires_grad_(True)
    with torch.enable_grad():
        y = activations * 1.0  # a non-leaf, so that in-place ReLUs downstream are allowed
        for module in features[index + 1 :]:
            y = module(y)
        logits = loaded.model.classifier(torch.flatten(loaded.model.avgpool(y), 1))[0]
        target = int(logits.argmax()) if target is None else target
        (gradient,) = torch.autograd.grad(logits[target], activations)
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * activations.detach()).sum(1, keepdim=True))
    size = loaded.entry.input_size
    cam = torch.nn.functional.interpolate(cam, size=(size, size), mode="bilinear", align_corners=False)[0, 0]
    cam = cam.float().cpu().numpy()
    return (cam / cam.max() if cam.max() > 0 else cam), target
