"""Pretrained torchvision weights: where they are cached, fetching them ahead of a lecture, loading them.

Files live where torchvision puts them, $TORCH_HOME/hub/checkpoints/<name from the URL>,
so a cache filled by torchvision itself is used as is. Downloads have a timeout per read, a
deadline and a size limit for the whole, and check the SHA-256 prefix in the file name, as
torch.hub does (a cached file too, before it is trusted); loading uses weights_only=True, and
a cached file that cannot be loaded is removed so that it can be downloaded again. Messages
name the model and the command, never a path on the server.

    python -m cnnlab.weights status
    python -m cnnlab.weights download [alexnet.imagenet maskrcnn_resnet50_fpn_v2.coco ...]
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import torch

from cnnlab.errors import LessonInputError

DOWNLOAD_COMMAND = "python -m cnnlab.weights download"
TIMEOUT_S = 15  # per network read: a classroom without internet gets an answer, not a hang
CHUNK = 1 << 20
MAX_BYTES = 1 << 30  # the largest checkpoint, VGG19's, is 548 MB: a server sending more is refused
SLOWEST_RATE = 256 * 1024  # bytes per second on average: the default deadline allows this slow a network
DEADLINE_FLOOR_S = 120.0  # even a small file may take this long


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


def _expected_prefix(file_name: str) -> str | None:
    """The SHA-256 prefix torchvision puts in a checkpoint's name ('alexnet-owt-7be5be79.pth' -> '7be5be79')."""
    match = re.search(r"-([a-f0-9]+)\.", file_name)
    return match.group(1) if match else None


def _is_intact(path: Path) -> bool:
    """Whether a cached file's SHA-256 starts with the prefix in its name (a name without one is trusted)."""
    prefix = _expected_prefix(path.name)
    if prefix is None:
        return True
    with open(path, "rb") as file:
        return hashlib.file_digest(file, hashlib.sha256).hexdigest().startswith(prefix)


def default_deadline(total_bytes: int) -> float:
    """Seconds a whole download may take: the file at SLOWEST_RATE, at least DEADLINE_FLOOR_S.

    An unknown size (0) counts as MAX_BYTES, the most that will be accepted.
    """
    return max(DEADLINE_FLOOR_S, (total_bytes or MAX_BYTES) / SLOWEST_RATE)


def _content_length(response: http.client.HTTPResponse) -> int:
    """The announced size in bytes, 0 when the server gives none (or nonsense)."""
    value = str(response.headers.get("Content-Length") or "").strip()
    return int(value) if value.isdigit() else 0


def _reason(err: BaseException) -> str:
    """Why a download failed, in words that name no file on this machine."""
    reason = getattr(err, "reason", err)  # URLError wraps the socket's error
    if isinstance(reason, OSError) and (reason.filename or reason.filename2):
        return reason.strerror or type(reason).__name__  # str() of such an error shows the path
    return str(reason)


def _fetch(
    name: str,
    url: str,
    out: BinaryIO,
    progress: Callable[[int, int], None] | None,
    timeout: float,
    deadline: float | None,
) -> str:
    """Stream url into the open file `out`; returns the SHA-256 hex digest.

    `timeout` bounds each read, so a server that sends nothing is noticed; the deadline bounds
    the whole download (one read more at worst), so does a server that trickles a byte at a
    time; MAX_BYTES bounds what a server that never stops can fill the disk with.
    """
    started = time.monotonic()
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total, done = _content_length(response), 0
        budget = default_deadline(total) if deadline is None else deadline
        if total > MAX_BYTES:
            raise WeightsError("weights.error.too_large", name=name, mb=MAX_BYTES // 2**20)
        while chunk := response.read1(CHUNK):  # read1: whatever has arrived, so the deadline is checked often
            done += len(chunk)
            if done > MAX_BYTES:
                raise WeightsError("weights.error.too_large", name=name, mb=MAX_BYTES // 2**20)
            if time.monotonic() - started > budget:
                raise WeightsError(
                    "weights.error.too_slow",
                    name=name,
                    minutes=max(1, round(budget / 60)),
                    command=f"{DOWNLOAD_COMMAND} {name}",
                )
            out.write(chunk)
            digest.update(chunk)
            if progress:
                progress(done, total)
    if done < total:  # read1 ends quietly where the server hung up
        raise ConnectionError(f"connection closed after {done:,} of {total:,} bytes")
    return digest.hexdigest()


def download(
    name: str,
    progress: Callable[[int, int], None] | None = None,
    timeout: float = TIMEOUT_S,
    deadline: float | None = None,
) -> Path:
    """Fetch the checkpoint of `name` into the torch hub cache; progress(done_bytes, total_bytes).

    A cached file is kept only if its SHA-256 matches the prefix in its name; a damaged one is
    fetched again. `timeout` is per read, `deadline` (seconds, default: default_deadline of the
    announced size) for the whole download. WeightsError on any failure, and no partial file is
    left behind, whatever stops the download (an error, the deadline, Ctrl+C).
    """
    target = checkpoint_path(name)
    url = torchvision_weights(name).url
    part_name = None
    try:
        if target.is_file():
            if _is_intact(target):
                return target
            target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".partial") as part:
            part_name = part.name
            sha256 = _fetch(name, url, part, progress, timeout, deadline)
        prefix = _expected_prefix(target.name)
        if prefix and not sha256.startswith(prefix):
            raise WeightsError("weights.error.hash", name=name)
        os.replace(part_name, target)
        return target
    except (urllib.error.URLError, http.client.HTTPException, OSError) as err:  # TimeoutError is an OSError
        raise WeightsError(
            "weights.error.offline", name=name, reason=_reason(err), command=f"{DOWNLOAD_COMMAND} {name}"
        ) from None
    finally:
        if part_name is not None and os.path.exists(part_name):
            os.unlink(part_name)


def _damaged(name: str) -> WeightsError:
    """Remove the unusable cached checkpoint of `name` and say so: the page then offers the download again."""
    checkpoint_path(name).unlink(missing_ok=True)
    return WeightsError("weights.error.corrupt", name=name, command=f"{DOWNLOAD_COMMAND} {name}")


def load_state_dict(name: str) -> dict[str, torch.Tensor]:
    """The cached checkpoint of `name`, read safely; WeightsError if missing, or damaged (then it is removed)."""
    path = checkpoint_path(name)
    if not path.is_file():
        raise WeightsError("weights.error.not_cached", name=name, command=f"{DOWNLOAD_COMMAND} {name}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except MemoryError:  # this machine's trouble, not the file's: keep it
        raise
    except Exception:  # a truncated or foreign file: any unpickling error means the same to the user
        raise _damaged(name) from None
    if not isinstance(state, dict):
        raise _damaged(name)
    return state


def load_cached_weights(model: torch.nn.Module, name: str) -> None:
    """Load the cached torchvision checkpoint of `name` into model; WeightsError if missing, damaged or foreign.

    A damaged or foreign file is removed, so that is_cached() is False and the download is offered again.
    """
    state = load_state_dict(name)
    try:
        model.load_state_dict(state)
    except RuntimeError:  # wrong keys or shapes: some other network's file under this name
        raise _damaged(name) from None


def load_lab_weights(model: torch.nn.Module, path: Path) -> None:
    """Load a lab model's bundled safetensors into model; WeightsError if the file is missing."""
    from safetensors.torch import load_file

    if not path.is_file():
        raise WeightsError("weights.error.lab_missing", path=path.name)  # its name, not where the server keeps it
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
