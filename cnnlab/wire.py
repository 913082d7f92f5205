"""Pictures and network results as compact bytes, for an inference service and its clients.

A message is a small JSON header (numbers a page shows: boxes, labels, scores, sizes) followed by
binary parts the header names by offset: pictures and masks as PNG, maps as float16 or uint8
arrays, deflated. Never a JSON array of floats per pixel: a Mask R-CNN result with its masks is a
few kilobytes, not megabytes.

    message = uint32 header length (big-endian) · header JSON (UTF-8) · parts
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from dataclasses import asdict

import numpy as np
import torch
from PIL import Image

from cnnlab.features import Prediction
from cnnlab.segmentation import Detection, Instance, Segmentation

_LENGTH = struct.Struct(">I")


def _pack(header: dict, parts: list[bytes]) -> bytes:
    offsets, at = [], 0
    for part in parts:
        offsets.append([at, len(part)])
        at += len(part)
    head = json.dumps(header | {"parts": offsets}, separators=(",", ":")).encode()
    return _LENGTH.pack(len(head)) + head + b"".join(parts)


def _unpack(message: bytes) -> tuple[dict, list[bytes]]:
    """(header, parts); ValueError for bytes that are not a message."""
    if len(message) < _LENGTH.size:
        raise ValueError("not a cnnlab message: too short")
    (length,) = _LENGTH.unpack_from(message)
    body = _LENGTH.size + length
    if body > len(message):
        raise ValueError("not a cnnlab message: header longer than the message")
    header = json.loads(message[_LENGTH.size : body])
    parts = [message[body + start : body + start + size] for start, size in header.pop("parts")]
    return header, parts


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)  # fast: the picture crosses a local network once
    return buffer.getvalue()


def _from_png(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        if image.format != "PNG":
            raise ValueError("not a PNG part")
        image.load()
        return image.copy()


def _array(values: np.ndarray, dtype: str) -> tuple[dict, bytes]:
    values = np.ascontiguousarray(values, dtype=dtype)
    return {"shape": list(values.shape), "dtype": dtype}, zlib.compress(values.tobytes(), 1)


def _from_array(meta: dict, data: bytes) -> np.ndarray:
    values = np.frombuffer(zlib.decompress(data), dtype=np.dtype(meta["dtype"]))
    return values.reshape(meta["shape"])


# --- requests: a picture and the settings -----------------------------------------------------


def encode_request(image: Image.Image, **settings) -> bytes:
    """A picture (lossless PNG, so the service sees exactly the pixels the page has) and its settings."""
    return _pack({"settings": settings}, [_png(image.convert("RGB"))])


def decode_request(message: bytes) -> tuple[Image.Image, dict]:
    header, parts = _unpack(message)
    return _from_png(parts[0]), header["settings"]


# --- results ----------------------------------------------------------------------------------


def encode_detection(found: Detection) -> bytes:
    """Boxes, labels and scores in the header; each (H, W) mask a 1-bit PNG."""
    header = {
        "instances": [
            {"label": i.label, "label_index": i.label_index, "score": i.score, "box": list(i.box)}
            for i in found.instances
        ],
        "working_size": list(found.working_size),
        "seconds": found.seconds,
        "device": found.device,
        "exclusive": found.exclusive,
    }
    masks = [_png(Image.fromarray(np.asarray(i.mask, dtype=bool))) for i in found.instances]
    return _pack(header, masks)


def decode_detection(message: bytes) -> Detection:
    header, parts = _unpack(message)
    instances = [
        Instance(d["label"], d["label_index"], d["score"], tuple(d["box"]), np.asarray(_from_png(png), dtype=bool))
        for d, png in zip(header["instances"], parts, strict=True)
    ]
    return Detection(instances, tuple(header["working_size"]), header["seconds"], header["device"], header["exclusive"])


def encode_segmentation(result: Segmentation) -> bytes:
    """The class map as uint8 (or uint16) and the (K, H, W) probabilities as float16, deflated."""
    classes_meta, classes = _array(result.classes, "uint8" if len(result.class_names) <= 256 else "uint16")
    probabilities_meta, probabilities = _array(result.probabilities, "float16")
    header = {
        "classes": classes_meta,
        "probabilities": probabilities_meta,
        "class_names": result.class_names,
        "working_size": list(result.working_size),
        "seconds": result.seconds,
        "device": result.device,
    }
    return _pack(header, [classes, probabilities])


def decode_segmentation(message: bytes) -> Segmentation:
    header, (classes, probabilities) = _unpack(message)
    return Segmentation(
        _from_array(header["classes"], classes).astype(np.int64),
        _from_array(header["probabilities"], probabilities).astype(np.float32),
        header["class_names"],
        tuple(header["working_size"]),
        header["seconds"],
        header["device"],
    )


def encode_feature_maps(maps: dict[str, torch.Tensor]) -> bytes:
    """{layer: (C, H, W)} as float16 arrays, deflated (ReLU maps are mostly zeros)."""
    metas, parts = {}, []
    for name, fmap in maps.items():
        metas[name], data = _array(fmap.float().numpy(), "float16")
        parts.append(data)
    return _pack({"layers": list(maps), "arrays": metas}, parts)


def decode_feature_maps(message: bytes) -> dict[str, torch.Tensor]:
    header, parts = _unpack(message)
    return {
        name: torch.from_numpy(_from_array(header["arrays"][name], data).astype(np.float32))
        for name, data in zip(header["layers"], parts, strict=True)
    }


def encode_predictions(predictions: list[Prediction]) -> bytes:
    return _pack({"predictions": [asdict(p) for p in predictions]}, [])


def decode_predictions(message: bytes) -> list[Prediction]:
    header, _ = _unpack(message)
    return [Prediction(**p) for p in header["predictions"]]
