"""Pretrained torchvision weights: where they are cached, fetching them ahead of a lecture, loading them.

Files live where torchvision puts them, $TORCH_HOME/hub/checkpoints/<name from the URL>,
so a cache filled by torchvision itself is used as is. Downloads have a timeout and check
the SHA-256 prefix in the file name, as torch.hub does; loading uses weights_only=True.

    python -m cnnlab.weights status
    python -m cnnlab.weights download [alexnet.imagenet maskrcnn_resnet50_fpn_v2.coco ...]
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import torch

from cnnlab.errors import LessonInputError

DOWNLOAD_COMMAND = "python -m cnnlab.weights download"
TIMEOUT_S = 15  # per network read: a classroom without internet gets an answer, not a hang
CHUNK = 1 << 20


class WeightsError(LessonInputError):
    """Weights that cannot be had or read; the message names the way out."""


def _entries() -> dict:
    """Every registry entry by name: the classifiers and the segmentation models."""
    from cnnlab.models import registry
    from cnnlab.segmentation import segmentation_registry

    return registry() | segmentation_registry()


def downloadable() -> list[str]:
    """The names whose weights come from torchvision (the rest ship with the app)."""
    return [name for name, entry in _entries().items() if entry.torchvision_weights is not None]


def torchvision_weights(name: str):
    """The torchvision Weights enum member behind a registry name like 'vgg16.imagenet'."""
    entries = _entries()
    if name not in entries:
        raise WeightsError("weights.error.unknown_model", name=name, known=", ".join(entries))
    entry = entries[name]
    if entry.torchvision_weights is None:
        raise WeightsError("weights.error.not_downloadable", name=name)
    return entry.torchvision_weights()


def checkpoint_path(name: str) -> Path:
    url = torchvision_weights(name).url
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def is_cached(name: str) -> bool:
    return checkpoint_path(name).is_file()


def download(name: str, progress: Callable[[int, int], None] | None = None, timeout: float = TIMEOUT_S) -> Path:
    """Fetch the checkpoint of `name` into the torch hub cache; progress(done_bytes, total_bytes)."""
    target = checkpoint_path(name)
    if target.is_file():
        return target
    url = torchvision_weights(name).url
    match = re.search(r"-([a-f0-9]+)\.", target.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    part = tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".partial")  # noqa: SIM115
    try:
        with part, urllib.request.urlopen(url, timeout=timeout) as response:
            total, done = int(response.headers.get("Content-Length") or 0), 0
            while chunk := response.read(CHUNK):
                part.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
        if match and not digest.hexdigest().startswith(match.group(1)):
            raise WeightsError("weights.error.hash", name=name)
        os.replace(part.name, target)
        return target
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        raise WeightsError(
            "weights.error.offline",
            name=name,
            reason=str(getattr(err, "reason", err)),
            command=f"{DOWNLOAD_COMMAND} {name}",
        ) from None
    finally:
        if os.path.exists(part.name):
            os.unlink(part.name)


def load_state_dict(name: str) -> dict[str, torch.Tensor]:
    """The cached checkpoint of `name`, read safely; WeightsError if missing or damaged."""
    path = checkpoint_path(name)
    if not path.is_file():
        raise WeightsError("weights.error.not_cached", name=name, command=f"{DOWNLOAD_COMMAND} {name}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a truncated or foreign file: any unpickling error means the same to the user
        raise WeightsError(
            "weights.error.corrupt", name=name, path=str(path), command=f"{DOWNLOAD_COMMAND} {name}"
        ) from None
    if not isinstance(state, dict):
        raise WeightsError("weights.error.corrupt", name=name, path=str(path), command=f"{DOWNLOAD_COMMAND} {name}")
    return state


def load_cached_weights(model: torch.nn.Module, name: str) -> None:
    """Load the cached torchvision checkpoint of `name` into model; WeightsError if missing, damaged or foreign."""
    try:
        model.load_state_dict(load_state_dict(name))
    except RuntimeError:  # wrong keys or shapes: some other network's file under this name
        raise WeightsError(
            "weights.error.corrupt", name=name, path=str(checkpoint_path(name)), command=f"{DOWNLOAD_COMMAND} {name}"
        ) from None


def load_lab_weights(model: torch.nn.Module, path: Path) -> None:
    """Load a lab model's bundled safetensors into model; WeightsError if the file is missing."""
    from safetensors.torch import load_file

    if not path.is_file():
        raise WeightsError("weights.error.lab_missing", path=str(path))
    model.load_state_dict(load_file(path))


def _bar(done: int, total: int) -> None:
    if total:
        width = 40
        filled = width * done // total
        sys.stdout.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done / 2**20:7.1f} / {total / 2**20:.1f} MB")
    else:
        sys.stdout.write(f"\r  {done / 2**20:7.1f} MB")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    names = downloadable()
    if not argv or argv[0] not in ("status", "download"):
        print(__doc__)
        return 2
    if argv[0] == "status":
        print(f"cache: {Path(torch.hub.get_dir()) / 'checkpoints'}")
        for name in names:
            path = checkpoint_path(name)
            state = f"cached ({path.stat().st_size / 2**20:.0f} MB)" if path.is_file() else "not cached"
            print(f"  {name:<30} {state:<20} {path.name}")
        return 0
    wanted = argv[1:] or names
    unknown = [n for n in wanted if n not in names]
    if unknown:
        print(f"unknown: {', '.join(unknown)}; choose from {', '.join(names)}")
        return 2
    failed = 0
    for name in wanted:
        print(f"{name}:")
        try:
            download(name, progress=_bar)
            print(f"\n  ok: {checkpoint_path(name)}")
        except WeightsError as err:
            print(f"\n  {err}")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
