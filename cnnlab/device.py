"""Which device torch code runs on: CUDA when there is one, else MPS, else the CPU."""

from __future__ import annotations

from functools import cache

import torch


@cache
def best_device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_label(device: torch.device | None = None) -> str:
    """'CUDA · NVIDIA H100 80GB HBM3', 'MPS' or 'CPU' for the sidebar badge."""
    device = device or best_device()
    if device.type == "cuda":
        return f"CUDA · {torch.cuda.get_device_name(device)}"
    return device.type.upper()
