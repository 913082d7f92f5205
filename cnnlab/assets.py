"""Where the app's data files are: assets/ beside the package in a checkout, or installed with it.

`pip install .` copies them to <prefix>/share/cnnlab/assets (pyproject's data-files), so the
engine and its `cnnlab-weights` command find catalogs, worked examples and lab models either way.
"""

from __future__ import annotations

import sys
from pathlib import Path


def _find() -> Path:
    checkout = Path(__file__).resolve().parent.parent / "assets"
    for candidate in (checkout, Path(sys.prefix) / "share" / "cnnlab" / "assets"):
        if (candidate / "i18n").is_dir():
            return candidate
    return checkout


ASSETS = _find()
