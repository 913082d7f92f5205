"""One registry of models: architecture + weights, e.g. 'vgg16.imagenet' or 'lab.shapes'.

get_model() returns one shared instance per (name, device) for the whole process, in eval
mode. Callers must treat it as read-only: no hooks, no .grad, no train().

The process keeps its models (these and cnnlab.segmentation's) in one ModelCache: the least
recently used are dropped beyond a memory budget ($CNNLAB_MODEL_CACHE_MB, default 2048), and a
model that is loading holds up only the sessions that asked for that same model.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import torch
from PIL import Image
from torch import nn
from torchvision.transforms import functional as TF

from cnnlab.device import best_device, move_or_cpu
from cnnlab.images import check_aspect_size
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


def check_aspect(image: Image.Image) -> None:
    """LessonInputError if one side of the picture is more than MAX_ASPECT times the other.

    Networks scale the shorter side to a few hundred pixels: a 40000 × 1 strip would become
    10 million pixels long (gigabytes, or a MemoryError) for a crop of its middle.
    """
    check_aspect_size(*image.size)


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
        """The picture as the model sees it; LessonInputError for one too thin (see check_aspect)."""
        check_aspect(image)
        e = self.entry
        if e.resize_size == e.input_size:  # the lab model sees the whole picture, squashed
            return image.convert("RGB").resize((e.input_size, e.input_size), Image.Resampling.BILINEAR)
        resized = TF.resize(image.convert("RGB"), e.resize_size, interpolation=TF.InterpolationMode.BILINEAR)
        return TF.center_crop(resized, e.input_size)

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        return TF.normalize(TF.to_tensor(self.view(image)), self.entry.mean, self.entry.std)


CACHE_BUDGET_VARIABLE = "CNNLAB_MODEL_CACHE_MB"
DEFAULT_CACHE_MB = 2048  # VGG16 + VGG19 + AlexNet take 1.3 GB; the segmentation models 0.5 GB more


def cache_budget_bytes() -> int:
    """The model cache's memory budget: $CNNLAB_MODEL_CACHE_MB megabytes (a whole number), else DEFAULT_CACHE_MB."""
    value = os.environ.get(CACHE_BUDGET_VARIABLE, "").strip()
    return (int(value) if value.isdigit() else DEFAULT_CACHE_MB) * 2**20


def model_bytes(model: nn.Module) -> int:
    """Memory taken by a model's parameters and buffers."""
    return sum(t.numel() * t.element_size() for t in itertools.chain(model.parameters(), model.buffers()))


class HasModel(Protocol):
    model: nn.Module


V = TypeVar("V", bound=HasModel)


class ModelCache(Generic[V]):
    """Loaded models by (name, device), least recently used dropped beyond cache_budget_bytes().

    The one just loaded always stays, even alone over the budget. The global lock is held only
    to look up and update the table; a load holds only the lock of its own key, so a cached
    model is returned at once while another one loads, and concurrent requests for one model
    load it once.
    """

    def __init__(self) -> None:
        self._models: OrderedDict[tuple[str, str], tuple[V, int]] = OrderedDict()  # oldest use first
        self._loading: dict[tuple[str, str], threading.Lock] = {}  # bounded: registry names × devices
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], load: Callable[[], V]) -> V:
        """The cached value of key, else load() once, cached."""
        with self._lock:
            if (hit := self._touch(key)) is not None:
                return hit
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if (hit := self._touch(key)) is not None:  # loaded by another thread while this one waited
                    return hit
            value = load()
            size = model_bytes(value.model)
            with self._lock:
                self._models[key] = (value, size)
                self._evict(keep=key)
            return value

    def clear(self) -> None:
        with self._lock:
            self._models.clear()

    def _touch(self, key: tuple[str, str]) -> V | None:
        """The cached value of key, marked as the most recently used; None if not cached. Caller holds _lock."""
        if key not in self._models:
            return None
        self._models.move_to_end(key)
        return self._models[key][0]

    def _evict(self, keep: tuple[str, str]) -> None:
        """Drop the least recently used models until the rest fit the budget, never `keep`. Caller holds _lock."""
        budget, total = cache_budget_bytes(), sum(size for _, size in self._models.values())
        for key in [k for k in self._models if k != keep]:
            if total <= budget:
                break
            total -= self._models.pop(key)[1]


_cache: ModelCache = ModelCache()  # every model of the process, classifiers and segmentation models alike


def _load_weights(entry: ModelEntry) -> tuple[nn.Module, list[str]]:
    model = entry.build()
    if entry.torchvision_weights is None:
        load_lab_weights(model, SHAPES_CLASSIFIER_FILE)
        return model, list(CLASSES)
    load_cached_weights(model, entry.name)
    return model, list(entry.torchvision_weights().meta["categories"])


def _load(entry: ModelEntry, device: torch.device) -> LoadedModel:
    """entry's model with its weights, in eval mode, on device (or on the CPU, with a note, if the GPU is full)."""
    model, categories = _load_weights(entry)
    model.eval().requires_grad_(False)
    placed, note = move_or_cpu(model, device)
    return LoadedModel(entry.name, model, categories, entry, placed, note)


def get_model(name: str, device: torch.device | str | None = None) -> LoadedModel:
    """The shared, eval-mode instance of `name` on `device` (default: the best one).

    WeightsError when its weights are not cached or damaged. A CUDA out-of-memory error
    while moving it to the GPU gives the CPU instance instead, with a note saying so.
    """
    entries = registry()
    if name not in entries:
        raise WeightsError("weights.error.unknown_model", name=name, known=", ".join(entries))
    device = torch.device(device) if device is not None else best_device()
    return _cache.get((name, str(device)), lambda: _load(entries[name], device))


def architecture(name: str) -> nn.Module:
    """The architecture of `name` on the meta device: shapes and parameter counts, no memory, no download."""
    entries = registry()
    if name not in entries:
        raise WeightsError("weights.error.unknown_model", name=name, known=", ".join(entries))
    with torch.device("meta"):
        return entries[name].build().eval().requires_grad_(False)
