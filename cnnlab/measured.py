"""Speeds measured by the benchmarks, kept for the pages (which never time anything while a student waits).

    python -m benchmarks.segmentation --paper-unet --record   # writes this machine's figure for its device

assets/measured/paper_unet.json holds, per device type ("cpu", "cuda"), the median forward time of a U-Net
of the size the notes quote (W19: 93M parameters, 512 × 512 input), with the machine and the date.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from cnnlab.assets import ASSETS

PAPER_UNET_FILE = ASSETS / "measured" / "paper_unet.json"


@dataclass(frozen=True)
class Timing:
    """One measured median: ms per picture on `device` ("cpu" or "cuda"), on `machine` (a CPU or GPU model,
    with `threads` torch used on a CPU, 0 on a GPU), on `date` (ISO), for a U-Net of `params` on side × side."""

    device: str
    ms: float
    machine: str
    date: str
    params: int
    side: int
    threads: int = 0


def paper_unet_timings(path: Path | None = None) -> dict[str, Timing]:
    """device type -> the recorded timing of the notes' U-Net; empty when none was recorded."""
    path = path or PAPER_UNET_FILE
    if not path.exists():
        return {}
    return {device: Timing(**entry) for device, entry in json.loads(path.read_text(encoding="utf-8")).items()}


def record_paper_unet(timing: Timing, path: Path | None = None) -> None:
    """Store a timing, replacing the earlier one of the same device type."""
    path = path or PAPER_UNET_FILE
    timings = paper_unet_timings(path)
    timings[timing.device] = timing
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({d: asdict(t) for d, t in sorted(timings.items())}, indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
