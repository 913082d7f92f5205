"""The worked examples of the lecture notes (assets/worked_examples.json), ready to use.

"same as W1" references are resolved, and arrays become float NumPy matrices.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from cnnlab.assets import ASSETS

EXAMPLES_FILE = ASSETS / "worked_examples.json"


@cache
def worked_examples() -> dict[str, dict]:
    """id -> the example's JSON object, with 'same as Wn' replaced by Wn's value."""
    examples = {e["id"]: e for e in json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))["examples"]}
    for example in examples.values():
        for key, value in example.items():
            if isinstance(value, str) and value.startswith("same as W"):
                example[key] = examples[value.removeprefix("same as ")][key]
    return examples


@dataclass(frozen=True)
class ConvPreset:
    """A convolution or transposed convolution example: input, kernel, settings, expected output."""

    id: str
    input: np.ndarray
    kernel: np.ndarray
    stride: int
    padding: int
    expected: np.ndarray
    title: str = ""
    note: str = ""
    extras: dict = field(default_factory=dict)


def _preset(example: dict, *, padding: int | None = None, expected=None, suffix: str = "") -> ConvPreset:
    return ConvPreset(
        id=example["id"] + suffix,
        input=np.array(example["input"], dtype=np.float64),
        kernel=np.array(example["kernel"], dtype=np.float64),
        stride=example["stride"],
        padding=example["padding"] if padding is None else padding,
        expected=np.array(example["expected"] if expected is None else expected, dtype=np.float64),
        title=example.get("title", ""),
        note=example.get("note", ""),
    )


W3_PADDED_EXPECTED = [[6, 4, 4, 5], [6, 5, 7, 8], [4, 3, 9, 7], [1, 2, 3, 4]]  # stated in W3's note
W11_P1_EXPECTED = [[0, 2], [2, 0]]  # stated in W11's trap


def conv_presets() -> dict[str, ConvPreset]:
    """W1–W4 for the convolution page, W3 also with padding 1 (the notes' answer to shrinking)."""
    ex = worked_examples()
    presets = {k: _preset(ex[k]) for k in ("W1", "W2", "W3", "W4")}
    presets["W3+P1"] = _preset(ex["W3"], padding=1, expected=W3_PADDED_EXPECTED, suffix="+P1")
    return dict(sorted(presets.items(), key=lambda kv: kv[0]))


def transposed_presets() -> dict[str, ConvPreset]:
    """W9–W11 for the transposed-convolution page, W11 also as its slide's label says (P = 1)."""
    ex = worked_examples()
    presets = {k: _preset(ex[k]) for k in ("W9", "W10", "W11")}
    presets["W11+P1"] = _preset(ex["W11"], padding=1, expected=W11_P1_EXPECTED, suffix="+P1")
    return presets


def rgb_example() -> tuple[np.ndarray, np.ndarray]:
    """A (3, 5, 5) RGB patch of values 0–9 and a (3, 3, 3) kernel of -1, 0, 1, seeded so that
    a lecturer sees the same numbers every time."""
    rng = np.random.default_rng(13)
    x = rng.integers(0, 10, size=(3, 5, 5)).astype(np.float64)
    w = rng.integers(-1, 2, size=(3, 3, 3)).astype(np.float64)
    return x, w


@dataclass(frozen=True)
class PoolPreset:
    id: str
    input: np.ndarray
    kernel_size: int
    stride: int
    expected: np.ndarray


def pooling_presets() -> dict[str, PoolPreset]:
    """W5 (3×3 windows, stride 3, no overlap) and W7's first half (2×2, stride 2)."""
    ex = worked_examples()
    w5, w7 = ex["W5"], ex["W7"]
    return {
        "W5": PoolPreset(
            "W5", np.array(w5["input"], float), w5["kernel_size"], w5["stride"], np.array(w5["expected"], float)
        ),
        "W7": PoolPreset(
            "W7", np.array(w7["input"], float), w7["kernel_size"], w7["stride"], np.array(w7["expected_pool"], float)
        ),
    }
