"""Classic image filters as a convolution layer would apply them, on a grayscale image.

Kernels are cross-correlation kernels (what F.conv2d applies). The image border is
padded by reflection, so that the frame of the photo does not show up as a fake edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch.nn.functional as F

from cnnlab.device import run_on_best_device
from cnnlab.errors import LessonInputError

SOBEL_Y = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=np.float64)  # W6: horizontal edges
KERNELS: dict[str, np.ndarray] = {
    "sobel_x": SOBEL_Y.T.copy(),  # its transpose: vertical edges
    "sobel_y": SOBEL_Y,
    "prewitt_x": np.array([[1, 0, -1]] * 3, dtype=np.float64),  # W4's vertical edge detector
    "prewitt_y": np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], dtype=np.float64),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64),
    "box_blur": np.full((3, 3), 1 / 9),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64),
}
SIGNED = {"sobel_x", "sobel_y", "prewitt_x", "prewitt_y", "laplacian"}  # responses with both signs


def _conv_same(image, kernel):
    """(H, W) image, (K, K) kernel (odd K) -> (H, W) response, reflection-padded."""
    pad = kernel.shape[-1] // 2
    x = F.pad(image[None, None], (pad, pad, pad, pad), mode="reflect")
    return F.conv2d(x, kernel[None, None])[0, 0]


def filter_image(gray: np.ndarray, kernel) -> tuple[np.ndarray, str]:
    """(H, W) grayscale in [0, 1] -> (H, W) filter response, and the device that computed it."""
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] % 2 == 0:
        raise LessonInputError("error.odd_square_kernel")
    if min(gray.shape) <= kernel.shape[0] // 2:
        raise LessonInputError(
            "error.kernel_too_large", span=kernel.shape[0], size=min(gray.shape), padding=0, padded=min(gray.shape)
        )
    return run_on_best_device(_conv_same, gray, kernel)


FLAT = 0.05  # gradient magnitude (grey levels in [0, 1] × Sobel's weight 4) below which there is no edge


@dataclass(frozen=True)
class SobelResult:
    """Gradients of an (H, W) image: gx, gy, magnitude sqrt(gx² + gy²), direction atan2(gy, gx) in degrees.

    direction is NaN where the magnitude is below FLAT: on flat sky or grass the angle of a
    near-zero gradient is noise, and drawing it would paint strong angles where there is no edge.
    """

    gx: np.ndarray
    gy: np.ndarray
    magnitude: np.ndarray
    direction: np.ndarray
    device: str


def sobel(gray: np.ndarray) -> SobelResult:
    gx, device = filter_image(gray, KERNELS["sobel_x"])
    gy, _ = filter_image(gray, KERNELS["sobel_y"])
    magnitude = np.hypot(gx, gy)
    direction = np.where(magnitude >= FLAT, np.degrees(np.arctan2(gy, gx)), np.nan)
    return SobelResult(gx, gy, magnitude, direction, device)


def pool_image(gray: np.ndarray, kernel_size: int, mode: str = "max") -> tuple[np.ndarray, str]:
    """(H, W) -> (H // k, W // k): max or average pooling with stride = kernel, as in a CNN."""
    if kernel_size < 1 or kernel_size > min(gray.shape):
        raise LessonInputError("error.pool_too_large", kernel=kernel_size, padded=min(gray.shape))
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    return run_on_best_device(lambda x: pool(x[None, None], kernel_size)[0, 0], gray)
