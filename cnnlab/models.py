"""One registry of models: architecture + weights, e.g. 'vgg16.imagenet' or 'lab.shapes'.

get_model() returns one shared instance per (name, device) for the whole process, in eval
mode. Callers must treat it as read-only: no hooks, no .grad, no train().
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from PIL import Image
from torch import nn
from torchvision.transforms import functional as TF

from cnnlab.device import best_device, move_or_cpu
from cnnlab.lab_models import SHAPES_CLASSIFIER_FILE, SHAPES_INPUT_SIZE, ShapesNet
from cnnlab.shapes import CLASSES
from cnnlab.weights import WeightsError, load_cached_weights, load_lab_weights


@dataclass(frozen=True)
class ModelEntry:
    name: str
    architecture: str
    build: Callable[[], nn.Module]  # the architecture with random weights; downloads nothing
    torchvision_weights: Callable[[], object] | None = None  # the Weights enum member, if from torchvision
    input_size: int = 224  # side of the square the model sees
    resize_size: int = 256  # shorter side before the centre crop
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)


def _torchvision(name: str, arch: str, weights: str) -> ModelEntry:
    import torchvision.models as tvm

    def member():
        return getattr(tvm, weights).IMAGENET1K_V1

    return ModelEntry(
        name,
        arch,
        lambda: getattr(tvm, arch)(weights=None),
        member,
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
    )


def registry() -> dict[str, ModelEntry]:
    return {
        "lab.shapes": ModelEntry("lab.shapes", "shapesnet", ShapesNet, None, SHAPES_INPUT_SIZE, SHAPES_INPUT_SIZE),
        "alexnet.imagenet": _torchvision("alexnet.imagenet", "alexnet", "AlexNet_Weights"),
        "vgg16.imagenet": _torchvision("vgg16.imagenet", "vgg16", "VGG16_Weights"),
        "vgg19.imagenet": _torchvision("vgg19.imagenet", "vgg19", "VGG19_Weights"),
    }


def list_models() -> list[str]:
    return list(registry())


@dataclass
class LoadedModel:
    """A model ready for inference, with what it needs around it.

    preprocess(image) -> (3, S, S) tensor as the model expects it (resized, cropped, normalised);
    view(image) -> the same crop as a PIL image, for overlays.
    """

    name: str
    model: nn.Module
    categories: list[str]
    entry: ModelEntry
    device: torch.device
    note: str | None = None  # e.g. a fallback to the CPU
    lock: threading.Lock = field(default_factory=threading.Lock)

    def view(self, image: Image.Image) -> Image.Image:
        e = self.entry
        if e.resize_size == e.input_size:  # the lab model sees the whole picture, squashed
            return image.convert("RGB").resize((e.input_size, e.input_size), Image.Resampling.BILINEAR)
        resized = TF.resize(image.convert("RGB"), e.resize_size, interpolation=TF.InterpolationMode.BILINEAR)
        return TF.center_crop(resized, e.input_size)

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        return TF.normalize(TF.to_tensor(self.view(image)), self.entry.mean, self.entry.std)


_cache: dict[tuple[str, str], LoadedModel] = {}
_cache_lock = threading.Lock()


def _load_weights(entry: ModelEntry) -> tuple[nn.Module, list[str]]:
    model = entry.build()
    if entry.torchvision_weights is None:
        load_lab_weights(model, SHAPES_CLASSIFIER_FILE)
        return model, list(CLASSES)
    load_cached_weights(model, entry.name)
    return model, list(entry.torchvision_weights().meta["categories"])


def get_model(name: str, device: torch.device | str | None = None) -> LoadedModel:
    """The shared, eval-mode instance of `name` on `device` (default: the best one).

    WeightsError when its weights are not cached or damaged. A CUDA out-of-memory error
    while moving it to the GPU gives the CPU instance instead, with a note saying so.
    """
    entries = registry()
    if name not in entries:
        raise WeightsError("weights.error.unknown_model", name=name, known=", ".join(entries))
    device = torch.device(device) if device is not None else best_device()
    key = (name, str(device))
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        model, categories = _load_weights(entries[name])
        model.eval().requires_grad_(False)
        device, note = move_or_cpu(model, device)
        loaded = LoadedModel(name, model, categories, entries[name], device, note)
        _cache[key] = loaded
        return loaded


def architecture(name: str) -> nn.Module:
    """The architecture of `name` on the meta device: shapes and parameter counts, no memory, no download."""
    entries = registry()
    if name not in entries:
        raise WeightsError("weights.error.unknown_model", name=name, known=", ".join(entries))
    with torch.device("meta"):
        return entries[name].build().eval().requires_grad_(False)
