"""Activation functions, their derivatives (by autograd) and their ranges."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnnlab.errors import LessonInputError

FUNCTIONS = {
    "relu": torch.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1),  # slope 0.1 on the left, to be visible on a plot
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "gelu": F.gelu,
    "silu": F.silu,
    "none": lambda x: x,
}


@dataclass(frozen=True)
class Range:
    """The values a function takes: (low, high), with whether each end is reached."""

    low: float
    high: float
    low_closed: bool
    high_closed: bool


RANGES = {
    "relu": Range(0.0, np.inf, True, False),
    "leaky_relu": Range(-np.inf, np.inf, False, False),
    "sigmoid": Range(0.0, 1.0, False, False),
    "tanh": Range(-1.0, 1.0, False, False),  # one set of notes says [0, 1]: that is wrong
    "gelu": Range(-0.17, np.inf, True, False),  # min ≈ -0.170 at x ≈ -0.75
    "silu": Range(-0.278, np.inf, True, False),  # min ≈ -0.278 at x ≈ -1.28
    "none": Range(-np.inf, np.inf, False, False),
}


def _function(name: str):
    if name not in FUNCTIONS:
        raise LessonInputError("error.activation", name=name, known=", ".join(FUNCTIONS))
    return FUNCTIONS[name]


def activate(name: str, values) -> np.ndarray:
    """The activation applied elementwise to an array (any shape)."""
    with torch.inference_mode():
        return _function(name)(torch.as_tensor(np.asarray(values, dtype=np.float64))).numpy()


def activate_scalar(name: str, value: float) -> float:
    return float(activate(name, np.array([value]))[0])


def curve(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N,) inputs -> the function's values and its derivative at each, by autograd."""
    t = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    y = _function(name)(t)
    (dy,) = torch.autograd.grad(y.sum(), t)
    return y.detach().numpy(), dy.numpy()
