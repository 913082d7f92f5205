"""The step-throughs of the lessons as stepper traces (no Streamlit import).

Each builder turns a cnnlab step list into the encoded trace of ui/trace.py: the matrices
once, then per step the red window, the output cells that change and the arithmetic line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from cnnlab.steps import ChannelConvStep, ConvStep, PoolStep, TransposedConvStep, UnpoolStep, fmt
from ui.trace import Frame, Grid, Prediction, encode

Translate = Callable[..., str]
MAX_TERMS = 27  # a 5×5 kernel's sum in full; longer sums are shortened around '…' (nobody reads 144 products)


def verdict(t: Translate, preset_id: str | None, output: np.ndarray, expected) -> tuple[str, str] | None:
    """The message on the last step: exactly the notes' result, or edited since."""
    if preset_id is None or expected is None:
        return None
    if np.array_equal(output, np.asarray(expected)):
        return ("success", t("preset.matches", id=preset_id))
    return ("info", t("preset.edited", id=preset_id))


def _progress(step) -> np.ndarray:
    """Output so far with NaN where not yet computed (shown blank)."""
    return np.where(step.filled, step.output, np.nan)


def conv_trace(
    t: Translate,
    steps: Sequence[ConvStep],
    padded_input: np.ndarray,
    input_roles: str | np.ndarray,
    kernel: np.ndarray,
    *,
    input_caption: str,
    kernel_caption: str | None = None,
    names: tuple[str, str, str] = ("input", "kernel", "output"),
    final: tuple[str, str] | None = None,
) -> dict:
    """input ∗ kernel = output, one output cell per step; the line is the multiply-add."""
    grids = [
        Grid(names[0], input_caption, padded_input, input_roles),
        Grid(names[1], kernel_caption or t("conv.kernel"), kernel, "kernel"),
        Grid(names[2], t("conv.output"), np.zeros(steps[-1].output.shape), "output", blank=True),
    ]
    frames = (
        Frame(
            windows={0: s.cells, 2: [(s.out_row, s.out_col)]},
            values={2: _progress(s)},
            line=s.expression(max_terms=MAX_TERMS),
            note=t("conv.step.cell", row=s.out_row + 1, col=s.out_col + 1),
            predict=Prediction([(2, s.out_row, s.out_col)], s.value),
        )
        for s in steps
    )
    return encode(grids, [[0, "∗", 1, "=", 2]], frames, final)


def rgb_trace(
    t: Translate,
    steps: Sequence[ChannelConvStep],
    x: np.ndarray,
    w: np.ndarray,
    channel_names: Sequence[str],
    activation: str,
) -> dict:
    """Three channels, each window ∗ kernel = its sum, then sum + bias and the activation.

    x, w: (C, H, W) and (C, K, K).
    """
    grids = []
    channels = []
    for c, name in enumerate(channel_names):
        grids.append(Grid(f"rgb-input-{c}", f"{name} · {t('conv.input')}", x[c], "input"))
        grids.append(Grid(f"rgb-kernel-{c}", f"{name} · {t('conv.kernel')}", w[c], "kernel"))
        channels.append([2 * c, "∗", 2 * c + 1, "=", {"op": f"sum{c}"}])
    out = len(grids)
    grids.append(Grid("rgb-output", t("rgb.feature_map"), np.zeros(steps[-1].output.shape), "output", blank=True))
    rows = [[{"stack": channels}, "→", out]]  # the three channels side by side with the map they make
    act = t(f"activation.{activation}")

    def frame(s: ChannelConvStep) -> Frame:
        sums = " + ".join(fmt(v) for v in s.channel_sums)
        return Frame(
            windows={**{2 * c: s.cells for c in range(len(channel_names))}, out: [(s.out_row, s.out_col)]},
            values={out: _progress(s)},
            line=f"{sums} + ({fmt(s.bias)}) = {fmt(s.pre_activation)}\n{act}({fmt(s.pre_activation)}) = {fmt(s.value)}",
            note=t("conv.step.cell", row=s.out_row + 1, col=s.out_col + 1),
            ops={f"sum{c}": fmt(v) for c, v in enumerate(s.channel_sums)},
            predict=Prediction([(out, s.out_row, s.out_col)], s.value),
        )

    return encode(grids, rows, (frame(s) for s in steps))


def pool_trace(
    t: Translate,
    steps: Sequence[PoolStep],
    padded_input: np.ndarray,
    input_roles: str | np.ndarray,
    mode: str,
    final: tuple[str, str] | None = None,
) -> dict:
    """input → output, one pooled cell per step; cells outside the window are faded."""
    grids = [
        Grid("input", t("conv.input"), padded_input, input_roles, dim_outside=True),
        Grid("output", t("conv.output"), np.zeros(steps[-1].output.shape), "output", blank=True),
    ]

    def line(s: PoolStep) -> str:
        values = [padded_input[r, c] for r, c in s.cells]
        if mode == "max":
            return f"max({', '.join(f'{v:g}' for v in values)}) = {s.value:g}"
        return f"({' + '.join(f'{v:g}' for v in values)}) / {len(values)} = {s.value:.4g}"

    frames = (
        Frame(
            windows={0: s.cells, 1: [(s.out_row, s.out_col)]},
            values={1: _progress(s)},
            line=line(s),
            note=t(f"pool.step.{mode}", row=s.out_row + 1, col=s.out_col + 1),
            predict=Prediction([(1, s.out_row, s.out_col)], s.value),
        )
        for s in steps
    )
    return encode(grids, [[0, "→", 1]], frames, final)


def scatter_trace(
    t: Translate,
    steps: Sequence[TransposedConvStep],
    x: np.ndarray,
    w: np.ndarray,
    padding: int,
    final: tuple[str, str] | None = None,
) -> dict:
    """Each input cell times the kernel is added into the canvas; with padding the crop is shown too."""
    full = steps[-1].canvas.shape
    cropped = np.ones(full, dtype=bool)
    out_h, out_w = steps[-1].output.shape
    cropped[padding : padding + out_h, padding : padding + out_w] = False
    kh, kw = w.shape
    grids = [
        Grid("input", t("conv.input"), x, "input"),
        Grid("kernel", t("conv.kernel"), w, "kernel"),
        Grid("contribution", t("tconv.contribution"), np.zeros(w.shape), "contribution", blank=True),
        Grid(
            "canvas" if padding else "output", t("tconv.canvas"), np.zeros(full), np.where(cropped, "padding", "output")
        ),
    ]
    rows = [[0, "·", 1, "=", 2], [3]]
    if padding:
        grids.append(Grid("output", t("tconv.cropped"), np.zeros((out_h, out_w)), "output"))
        rows[1] += ["→", 4]
    asked = _scatter_cells(steps, w)

    def frame(s: TransposedConvStep) -> Frame:
        values = {2: s.contribution, 3: s.canvas}
        if padding:
            values[4] = s.output
        return Frame(
            windows={0: [(s.in_row, s.in_col)], 3: [(s.top + a, s.left + b) for a in range(kh) for b in range(kw)]},
            values=values,
            note=t(
                "tconv.scatter.step",
                row=s.in_row + 1,
                col=s.in_col + 1,
                value=float(s.value),  # a number: the translator writes it the language's way
                top=s.top + 1,
                left=s.left + 1,
            ),
            predict=_scatter_prediction(s, *asked[s.index], padding, (out_h, out_w)),
        )

    return encode(grids, rows, (frame(s) for s in steps), final)


def _scatter_cells(
    steps: Sequence[TransposedConvStep], w: np.ndarray
) -> list[tuple[tuple[int, int], list[tuple[float, float]]]]:
    """Per step, the canvas cell predict mode asks and the (input, weight) products that sum to it.

    The cell is one that this step's copy finishes (no later copy reaches it, so its value after this step is
    the final result there; the copy's top-left cell always qualifies): among those, the one that sums the
    most products, then a non-zero one, then the first in reading order.
    """
    kh, kw = w.shape
    products: dict[tuple[int, int], list[tuple[float, float]]] = {}  # canvas cell -> every (input, weight) added
    last: dict[tuple[int, int], int] = {}  # canvas cell -> the last step whose copy reaches it
    for s in steps:
        for a in range(kh):
            for b in range(kw):
                products.setdefault((s.top + a, s.left + b), []).append((s.value, float(w[a, b])))
                last[(s.top + a, s.left + b)] = s.index
    asked = []
    for s in steps:
        done = [
            (s.top + a, s.left + b) for a in range(kh) for b in range(kw) if last[(s.top + a, s.left + b)] == s.index
        ]
        cell = max(done, key=lambda rc: (len(products[rc]), s.canvas[rc] != 0, -rc[0], -rc[1]))
        asked.append((cell, products[cell]))
    return asked


def _scatter_prediction(
    s: TransposedConvStep,
    cell: tuple[int, int],
    products: list[tuple[float, float]],
    padding: int,
    out_shape: tuple[int, int],
) -> Prediction:
    """Ask the canvas cell `cell`; with padding the same cell in the cropped result, when kept, is hidden too."""
    cells = [(3, *cell)]
    r, c = cell[0] - padding, cell[1] - padding
    if padding and 0 <= r < out_shape[0] and 0 <= c < out_shape[1]:
        cells.append((4, r, c))
    value = float(s.canvas[cell])
    return Prediction(cells, value, line=_sum_line(products, value))


def _sum_line(products: Sequence[tuple[float, float]], value: float) -> str:
    """'x·w + x·w + … = value' as ConvStep.expression writes it, long sums shortened around '…'."""
    terms = [f"{fmt(x)}·{fmt(w)}" for x, w in products]
    if len(terms) > MAX_TERMS:
        head, tail = MAX_TERMS - MAX_TERMS // 3, MAX_TERMS // 3
        terms = [*terms[:head], f"… ({len(terms) - head - tail})", *terms[len(terms) - tail :]]
    return f"{' + '.join(terms)} = {fmt(value)}"


def unpool_trace(
    t: Translate, steps: Sequence[UnpoolStep], values: np.ndarray, final: tuple[str, str] | None = None
) -> dict:
    """values → output: each pooled value goes back to the cell its maximum came from."""
    grids = [
        Grid("unpool-values", t("unpool.values"), values, "input"),
        Grid("unpooled", t("unpool.result"), np.zeros(steps[-1].output.shape), "output"),
    ]
    frames = (
        Frame(
            windows={0: [(s.in_row, s.in_col)], 1: [(s.out_row, s.out_col)]},
            values={1: s.output},
            line=f"{s.flat_index} = {s.out_row} · {s.output.shape[1]} + {s.out_col}",  # flat index = row · W + col
            note=t("unpool.step", value=float(s.value), index=s.flat_index, row=s.out_row + 1, col=s.out_col + 1),
            # the value is known (it is the pooled one): what to predict is where it goes
            predict=Prediction(
                [(1, s.out_row, s.out_col)],
                kind="where",
                question=t("unpool.predict", value=float(s.value), index=s.flat_index),
            ),
        )
        for s in steps
    )
    return encode(grids, [[0, "→", 1]], frames, final)
