"""Network results cached per (picture, model, settings): no work twice, in one session or across a hall.

The picture is keyed by LoadedImage.digest (a hash of its pixels); the image itself is passed
unhashed (a leading underscore). Entries are bounded in number and in age, so a hall of uploads
cannot grow the cache without end. Settings that only change the drawing (a score threshold, the
class shown, a tab, the language) are applied to the cached result and never reach these calls.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import streamlit as st
import torch
from PIL import Image

from cnnlab.features import feature_maps, grad_cam, top_classes
from cnnlab.models import get_model
from cnnlab.segmentation import Detection, Segmentation, detect_all, segment

TTL_S = 30 * 60  # a lecture's worth: the same photo shown again in the hour is answered from the cache
# One network at a time per process: torch already uses every core for one forward, and thirty
# students' forwards at once would each hold their picture-sized tensors (gigabytes) for no speed-up.
_network = threading.Lock()


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


def detection(digest: str, model_name: str, mask_threshold: float, image: Image.Image) -> Detection:
    """Every instance of the picture (Detection.above(score) filters without the network)."""
    return _unpacked(_packed_detection(digest, model_name, mask_threshold, image))


@st.cache_data(max_entries=24, ttl=TTL_S, show_spinner=False)
def _packed_detection(digest: str, model_name: str, mask_threshold: float, _image: Image.Image) -> Detection:
    with _network:
        return _packed(detect_all(_image, model_name, mask_threshold))


@st.cache_data(max_entries=24, ttl=TTL_S, show_spinner=False)
def segmentation(digest: str, model_name: str, _image: Image.Image) -> Segmentation:
    """The class of every pixel, with the probabilities kept at the size they are drawn (see Segmentation.compact)."""
    with _network:
        return segment(_image, model_name).compact()


@st.cache_data(max_entries=16, ttl=TTL_S, show_spinner=False)
def feature_map(digest: str, model_name: str, layer: str, _image: Image.Image) -> torch.Tensor:
    """(C, H, W) feature maps of one layer."""
    with _network:
        return feature_maps(model_name, _image, [layer])[layer]


@st.cache_data(max_entries=32, ttl=TTL_S, show_spinner=False)
def predictions(digest: str, model_name: str, k: int, _image: Image.Image) -> list:
    with _network:
        return top_classes(get_model(model_name), _image, k=k)


@st.cache_data(max_entries=32, ttl=TTL_S, show_spinner=False)
def class_activation(
    digest: str, model_name: str, layer: str, target: int | None, _image: Image.Image
) -> tuple[np.ndarray, int]:
    """Grad-CAM map (S, S) in [0, 1] and the class it explains."""
    with _network:
        return grad_cam(get_model(model_name), _image, layer, target)
