"""Generated torchvision checkpoints in a temporary TORCH_HOME: the real loading path, without a download.

Random weights with torchvision's own keys, saved under the file name torchvision's weights
URL gives, exactly where torchvision itself would cache them.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import torch

from cnnlab import models
from cnnlab.weights import checkpoint_path


@contextlib.contextmanager
def torch_home(path: Path):
    """TORCH_HOME=path for the block, with the process's model cache emptied before and after."""
    old = os.environ.get("TORCH_HOME")
    os.environ["TORCH_HOME"] = str(path)
    models._cache.clear()
    try:
        yield path
    finally:
        models._cache.clear()
        if old is None:
            os.environ.pop("TORCH_HOME", None)
        else:
            os.environ["TORCH_HOME"] = old


def write_checkpoint(name: str, seed: int = 0) -> dict[str, torch.Tensor]:
    """Save random weights for registry model `name` into the current TORCH_HOME; returns them."""
    torch.manual_seed(seed)
    state = models.registry()[name].build().state_dict()
    target = checkpoint_path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, target)
    return state
