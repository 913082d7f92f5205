"""Network results cached per (picture, model, settings): no work twice, in one session or across a hall.

The picture is keyed by LoadedImage.digest (a hash of its pixels); the image itself is passed
unhashed (a leading underscore). Entries are bounded in number and in age, so a hall of uploads
cannot grow the cache without end. Settings that only change the drawing (a score threshold, the
class shown, a tab, the language) are applied to the cached result and never reach these calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

import numpy as np
import streamlit as st
import torch
from PIL import Image

from cnnlab.detection import DetectorStages
from cnnlab.detection import detector_stages as stages_of
from cnnlab.features import class_logits as logits_of
from cnnlab.features import grad_cam
from cnnlab.inference import ServiceUnavailable, backend, network_lock
from cnnlab.models import get_model
from cnnlab.segmentation import Detection, Segmentation
from ui.widgets import show_error

T = TypeVar("T")
TTL_S = 30 * 60  # a lecture's worth: the same photo shown again in the hour is answered from the cache


def _packed(found: Detection) -> Detection:
    """The detection with each (H, W) bool mask packed 8 pixels a byte: what the cache keeps."""
    return replace(found, instances=[replace(i, mask=(np.packbits(i.mask), i.mask.shape)) for i in found.instances])


def _unpacked(found: Detection) -> Detection:
    def unpack(packed) -> np.ndarray:
        bits, shape = packed
        return np.unpackbits(bits, count=shape[0] * shape[1]).reshape(shape).astype(bool)

    return replace(found, instances=[replace(i, mask=unpack(i.mask)) for i in found.instances])


DRAWN_SIDE = 800  # the longest side a result is drawn at: the figure is at most ~700 px on screen


def drawn_picture(image: Image.Image) -> Image.Image:
    """The picture at the size its result is drawn: detection and segmentation run on this copy, so
    masks, maps and drawing cost a few hundred thousand pixels, not a megapixel per student."""
    if max(image.size) <= DRAWN_SIDE:
        return image
    smaller = image.copy()
    smaller.thumbnail((DRAWN_SIDE, DRAWN_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return smaller


def _answered(ask: Callable[[], T]) -> T:
    """ask(), or the page stops with a translated message when the inference service is down and
    nothing may answer in its place (CNNLAB_INFERENCE_FALLBACK=off)."""
    try:
        return ask()
    except ServiceUnavailable as err:
        show_error(err)
        st.stop()


def detection(digest: str, model_name: str, mask_threshold: float, image: Image.Image) -> Detection:
    """Every instance of the picture (Detection.above(score) filters without the network)."""
    return _unpacked(_answered(lambda: _packed_detection(digest, model_name, mask_threshold, image)))


@st.cache_data(max_entries=24, ttl=TTL_S, show_spinner=False)
def _packed_detection(digest: str, model_name: str, mask_threshold: float, _image: Image.Image) -> Detection:
    return _packed(backend().detect(_image, model_name, mask_threshold))


def segmentation(digest: str, model_name: str, image: Image.Image) -> Segmentation:
    """The class of every pixel, with the probabilities kept at the size they are drawn (see Segmentation.compact)."""
    return _answered(lambda: _segmentation(digest, model_name, image))


@st.cache_data(max_entries=24, ttl=TTL_S, show_spinner=False)
def _segmentation(digest: str, model_name: str, _image: Image.Image) -> Segmentation:
    return backend().segment(_image, model_name)


def feature_map(digest: str, model_name: str, layer: str, image: Image.Image) -> torch.Tensor:
    """(C, H, W) feature maps of one layer."""
    return _answered(lambda: _feature_map(digest, model_name, layer, image))


@st.cache_data(max_entries=16, ttl=TTL_S, show_spinner=False)
def _feature_map(digest: str, model_name: str, layer: str, _image: Image.Image) -> torch.Tensor:
    return backend().feature_maps(_image, model_name, [layer])[layer]


def predictions(digest: str, model_name: str, k: int, image: Image.Image) -> list:
    """The k most probable classes."""
    return _answered(lambda: _predictions(digest, model_name, k, image))


@st.cache_data(max_entries=32, ttl=TTL_S, show_spinner=False)
def _predictions(digest: str, model_name: str, k: int, _image: Image.Image) -> list:
    return backend().classify(_image, model_name, k)


@st.cache_data(max_entries=32, ttl=TTL_S, show_spinner=False)
def class_activation(
    digest: str, model_name: str, layer: str, target: int | None, _image: Image.Image
) -> tuple[np.ndarray, int]:
    """Grad-CAM map (S, S) in [0, 1] and the class it explains."""
    with network_lock:  # Grad-CAM needs gradients: it runs here, never on the service
        return grad_cam(get_model(model_name), _image, layer, target)


@st.cache_data(max_entries=16, ttl=TTL_S, show_spinner=False)
def detector_stages(digest: str, model_name: str, _image: Image.Image) -> DetectorStages:
    """The stages of an instance-segmentation model on the picture (proposals, NMS, heads, masks).

    Always computed in this process (the inference service answers only final detections), under the
    network lock like every in-process forward.
    """
    with network_lock:
        return stages_of(_image, model_name)


@st.cache_data(max_entries=32, ttl=TTL_S, show_spinner=False)
def class_logits(digest: str, model_name: str, _image: Image.Image) -> np.ndarray:
    """The classifier's logits (C,) for the picture, computed in this process."""
    with network_lock:
        return logits_of(get_model(model_name), _image)
