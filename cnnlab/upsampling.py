"""Nearest and bilinear upsampling written out in NumPy, equal to F.interpolate."""

from __future__ import annotations

import numpy as np

from cnnlab.errors import LessonInputError


def _source_coordinates(out_size: int, in_size: int, align_corners: bool) -> np.ndarray:
    """Where output pixel centres fall in input coordinates (torch's bilinear convention)."""
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners:
        return dst * ((in_size - 1) / (out_size - 1)) if out_size > 1 else np.zeros(out_size)
    return np.maximum((dst + 0.5) * (in_size / out_size) - 0.5, 0.0)


def upsample_nearest(x, size: tuple[int, int]) -> np.ndarray:
    """(H, W) -> size: each output pixel copies the input pixel floor(dst · in / out)."""
    x = np.asarray(x, dtype=np.float64)
    _check(x, size)
    rows = np.minimum((np.arange(size[0]) * (x.shape[0] / size[0])).astype(int), x.shape[0] - 1)
    cols = np.minimum((np.arange(size[1]) * (x.shape[1] / size[1])).astype(int), x.shape[1] - 1)
    return x[np.ix_(rows, cols)]


def upsample_bilinear(x, size: tuple[int, int], align_corners: bool = False) -> np.ndarray:
    """(H, W) -> size: a weighted mean of the 4 nearest input pixels, weights by distance."""
    x = np.asarray(x, dtype=np.float64)
    _check(x, size)
    out = x
    for axis, (n_in, n_out) in enumerate(zip(x.shape, size, strict=True)):
        src = _source_coordinates(n_out, n_in, align_corners)
        lo = np.minimum(np.floor(src).astype(int), n_in - 1)
        hi = np.minimum(lo + 1, n_in - 1)
        frac = src - lo
        a, b = np.take(out, lo, axis=axis), np.take(out, hi, axis=axis)
        shape = [1, 1]
        shape[axis] = n_out
        out = a * (1 - frac.reshape(shape)) + b * frac.reshape(shape)
    return out


def _check(x: np.ndarray, size: tuple[int, int]) -> None:
    if x.ndim != 2 or 0 in x.shape:
        raise LessonInputError("error.not_matrix", name="param.input_matrix", shape=str(x.shape))
    if min(size) < 1:
        raise LessonInputError("error.at_least_1", name="param.size", value=min(size))
