"""Which device torch code runs on: CUDA when there is one, else MPS, else the CPU."""

from __future__ import annotations

from functools import cache

import numpy as np
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


def move_or_cpu(model: torch.nn.Module, device: torch.device) -> tuple[torch.device, str | None]:
    """Move model to device; on CUDA out-of-memory to the CPU instead. Returns (where it is, 'cuda_oom' or None)."""
    try:
        model.to(device)
        return device, None
    except torch.OutOfMemoryError:
        torch.cuda.empty_cache()
        model.to("cpu")
        return torch.device("cpu"), "cuda_oom"


def run_on_best_device(fn, *arrays) -> tuple[np.ndarray, str]:
    """fn(*tensors) on the best device, as float32; on CUDA out-of-memory, again on the CPU.

    arrays: NumPy arrays; returns (the result as a NumPy array, the device that ran it).
    """
    device = best_device()
    try:
        return _run(fn, arrays, device), device.type
    except torch.OutOfMemoryError:
        torch.cuda.empty_cache()
        return _run(fn, arrays, torch.device("cpu")), "cpu (CUDA out of memory)"


def _run(fn, arrays, device: torch.device) -> np.ndarray:
    with torch.inference_mode():
        tensors = [torch.as_tensor(np.asarray(a), dtype=torch.float32, device=device) for a in arrays]
        return fn(*tensors).float().cpu().numpy()
