"""Self-check questions per lesson, generated from the engine with random but sensible parameters.

question(lesson, seed, kind) is a Question: what is asked (a catalog key + values), the matrices
shown beside it, the answer and a worked solution (catalog keys + values). Every answer is
computed by the same cnnlab functions the lessons use, never typed in; the same lesson, seed
and kind always give the same question (a private random.Random, no global state).

Positions a student sees or types (rows, columns) count from 1, as on the lesson pages; a
choice answer is the 0-based position in `choices`.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from cnnlab.activations import FUNCTIONS as ACTIVATIONS
from cnnlab.activations import RANGES, Range, activate
from cnnlab.architectures import (
    C3_TABLE,
    BottleneckComparison,
    LeNet5,
    LeNetRow,
    Subsampling,
    bottleneck_comparison,
    lenet5_table,
    yolo_output_shape,
)
from cnnlab.arithmetic import (
    OutputSize,
    conv_output_size,
    conv_parameters,
    dense_head_weights,
    dense_vs_conv_weights,
    effective_kernel,
    explain_conv_output_size,
    layers_from_rows,
    pool_output_size,
    receptive_field,
    same_padding,
    transposed_conv_output_size,
)
from cnnlab.errors import LessonInputError, Verbatim
from cnnlab.filters import KERNELS, filter_image
from cnnlab.matrices import parse_matrix
from cnnlab.presets import worked_examples
from cnnlab.steps import (
    ConvStep,
    PoolStep,
    avg_pool2d_steps,
    conv2d_steps,
    fmt,
    max_pool2d_steps,
    max_pool_indices,
    max_unpool2d_steps,
    transposed_conv2d_steps,
)
from cnnlab.upsampling import upsample_nearest


class Key(str):
    """A value that is itself a catalog key ('activation.tanh'): translated before it fills a placeholder."""


Text = tuple[str, dict[str, Any]]  # (catalog key, values for its placeholders)
Matrix = tuple[tuple[int | float, ...], ...]

ANSWER_TYPES = ("int", "float", "matrix", "choice", "indices", "cell", "shape")


@dataclass(frozen=True)
class Question:
    """One self-check question.

    prompt: what is asked; inputs: name -> what is shown beside it (a Matrix; for 'scores' a tuple
    of numbers, one per row of 'boxes', xyxy; for 'layers' the rows of a layer table as
    cnnlab.arithmetic.layers_from_rows reads them), labelled by the
    catalog key 'quiz.input.<name>'. answer has the form check() accepts for answer_type:
    int -> int; float -> float (right within `tolerance`); matrix -> Matrix (within `tolerance`);
    choice -> index into `choices`; indices -> sorted tuple of 1-based numbers; cell ->
    (row, col) from 1; shape -> tuple of ints. choices: Matrix or Text items, for 'choice' only.
    solution: the worked answer, step by step. Values that are Key are catalog keys themselves.
    """

    lesson: str
    kind: str
    seed: int
    prompt: Text
    inputs: dict[str, Any]
    answer: Any
    answer_type: str
    choices: tuple = ()
    solution: tuple[Text, ...] = ()
    tolerance: float = 0.0


def message(text: Text, t: Callable[..., str]) -> str:
    """A prompt, choice or solution step in the language of t (cnnlab.i18n.translator)."""
    key, values = text
    return t(key, **{name: t(v) if isinstance(v, Key) else v for name, v in values.items()})


def _num(value) -> int | float:
    """3.0 -> 3 (an integer reads as one in every language); other values stay floats."""
    value = float(value)
    return int(value) if value.is_integer() else value


def _matrix(a) -> Matrix:
    return tuple(tuple(_num(v) for v in row) for row in np.asarray(a, dtype=np.float64))


def _inline(a) -> str:
    """A small matrix written on one line: [[5, 6], [7, 8]]."""
    return "[" + ", ".join("[" + ", ".join(fmt(v) for v in row) + "]" for row in np.asarray(a)) + "]"


def _digits(rng: random.Random, rows: int, cols: int, values: Sequence[int]) -> np.ndarray:
    return np.array([[rng.choice(values) for _ in range(cols)] for _ in range(rows)], dtype=np.float64)


def _parts(prompt: Text, answer, answer_type: str, solution: list[Text], **rest) -> dict[str, Any]:
    return {"prompt": prompt, "answer": answer, "answer_type": answer_type, "solution": tuple(solution), **rest}


def _window(cells: Sequence[tuple[int, int]]) -> dict[str, int]:
    """First and last row and column (from 1) of a window given by its (0-based) cells."""
    rows, cols = [r + 1 for r, _ in cells], [c + 1 for _, c in cells]
    return {"top": min(rows), "bottom": max(rows), "left": min(cols), "right": max(cols)}


def _conv_size_steps(e: OutputSize) -> list[Text]:
    """The output-size formula of Conv2d with the numbers of an OutputSize put in."""
    steps: list[Text] = [
        (
            "quiz.step.conv_size.formula",
            {"size": e.size, "kernel": e.kernel, "stride": e.stride, "padding": e.padding, "dilation": e.dilation},
        ),
        (
            "quiz.step.floor",
            {"numerator": e.numerator, "stride": e.stride, "quotient": e.numerator // e.stride, "output": e.output},
        ),
    ]
    if not e.exact:
        steps.append(("quiz.step.inexact", {"numerator": e.numerator, "stride": e.stride, "remainder": e.remainder}))
    return steps


def _conv_cell_steps(step: ConvStep, stride: int, padding: int, size: int) -> list[Text]:
    steps: list[Text] = []
    if padding:
        steps.append(("quiz.step.pad", {"padding": padding, "size": size, "padded": size + 2 * padding}))
    window = _window(step.cells)  # on the padded input, counted from 1
    steps.append(
        (
            "quiz.step.conv_window.padded" if padding else "quiz.step.conv_window",
            {"row": step.out_row + 1, "col": step.out_col + 1, "stride": stride, **window},
        )
    )
    steps.append(("quiz.step.products", {"expression": step.expression()}))
    return steps


def _conv_output_size(rng: random.Random) -> dict[str, Any]:
    while True:
        size, kernel = rng.randint(5, 16), rng.choice([2, 3, 3, 5])
        stride, padding, dilation = rng.choice([1, 2, 2, 3]), rng.choice([0, 0, 1, 2]), rng.choice([1, 1, 1, 2])
        if effective_kernel(kernel, dilation) <= size + 2 * padding:
            e = explain_conv_output_size(size, kernel, stride, padding, dilation)
            if e.output >= 2:
                break
    values = {"size": size, "kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    return _parts(("quiz.convolution.output_size.prompt", values), e.output, "int", _conv_size_steps(e), inputs={})


def _conv_cell(rng: random.Random) -> dict[str, Any]:
    while True:
        size, kernel = rng.randint(4, 6), rng.choice([2, 3])
        stride, padding = rng.choice([1, 1, 2]), rng.choice([0, 0, 1])
        if conv_output_size(size, kernel, stride, padding) >= 2:
            break
    x, w = _digits(rng, size, size, range(10)), _digits(rng, kernel, kernel, [-1, 0, 1, 2])
    step = rng.choice(conv2d_steps(x, w, stride=stride, padding=padding))
    values = {"row": step.out_row + 1, "col": step.out_col + 1, "stride": stride, "padding": padding}
    return _parts(
        ("quiz.convolution.cell.prompt", values),
        int(step.value),
        "int",
        _conv_cell_steps(step, stride, padding, size),
        inputs={"input": _matrix(x), "kernel": _matrix(w)},
    )


def _receptive_field(rng: random.Random) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for i in range(rng.randint(2, 4)):
        if i and rows[-1]["kind"] == "conv" and rng.random() < 0.25:
            rows.append({"kind": "pool", "kernel": 2, "stride": 2, "padding": 0, "dilation": 1})
            continue
        kernel, stride, dilation = rng.choice([1, 3, 3, 3, 5]), rng.choice([1, 1, 1, 2]), rng.choice([1, 1, 1, 2])
        if kernel == 1:
            dilation = 1
        row = {"kind": "conv", "kernel": kernel, "stride": stride, "dilation": dilation}
        rows.append({**row, "padding": same_padding(kernel, dilation), "channels": rng.choice([8, 16, 32])})
    layers = layers_from_rows(rows)
    table = receptive_field(layers)
    steps: list[Text] = [("quiz.convolution.receptive_field.step.start", {})]
    rf, jump = 1, 1
    for layer, row in zip(layers, table, strict=True):
        values = {
            "layer": layer.name,
            "rf_before": rf,
            "span": effective_kernel(layer.kernel, layer.dilation),
            "jump_before": jump,
            "rf": row.receptive_field,
            "stride": layer.stride,
            "jump": row.jump,
        }
        steps.append(("quiz.convolution.receptive_field.step.layer", values))
        rf, jump = row.receptive_field, row.jump
    prompt = ("quiz.convolution.receptive_field.prompt", {"count": len(layers)})
    return _parts(prompt, table[-1].receptive_field, "int", steps, inputs={"layers": tuple(rows)})


def _parameters(rng: random.Random) -> dict[str, Any]:
    c_in, c_out = rng.choice([1, 3, 8, 16, 32, 64]), rng.choice([4, 8, 16, 32, 64])
    kernel, bias = rng.choice([1, 3, 3, 5, 7]), rng.random() < 0.75
    values = {"in_channels": c_in, "out_channels": c_out, "kernel": kernel}
    weights = conv_parameters(c_in, c_out, kernel, bias=False)
    steps: list[Text] = [("quiz.convolution.parameters.step.weights", {**values, "weights": weights})]
    total = conv_parameters(c_in, c_out, kernel, bias)
    if bias:
        steps.append(
            ("quiz.convolution.parameters.step.bias", {"weights": weights, "out_channels": c_out, "total": total})
        )
    key = "quiz.convolution.parameters.prompt" if bias else "quiz.convolution.parameters.prompt_no_bias"
    return _parts((key, values), total, "int", steps, inputs={})


def _dense_vs_conv_parts(image: int, kernel: int, hidden: int, channels: int, ask: str, prompt_key: str, **extra):
    r = dense_vs_conv_weights(image, kernel, hidden, channels)
    side = conv_output_size(image, kernel)
    steps: list[Text] = [
        (
            "quiz.step.dense_weights",
            {
                "image": image,
                "channels": channels,
                "pixels": r.image_pixels,
                "hidden": hidden,
                "dense": r.dense_weights,
            },
        ),
        (
            "quiz.step.conv_then_dense_weights",
            {
                "kernel": kernel,
                "channels": channels,
                "kernel_weights": r.kernel_weights,
                "side": side,
                "outputs": r.conv_outputs,
                "hidden": hidden,
                "conv": r.conv_then_dense_weights,
            },
        ),
    ]
    answer = r.dense_weights if ask == "dense" else r.conv_then_dense_weights
    values = {"image": image, "channels": channels, "hidden": hidden, **extra}
    if ask == "conv":
        values["kernel"] = kernel
    return _parts((f"{prompt_key}.{ask}", values), answer, "int", steps, inputs={})


def _dense_vs_conv(rng: random.Random) -> dict[str, Any]:
    image, kernel, channels = rng.randint(3, 8), rng.choice([2, 3]), rng.choice([1, 1, 3])
    hidden, ask = rng.choice([2, 4, 5, 8, 10, 16, 20, 32, 50, 100]), rng.choice(["dense", "conv"])
    return _dense_vs_conv_parts(image, kernel, hidden, channels, ask, "quiz.convolution.dense_vs_conv.prompt")


def _transposed_output_size(rng: random.Random) -> dict[str, Any]:
    while True:
        size, kernel = rng.randint(2, 8), rng.choice([2, 3, 3, 4, 5])
        stride, padding = rng.choice([1, 2, 2, 3]), rng.choice([0, 0, 1, 2])
        output_padding = rng.choice([0, 0, 0, 1]) if stride > 1 else 0
        try:
            out = transposed_conv_output_size(size, kernel, stride, padding, output_padding)
        except LessonInputError:
            continue
        if out >= 2:
            break
    values = {"size": size, "kernel": kernel, "stride": stride, "padding": padding, "output_padding": output_padding}
    steps: list[Text] = [("quiz.step.transposed_size.formula", {**values, "output": out})]
    return _parts(("quiz.transposed_convolution.output_size.prompt", values), out, "int", steps, inputs={})


def _transposed_cell_steps(x: np.ndarray, w: np.ndarray, stride: int, padding: int, row: int, col: int):
    """The answer and worked steps for output cell (row, col) (0-based) of conv_transpose2d(x, w)."""
    steps = transposed_conv2d_steps(x, w, stride=stride, padding=padding)
    out_size = steps[-1].output.shape[0]
    solution: list[Text] = []
    if padding:
        values = {"padding": padding, "row": row + 1, "col": col + 1, "full": out_size + 2 * padding}
        solution.append(
            ("quiz.step.transposed_crop", {**values, "full_row": row + padding + 1, "full_col": col + padding + 1})
        )
    r, c = row + padding, col + padding  # the cell on the uncropped sum
    terms = []
    for s in steps:
        m, n = r - s.top, c - s.left
        if 0 <= m < w.shape[0] and 0 <= n < w.shape[1]:
            solution.append(
                (
                    "quiz.step.transposed_copy",
                    {
                        "in_row": s.in_row + 1,
                        "in_col": s.in_col + 1,
                        "value": _num(s.value),
                        "top": s.top + 1,
                        "left": s.left + 1,
                        "weight": _num(w[m, n]),
                        "k_row": m + 1,
                        "k_col": n + 1,
                    },
                )
            )
            terms.append(f"{fmt(s.value)}·{fmt(w[m, n])}")
    value = steps[-1].output[row, col]
    solution.append(("quiz.step.sum", {"expression": " + ".join(terms) + f" = {fmt(value)}"}))
    return _num(value), solution


def _transposed_cell(rng: random.Random) -> dict[str, Any]:
    while True:
        size, kernel = rng.randint(2, 3), rng.choice([2, 3])
        stride, padding = rng.randint(1, 2), rng.choice([0, 0, 1])
        if transposed_conv_output_size(size, kernel, stride, padding) >= 2:
            break  # stride <= kernel: every output cell is covered by some copy of the kernel
    x, w = _digits(rng, size, size, range(6)), _digits(rng, kernel, kernel, [-1, 0, 1, 2, 3])
    out = transposed_conv_output_size(size, kernel, stride, padding)
    row, col = rng.randrange(out), rng.randrange(out)
    answer, steps = _transposed_cell_steps(x, w, stride, padding, row, col)
    values = {"row": row + 1, "col": col + 1, "stride": stride, "padding": padding}
    return _parts(
        ("quiz.transposed_convolution.cell.prompt", values),
        answer,
        "int",
        steps,
        inputs={"input": _matrix(x), "kernel": _matrix(w)},
    )


def _pool_output_size(rng: random.Random) -> dict[str, Any]:
    while True:
        size, kernel = rng.randint(4, 16), rng.choice([2, 2, 3])
        stride = rng.choice([kernel, kernel, 1, 2, 3])
        padding = rng.choice([0, 0, 0, kernel // 2])
        out = pool_output_size(size, kernel, stride, padding)
        if out >= 2:
            break
    values = {"size": size, "kernel": kernel, "stride": stride, "padding": padding}
    steps = _pool_size_steps(size, kernel, stride, padding)
    return _parts(("quiz.pooling.output_size.prompt", values), out, "int", steps, inputs={})


def _pool_cell(rng: random.Random, mode: str) -> dict[str, Any]:
    while True:
        size, kernel = rng.randint(4, 6), rng.choice([2, 3])
        stride = rng.choice([kernel, kernel, 1, 2])
        if stride <= kernel and pool_output_size(size, kernel, stride) >= 2:
            break
    x = _digits(rng, size, size, range(10))
    pool = max_pool2d_steps if mode == "max" else avg_pool2d_steps
    step: PoolStep = rng.choice(pool(x, kernel, stride=stride))
    window = [x[r, c] for r, c in step.cells]
    shown = ", ".join(fmt(v) for v in window)
    steps: list[Text] = [
        ("quiz.step.pool_window", {"row": step.out_row + 1, "col": step.out_col + 1, **_window(step.cells)})
    ]
    values = {"row": step.out_row + 1, "col": step.out_col + 1, "kernel": kernel, "stride": stride}
    inputs = {"input": _matrix(x)}
    if mode == "max":
        steps.append(("quiz.step.pool_max", {"values": shown, "value": _num(step.value)}))
        return _parts(("quiz.pooling.max_cell.prompt", values), int(step.value), "int", steps, inputs=inputs)
    steps.append(
        ("quiz.step.pool_mean", {"values": shown, "sum": _num(sum(window)), "count": len(window), "value": step.value})
    )
    prompt = ("quiz.pooling.avg_cell.prompt", values)
    return _parts(prompt, step.value, "float", steps, inputs=inputs, tolerance=0.01)


def _unique_max_input(rng: random.Random, kernel: int, blocks: int) -> np.ndarray:
    """A (kernel·blocks)² matrix of digits whose every window of max pooling has one largest value."""
    x = np.zeros((kernel * blocks, kernel * blocks))
    for i in range(blocks):
        for j in range(blocks):
            while True:
                block = _digits(rng, kernel, kernel, range(10))
                if (block == block.max()).sum() == 1:
                    break
            x[i * kernel : (i + 1) * kernel, j * kernel : (j + 1) * kernel] = block
    return x


def _unpool_parts(x: np.ndarray, values: np.ndarray, kernel: int):
    """Max pooling of x (windows = stride = kernel) remembering the maxima, then max unpooling of `values`."""
    pool_steps = max_pool2d_steps(x, kernel)
    indices = max_pool_indices(pool_steps, x.shape[1])
    return pool_steps, indices, max_unpool2d_steps(values, indices, kernel)


def _unpool(rng: random.Random) -> dict[str, Any]:
    kernel = rng.choice([2, 2, 3])
    blocks = rng.choice([2, 2, 3]) if kernel == 2 else 2
    x = _unique_max_input(rng, kernel, blocks)
    values = _digits(rng, blocks, blocks, range(1, 10))
    pool_steps, _, unpool_steps = _unpool_parts(x, values, kernel)
    u = rng.choice(unpool_steps)
    source = pool_steps[u.index]  # both run row by row over the same (blocks × blocks) grid
    steps: list[Text] = [
        (
            "quiz.step.unpool_max",
            {
                "row": u.in_row + 1,
                "col": u.in_col + 1,
                **_window(source.cells),
                "max": _num(source.value),
                "max_row": u.out_row + 1,
                "max_col": u.out_col + 1,
                "index": u.flat_index,
                "width": x.shape[1],
            },
        ),
        ("quiz.step.unpool_put", {"value": _num(u.value), "row": u.out_row + 1, "col": u.out_col + 1}),
    ]
    prompt = ("quiz.pooling.unpool.prompt", {"kernel": kernel, "row": u.in_row + 1, "col": u.in_col + 1})
    answer = (u.out_row + 1, u.out_col + 1)
    return _parts(prompt, answer, "cell", steps, inputs={"input": _matrix(x), "values": _matrix(values)})


@cache
def _edge_responses() -> dict[str, dict[str, float]]:
    """name -> the largest response (with its sign) of each filter kernel on a horizontal edge, a
    vertical edge and a flat grey image, by cnnlab.filters (what the edges lesson applies)."""
    horizontal = np.zeros((6, 6))
    horizontal[:3] = 1.0  # bright above, dark below: a horizontal edge
    images = {"horizontal": horizontal, "vertical": horizontal.T.copy(), "flat": np.full((6, 6), 0.5)}
    responses = {}
    for name, kernel in KERNELS.items():
        responses[name] = {}
        for image_name, image in images.items():
            response, _ = filter_image(image, kernel)
            responses[name][image_name] = float(response.flat[np.abs(response).argmax()])
    return responses


def _finds(name: str, direction: str) -> bool:
    """True when the kernel responds to edges of `direction` and to nothing else (no other edge, no flat area)."""
    other = "vertical" if direction == "horizontal" else "horizontal"
    r = _edge_responses()[name]
    return abs(r[direction]) > 0.5 and abs(r[other]) < 1e-4 and abs(r["flat"]) < 1e-4


def _sobel_parts(rng: random.Random, direction: str, prompt: Text) -> dict[str, Any]:
    integer = [n for n in KERNELS if np.array_equal(KERNELS[n], np.round(KERNELS[n]))]  # readable on a slide
    (correct,) = [n for n in integer if n.startswith("sobel") and _finds(n, direction)]
    (other_sobel,) = [n for n in integer if n.startswith("sobel") and n != correct]
    rest = [n for n in integer if not _finds(n, direction) and n != other_sobel and not n.startswith("sobel")]
    names = [correct, other_sobel, *rng.sample(rest, 2)]
    rng.shuffle(names)
    r = _edge_responses()[correct]
    other = "vertical" if direction == "horizontal" else "horizontal"
    steps: list[Text] = [
        (
            f"quiz.step.sobel_test.{direction}",
            {"response": _num(round(r[direction], 3)), "other": _num(abs(round(r[other], 3)))},
        ),
        (f"quiz.step.sobel_why.{direction}", {}),
    ]
    choices = tuple(_matrix(KERNELS[n]) for n in names)
    return _parts(prompt, names.index(correct), "choice", steps, inputs={}, choices=choices)


def _sobel(rng: random.Random) -> dict[str, Any]:
    direction = rng.choice(["horizontal", "vertical"])
    return _sobel_parts(rng, direction, (f"quiz.edges.sobel.prompt.{direction}", {}))


NOTES_TANH_RANGE = Range(0.0, 1.0, True, True)  # what one set of notes claims for tanh: a tempting wrong answer


def _interval(r: Range) -> Text:
    low = "−∞" if np.isinf(r.low) else _num(r.low)
    high = "∞" if np.isinf(r.high) else _num(r.high)
    left, right = "[" if r.low_closed else "(", "]" if r.high_closed else ")"
    return ("quiz.activations.interval", {"left": left, "low": low, "high": high, "right": right})


def _range_steps(name: str, r: Range) -> list[Text]:
    function = Key(f"activation.{name}")
    at = activate(name, [-3.0, 0.0, 3.0])
    steps: list[Text] = [
        (
            "quiz.step.activation_values",
            {
                "function": function,
                **{k: _num(round(float(v), 3)) for k, v in zip(("low", "zero", "high"), at, strict=True)},
            },
        )
    ]
    x = np.linspace(-5.0, 5.0, 10001)
    y = activate(name, x)
    if np.isinf(r.low):
        steps.append(("quiz.step.activation_low.unbounded", {"function": function}))
    elif r.low_closed:
        lowest = np.flatnonzero(y <= y.min() + 1e-12)
        where = x[lowest[np.abs(x[lowest]).argmin()]]  # relu: every x <= 0; show the one nearest 0
        steps.append(
            (
                "quiz.step.activation_low.reached",
                {"low": _num(round(float(y.min()), 3)), "at": _num(round(float(where), 2))},
            )
        )
    else:
        steps.append(("quiz.step.activation_low.approached", {"function": function, "low": _num(r.low)}))
    if np.isinf(r.high):
        steps.append(("quiz.step.activation_high.unbounded", {"function": function}))
    elif r.high_closed:
        steps.append(("quiz.step.activation_high.reached", {"high": _num(round(float(y.max()), 3))}))
    else:
        steps.append(("quiz.step.activation_high.approached", {"function": function, "high": _num(r.high)}))
    return steps


def _activation_range(rng: random.Random) -> dict[str, Any]:
    name = rng.choice([n for n in ACTIVATIONS if n != "none"])
    correct = RANGES[name]
    wrong = list(dict.fromkeys(r for r in [*RANGES.values(), NOTES_TANH_RANGE] if r != correct))
    options = [correct, *rng.sample(wrong, 3)]
    rng.shuffle(options)
    prompt = ("quiz.activations.range.prompt", {"function": Key(f"activation.{name}")})
    choices = tuple(_interval(r) for r in options)
    return _parts(prompt, options.index(correct), "choice", _range_steps(name, correct), inputs={}, choices=choices)


def _box_values(box) -> dict[str, int]:
    x1, y1, x2, y2 = (int(v) for v in box)
    return {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "width": x2 - x1, "height": y2 - y1}


def _random_box(rng: random.Random, near: tuple[int, ...] | None = None) -> tuple[int, int, int, int]:
    """Whole-pixel xyxy box with sides 2–6, anywhere in 0–12 or shifted at most 3 from `near`'s corner."""
    if near is None:
        x1, y1 = rng.randint(0, 6), rng.randint(0, 6)
    else:
        x1, y1 = max(0, near[0] + rng.randint(-3, 3)), max(0, near[1] + rng.randint(-3, 3))
    return x1, y1, x1 + rng.randint(2, 6), y1 + rng.randint(2, 6)


def _iou(rng: random.Random) -> dict[str, Any]:
    # imported here: cnnlab.detection brings torchvision's detection models, which no other lesson needs
    from cnnlab.detection import box_iou, box_overlap

    while True:
        a = _random_box(rng)
        b = _random_box(rng, a)
        o = box_overlap(a, b)
        if o.intersection > 0 and a != b:
            break
    iou = float(box_iou([a], [b])[0, 0])
    steps: list[Text] = [
        ("quiz.step.iou_area", {"box": 1, **_box_values(a), "area": _num(o.area_a)}),
        ("quiz.step.iou_area", {"box": 2, **_box_values(b), "area": _num(o.area_b)}),
        ("quiz.step.iou_intersection", {**_box_values(o.intersection_box), "intersection": _num(o.intersection)}),
        (
            "quiz.step.iou_union",
            {
                "area_a": _num(o.area_a),
                "area_b": _num(o.area_b),
                "intersection": _num(o.intersection),
                "union": _num(o.union),
            },
        ),
        (
            "quiz.step.iou_ratio",
            {"intersection": _num(o.intersection), "union": _num(o.union), "iou": _num(round(iou, 3))},
        ),
    ]
    prompt = ("quiz.detection.iou.prompt", {})
    return _parts(prompt, iou, "float", steps, inputs={"boxes": _matrix([a, b])}, tolerance=0.01)


def _nms(rng: random.Random) -> dict[str, Any]:
    from cnnlab.detection import box_iou, nms_steps  # imported here: see _iou

    while True:
        count, threshold = rng.randint(3, 5), rng.choice([0.3, 0.5, 0.7])
        objects = [_random_box(rng) for _ in range(2)]  # boxes crowd around two objects, as detections do
        boxes = [_random_box(rng, rng.choice(objects)) for _ in range(count)]
        scores = [s / 100 for s in rng.sample(range(50, 100), count)]  # distinct: no ties in the order
        ious = box_iou(boxes, boxes)
        # no pair close to the threshold, so that an IoU estimated to 2 decimals decides the same way
        if np.all(np.abs(ious[~np.eye(count, dtype=bool)] - threshold) >= 0.05):
            rounds = nms_steps(boxes, scores, threshold)
            if len(rounds[-1].kept) < count:
                break
    steps: list[Text] = []
    for r in rounds:
        steps.append(("quiz.step.nms_take", {"box": r.taken + 1, "score": _num(r.score)}))
        for j, iou in zip(r.suppressed, r.ious, strict=True):
            values = {"box": j + 1, "kept": r.taken + 1, "iou": _num(round(iou, 2)), "threshold": threshold}
            steps.append(("quiz.step.nms_suppress", values))
        for j in r.remaining:
            values = {"box": j + 1, "kept": r.taken + 1, "iou": _num(round(float(ious[r.taken, j]), 2))}
            steps.append(("quiz.step.nms_stay", {**values, "threshold": threshold}))
    kept = tuple(sorted(k + 1 for k in rounds[-1].kept))
    steps.append(("quiz.step.nms_kept", {"boxes": ", ".join(str(k) for k in kept)}))
    inputs = {"boxes": _matrix(boxes), "scores": tuple(scores)}
    return _parts(("quiz.detection.nms.prompt", {"threshold": threshold}), kept, "indices", steps, inputs=inputs)


# --- architectures, feature maps, segmentation --------------------------------------------------


def _bottleneck_question(rng: random.Random) -> dict[str, Any]:
    size, channels = rng.choice([7, 14, 28]), rng.choice([192, 256, 480, 512, 832])
    reduced, out_channels = rng.choice([16, 24, 32, 48, 64]), rng.choice([32, 48, 64, 96, 128])
    kernel, ask = rng.choice([3, 5]), rng.choice(["direct", "bottleneck"])
    b = bottleneck_comparison(size, channels, out_channels, reduced, kernel)
    values = {"kernel": kernel, "channels": channels, "out_channels": out_channels}
    reduction = {"reduced": reduced, "reduce": b.reduce_params, "conv": b.conv_params, "params": b.bottleneck_params}
    solution: list[Text] = [
        ("quiz.step.bottleneck_direct.general", {**values, "params": b.direct_params}),
        ("quiz.step.bottleneck_reduced.general", {**values, **reduction}),
    ]
    answer = b.direct_params if ask == "direct" else b.bottleneck_params
    asked = {"size": size, **values} | ({"reduced": reduced} if ask == "bottleneck" else {})
    prompt = (f"quiz.architectures.bottleneck.prompt.{ask}", asked)
    return _parts(prompt, answer, "int", solution, inputs={})


def _gap_question(rng: random.Random) -> dict[str, Any]:
    size, channels = rng.choice([4, 6, 7, 8, 13, 14]), rng.choice([256, 512, 1024, 2048])
    outputs = rng.choice([10, 100, 1000, 1024, 4096])
    parameters = dense_head_weights(size, size, channels, outputs)
    inputs_count = dense_head_weights(size, size, channels, 1, bias=False)
    # sizes as text: '7×7×1024', not the '7×7×1,024' a count would get in English
    values = {"size": size, "channels": str(channels), "outputs": str(outputs)}
    gap = {**values, "parameters": dense_head_weights(1, 1, channels, outputs)}
    del gap["size"]
    solution: list[Text] = [
        ("quiz.step.dense_head", {**values, "inputs": inputs_count, "parameters": parameters}),
        ("quiz.step.gap_head", gap),
    ]
    return _parts(("quiz.architectures.gap.prompt", values), parameters, "int", solution, inputs={})


def _yolo_question(rng: random.Random) -> dict[str, Any]:
    grid, boxes, classes = rng.choice([5, 7, 9, 13]), rng.choice([1, 2, 3, 5]), rng.choice([1, 3, 10, 20, 80])
    shape = yolo_output_shape(grid, boxes, classes)
    values = {"grid": grid, "boxes": boxes, "classes": classes}
    solution: list[Text] = [("quiz.step.yolo", {**values, "depth": shape[-1]})]
    return _parts(("quiz.architectures.yolo.prompt", values), shape, "shape", solution, inputs={})


NETWORKS = {"alexnet.imagenet": "AlexNet", "vgg16.imagenet": "VGG16"}  # registry name -> name in the prompt


def _network_layer(rng: random.Random, kinds: tuple[str, ...]) -> tuple[str, int, tuple[int, ...], Any]:
    """(network, input size, the layer's input shape (C, H, W), its cnnlab.features.ArchitectureRow) for a
    conv (or pool) layer of a torchvision network, as the feature-maps lesson's architecture table lists it."""
    from cnnlab.features import architecture_table  # imported here: it brings the model registry

    network, size = rng.choice(list(NETWORKS)), rng.choice([224, 224, 192, 256, 320])
    table = architecture_table(network, size)
    shapes = [(3, size, size)] + [row.output_shape for row in table]  # shapes[i] is the input of table[i]
    index = rng.choice([i for i, row in enumerate(table) if row.kind in kinds])
    return network, size, shapes[index], table[index]


def _layer_values(network: str, size: int, shape: tuple[int, ...], row) -> dict[str, Any]:
    return {
        "network": NETWORKS[network],
        "layer": row.layer,
        "kernel": int(row.kernel),
        "stride": int(row.stride),
        "padding": int(row.padding),
        "channels": shape[0],
        "height": shape[1],
        "out_channels": row.output_shape[0],
        "image": size,
    }


def _layer_shape(rng: random.Random) -> dict[str, Any]:
    network, size, shape, row = _network_layer(rng, ("conv", "pool"))
    values = _layer_values(network, size, shape, row)
    k, s, p = values["kernel"], values["stride"], values["padding"]
    e = explain_conv_output_size(shape[1], k, s, p)  # max pooling has the same formula, with D = 1
    solution = _conv_size_steps(e) if row.kind == "conv" else _pool_size_steps(shape[1], k, s, p)
    c_out = row.output_shape[0]
    solution.append((f"quiz.step.layer_channels.{row.kind}", {"channels": c_out}))
    answer = (c_out, *row.output_shape[1:])
    if row.kind == "pool":
        del values["out_channels"]
    return _parts((f"quiz.features.layer_shape.prompt.{row.kind}", values), answer, "shape", solution, inputs={})


def _layer_parameters(rng: random.Random) -> dict[str, Any]:
    network, size, shape, row = _network_layer(rng, ("conv",))
    values = {
        "network": NETWORKS[network],
        "layer": row.layer,
        "kernel": int(row.kernel),
        "channels": shape[0],
        "out_channels": row.output_shape[0],
    }
    weights = conv_parameters(shape[0], row.output_shape[0], values["kernel"], bias=False)
    step_values = {"kernel": values["kernel"], "in_channels": shape[0], "out_channels": row.output_shape[0]}
    solution: list[Text] = [
        ("quiz.convolution.parameters.step.weights", {**step_values, "weights": weights}),
        (
            "quiz.convolution.parameters.step.bias",
            {"weights": weights, "out_channels": row.output_shape[0], "total": row.parameters},
        ),
    ]
    return _parts(("quiz.features.layer_parameters.prompt", values), row.parameters, "int", solution, inputs={})


def _pool_size_steps(size: int, kernel: int, stride: int, padding: int) -> list[Text]:
    numerator = size + 2 * padding - kernel
    out = pool_output_size(size, kernel, stride, padding)
    values = {"size": size, "kernel": kernel, "stride": stride, "padding": padding}
    steps: list[Text] = [
        ("quiz.step.pool_size.formula", values),
        ("quiz.step.floor", {"numerator": numerator, "stride": stride, "quotient": numerator // stride, "output": out}),
    ]
    if numerator % stride:
        steps.append(("quiz.step.inexact", {"numerator": numerator, "stride": stride, "remainder": numerator % stride}))
    return steps


@cache
def _unet_levels(depth: int, width: int, size: int) -> tuple:
    """cnnlab.unet.level_shapes of a U-Net on a 3 × size × size picture (built on the meta device; ~50 ms)."""
    import torch  # imported here, like the U-Net: only this kind builds one

    from cnnlab.unet import UNet, level_shapes

    with torch.device("meta"):
        model = UNet(3, 2, depth, width)
    return tuple(level_shapes(model, size, size))


def _unet_level(rng: random.Random) -> dict[str, Any]:
    depth, width = rng.randint(2, 4), rng.choice([8, 16, 32, 64])
    size = 2**depth * rng.randint(max(2, 32 // 2**depth), 256 // 2**depth)
    rows = [r for r in _unet_levels(depth, width, size) if r.stage != "output"]
    row = rng.choice([r for r in rows if r.level > 0 or r.stage == "up"])  # level-0 'down' keeps the size
    level = row.level
    channels, side = width * 2**level, size // 2**level
    solution: list[Text] = [
        (
            "quiz.step.unet_down",
            {"level": level, "width": width, "channels": channels, "size": size, "side": side, "factor": 2**level},
        )
    ]
    if row.stage == "up":
        below = {"below_channels": 2 * channels, "below_side": side // 2}
        solution.append(
            ("quiz.step.unet_up", {**below, "channels": channels, "side": side, "joined": 2 * channels, "level": level})
        )
    values = {"depth": depth, "width": width, "size": size, "level": level}
    prompt = (f"quiz.segmentation.unet_level.prompt.{row.stage}", values)
    return _parts(prompt, row.shape, "shape", solution, inputs={})


# Left out: W13 (formulas without numbers: the transposed output-size questions ask it) and
# W19 (a timing fact, nothing to compute).


def _example(example_id: str) -> dict:
    return worked_examples()[example_id]


def _worked_conv(example_id: str, rng: random.Random) -> dict[str, Any]:
    ex = _example(example_id)
    x, w = np.array(ex["input"], float), np.array(ex["kernel"], float)
    steps_ = conv2d_steps(x, w, stride=ex["stride"], padding=ex["padding"])
    solution = _conv_size_steps(explain_conv_output_size(x.shape[0], w.shape[0], ex["stride"], ex["padding"]))
    for s in steps_:
        solution.append(("quiz.step.cell", {"row": s.out_row + 1, "col": s.out_col + 1, "expression": s.expression()}))
    values = {"id": example_id, "stride": ex["stride"], "padding": ex["padding"]}
    return _parts(
        ("quiz.worked.conv2d.prompt", values),
        _matrix(steps_[-1].output),
        "matrix",
        solution,
        inputs={"input": _matrix(x), "kernel": _matrix(w)},
    )


def _worked_max_pool(example_id: str, rng: random.Random) -> dict[str, Any]:
    ex = _example(example_id)
    x = np.array(ex["input"], float)
    steps_ = max_pool2d_steps(x, ex["kernel_size"], stride=ex["stride"])
    solution: list[Text] = []
    for s in steps_:
        shown = ", ".join(fmt(x[r, c]) for r, c in s.cells)
        solution.append(
            (
                "quiz.step.cell_max",
                {"row": s.out_row + 1, "col": s.out_col + 1, "values": shown, "value": _num(s.value)},
            )
        )
    values = {"id": example_id, "kernel": ex["kernel_size"], "stride": ex["stride"]}
    return _parts(
        ("quiz.worked.max_pool2d.prompt", values),
        _matrix(steps_[-1].output),
        "matrix",
        solution,
        inputs={"input": _matrix(x)},
    )


def _worked_sobel(example_id: str, rng: random.Random) -> dict[str, Any]:
    return _sobel_parts(rng, "horizontal", ("quiz.worked.sobel.prompt", {"id": example_id}))


def _worked_unpool(example_id: str, rng: random.Random) -> dict[str, Any]:
    ex = _example(example_id)
    x, values = np.array(ex["input"], float), np.array(ex["unpool_input"], float)
    kernel = ex["kernel_size"]
    pool_steps, indices, unpool_steps = _unpool_parts(x, values, kernel)
    solution: list[Text] = [
        ("quiz.step.pooled", {"pooled": _inline(pool_steps[-1].output), "indices": _inline(indices)}),
        *(
            (
                "quiz.step.unpool_put_from",
                {
                    "value": _num(u.value),
                    "in_row": u.in_row + 1,
                    "in_col": u.in_col + 1,
                    "row": u.out_row + 1,
                    "col": u.out_col + 1,
                },
            )
            for u in unpool_steps
        ),
    ]
    prompt = ("quiz.worked.unpool.prompt", {"id": example_id, "kernel": kernel, "stride": ex["stride"]})
    inputs = {"input": _matrix(x), "values": _matrix(values)}
    return _parts(prompt, _matrix(unpool_steps[-1].output), "matrix", solution, inputs=inputs)


def _worked_upsample(example_id: str, rng: random.Random) -> dict[str, Any]:
    x = np.array(_example(example_id)["input"], float)
    scale = 2
    out = upsample_nearest(x, (x.shape[0] * scale, x.shape[1] * scale))
    solution: list[Text] = [("quiz.step.nearest", {"scale": scale})]
    prompt = ("quiz.worked.upsample.prompt", {"id": example_id, "scale": scale})
    return _parts(prompt, _matrix(out), "matrix", solution, inputs={"input": _matrix(x)})


def _worked_transposed(example_id: str, rng: random.Random) -> dict[str, Any]:
    ex = _example(example_id)
    x, w = np.array(ex["input"], float), np.array(ex["kernel"], float)
    stride, padding = ex["stride"], ex["padding"]
    steps_ = transposed_conv2d_steps(x, w, stride=stride, padding=padding)
    out = steps_[-1].output
    size_values = {"size": x.shape[0], "kernel": w.shape[0], "stride": stride, "padding": padding, "output_padding": 0}
    solution: list[Text] = [("quiz.step.transposed_size.formula", {**size_values, "output": out.shape[0]})]
    for s in steps_:
        solution.append(
            (
                "quiz.step.transposed_scatter",
                {
                    "in_row": s.in_row + 1,
                    "in_col": s.in_col + 1,
                    "value": _num(s.value),
                    "top": s.top + 1,
                    "left": s.left + 1,
                    "copy": _inline(s.contribution),
                },
            )
        )
    solution.append(("quiz.step.transposed_total", {}))
    if "trap" in ex:  # W11: the slide's label says P = 1, its figure is the P = 0 result
        p1 = transposed_conv_output_size(x.shape[0], w.shape[0], stride, 1)
        solution.append(("quiz.step.transposed_trap", {"size": out.shape[0], "size_p1": p1}))
    values = {"id": example_id, "stride": stride, "padding": padding}
    inputs = {"input": _matrix(x), "kernel": _matrix(w)}
    return _parts(("quiz.worked.conv_transpose2d.prompt", values), _matrix(out), "matrix", solution, inputs=inputs)


def _worked_output_size(example_id: str, rng: random.Random) -> dict[str, Any]:
    kernel, stride, padding = 3, 2, 1  # W12's example: 1-D, S = 2, K = 3, P = 1, for an M_in the seed picks
    size = rng.randint(4, 20)
    e = explain_conv_output_size(size, kernel, stride, padding)
    values = {"id": example_id, "size": size, "kernel": kernel, "stride": stride, "padding": padding}
    return _parts(("quiz.worked.output_size.prompt", values), e.output, "int", _conv_size_steps(e), inputs={})


def _worked_bottleneck(example_id: str, rng: random.Random) -> dict[str, Any]:
    b = _bottleneck()
    ask = rng.choice(["direct", "bottleneck"])
    solution: list[Text] = [
        ("quiz.step.bottleneck_direct", {"params": b.direct_params}),
        (
            "quiz.step.bottleneck_reduced",
            {"reduce": b.reduce_params, "conv": b.conv_params, "params": b.bottleneck_params},
        ),
    ]
    answer = b.direct_params if ask == "direct" else b.bottleneck_params
    return _parts((f"quiz.worked.bottleneck.prompt.{ask}", {"id": example_id}), answer, "int", solution, inputs={})


@cache
def _bottleneck() -> BottleneckComparison:
    """W14: the notes' GoogLeNet numbers are bottleneck_comparison's defaults (counted once: ~50 ms)."""
    return bottleneck_comparison()


@cache
def _lenet() -> tuple[dict[str, LeNetRow], LeNet5]:
    """W15's table, counted from the layers, and the layers themselves (built once: ~10 ms each)."""
    return {row.layer: row for row in lenet5_table()}, LeNet5()


def _worked_lenet(example_id: str, rng: random.Random) -> dict[str, Any]:
    rows, model = _lenet()
    name = rng.choice(list(rows))
    row, layer = rows[name], getattr(model, name)
    if isinstance(layer, Subsampling):
        step = ("quiz.step.lenet.subsampling", {"maps": len(layer.bias), "parameters": row.parameters})
    elif hasattr(layer, "table"):  # C3's sparse connections
        fan_in = [len(inputs) for inputs in C3_TABLE]
        terms = " + ".join(f"{fan_in.count(n)}·({n}·{layer.kernel_size**2} + 1)" for n in sorted(set(fan_in)))
        full = conv_parameters(6, len(C3_TABLE), layer.kernel_size)
        step = ("quiz.step.lenet.sparse", {"terms": terms, "parameters": row.parameters, "full": full})
    elif hasattr(layer, "in_features"):
        values = {"inputs": layer.in_features, "outputs": layer.out_features}
        step = ("quiz.step.lenet.dense", {**values, "parameters": row.parameters})
    else:
        values = {"out_channels": layer.out_channels, "kernel": layer.kernel_size[0], "in_channels": layer.in_channels}
        step = ("quiz.step.lenet.conv", {**values, "parameters": row.parameters})
    values = {"id": example_id, "layer": name, "kernels": row.kernels, "output": row.output}
    return _parts(("quiz.worked.lenet.prompt", values), row.parameters, "int", [step], inputs={})


def _worked_alexnet_gap(example_id: str, rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.5:
        e = explain_conv_output_size(224, 11, 4, 2)
        solution = [*_conv_size_steps(e), ("quiz.step.alexnet_227", {"output": conv_output_size(227, 11, 4)})]
        prompt = (
            "quiz.worked.alexnet.prompt",
            {"id": example_id, "size": 224, "kernel": 11, "stride": 4, "padding": 2},
        )
        return _parts(prompt, e.output, "int", solution, inputs={})
    weights = dense_head_weights(7, 7, 1024, 1024, bias=False)
    solution = [("quiz.step.gap", {"weights": weights})]
    return _parts(("quiz.worked.gap.prompt", {"id": example_id}), weights, "int", solution, inputs={})


def _worked_dense_vs_conv(example_id: str, rng: random.Random) -> dict[str, Any]:
    hidden, ask = rng.randint(2, 20), rng.choice(["dense", "conv"])
    return _dense_vs_conv_parts(3, 2, hidden, 1, ask, "quiz.worked.dense_vs_conv.prompt", id=example_id)


def _worked_yolo(example_id: str, rng: random.Random) -> dict[str, Any]:
    grid, boxes, classes = 7, 2, 20  # the notes' YOLO v1 on PASCAL VOC
    shape = yolo_output_shape(grid, boxes, classes)
    values = {"grid": grid, "boxes": boxes, "classes": classes}
    solution: list[Text] = [("quiz.step.yolo", {**values, "depth": shape[-1]})]
    return _parts(("quiz.worked.yolo.prompt", {"id": example_id, **values}), shape, "shape", solution, inputs={})


WORKED: dict[str, Callable[[str, random.Random], dict[str, Any]]] = {
    "W1": _worked_conv,
    "W2": _worked_conv,
    "W3": _worked_conv,
    "W4": _worked_conv,
    "W5": _worked_max_pool,
    "W6": _worked_sobel,
    "W7": _worked_unpool,
    "W8": _worked_upsample,
    "W9": _worked_transposed,
    "W10": _worked_transposed,
    "W11": _worked_transposed,
    "W12": _worked_output_size,
    "W14": _worked_bottleneck,
    "W15": _worked_lenet,
    "W16": _worked_alexnet_gap,
    "W17": _worked_dense_vs_conv,
    "W18": _worked_yolo,
}


_Generator = Callable[[random.Random], dict[str, Any]]


def _error_reduction(rng: random.Random) -> dict[str, Any]:
    """The notes' (003) error reduction of a change (augmentation): (E_old − E_new) / E_old, in percent.

    E_old and the reduction are chosen so that the answer has one decimal, as the notes' 59.4 %.
    """
    from cnnlab.training import error_reduction  # imported here: the training engine is large

    old = rng.choice([0.1, 0.2, 0.25, 0.4, 0.5])
    new = round(old * (1 - rng.randrange(100, 900) / 1000), 6)
    reduction = round(100 * error_reduction(old, new), 6)
    shown = {"old": _num(old), "new": _num(new)}
    steps: list[Text] = [
        ("quiz.step.error_reduction", {**shown, "diff": _num(round(old - new, 6)), "reduction": _num(reduction)})
    ]
    prompt = ("quiz.training.error_reduction.prompt", shown)
    return _parts(prompt, reduction, "float", steps, inputs={}, tolerance=0.04)


def _training_steps(rng: random.Random) -> dict[str, Any]:
    """How many optimiser steps a training makes: ceil(pictures / batch) per epoch, times the epochs."""
    from cnnlab.training import BATCH, MAX_STEPS, steps_per_epoch

    pictures = rng.randrange(100, 3001, 50)
    per_epoch = steps_per_epoch(pictures)
    epochs = rng.randrange(2, max(2, min(30, MAX_STEPS // per_epoch)) + 1)  # within the page's cap on steps
    shown = {"pictures": pictures, "batch": BATCH, "epochs": epochs}
    steps: list[Text] = [("quiz.step.training_steps", {**shown, "per_epoch": per_epoch, "total": per_epoch * epochs})]
    return _parts(("quiz.training.steps.prompt", shown), per_epoch * epochs, "int", steps, inputs={})


GENERATORS: dict[str, dict[str, _Generator]] = {
    "convolution": {
        "output_size": _conv_output_size,
        "cell": _conv_cell,
        "receptive_field": _receptive_field,
        "parameters": _parameters,
        "dense_vs_conv": _dense_vs_conv,
    },
    "transposed_convolution": {"output_size": _transposed_output_size, "cell": _transposed_cell},
    "pooling": {
        "output_size": _pool_output_size,
        "max_cell": lambda rng: _pool_cell(rng, "max"),
        "avg_cell": lambda rng: _pool_cell(rng, "avg"),
        "unpool": _unpool,
    },
    "edges": {"sobel": _sobel},
    "activations": {"range": _activation_range},
    "detection": {"iou": _iou, "nms": _nms},
    "architectures": {
        "lenet": lambda rng: _worked_lenet("W15", rng),
        "bottleneck": _bottleneck_question,
        "gap": _gap_question,
        "yolo": _yolo_question,
    },
    "features": {"layer_shape": _layer_shape, "layer_parameters": _layer_parameters},
    "segmentation": {"unet_level": _unet_level, "transposed_output_size": _transposed_output_size},
    "instances": {"iou": _iou, "nms": _nms},
    "training": {"error_reduction": _error_reduction, "training_steps": _training_steps},
    "worked": {example_id: (lambda rng, e=example_id: WORKED[e](e, rng)) for example_id in WORKED},
}


WORKED_BY_LESSON = {  # the notes' worked examples each lesson page reproduces (README's lesson table)
    "convolution": ("W1", "W2", "W3", "W4", "W12", "W17"),
    "edges": ("W6",),
    "pooling": ("W5", "W7", "W8"),
    "transposed_convolution": ("W9", "W10", "W11"),
    "features": ("W16",),
    "architectures": ("W14", "W15", "W16", "W18"),
}


def worked_for(lesson: str) -> list[str]:
    """The worked examples (kinds of the 'worked' lesson) that belong to `lesson`'s page."""
    return list(WORKED_BY_LESSON.get(lesson, ()))


def lessons() -> dict[str, list[str]]:
    """lesson -> its question kinds. Lessons are named as their pages in lessons/ ('detection' for
    the object-detection lesson); 'worked' holds the notes' worked examples, one kind per example id."""
    return {lesson: list(kinds) for lesson, kinds in GENERATORS.items()}


def question(lesson: str, seed: int, kind: str | None = None) -> Question:
    """The question `seed` of a lesson; without `kind`, the seed picks the kind too."""
    if lesson not in GENERATORS:
        raise ValueError(f"unknown lesson {lesson!r}; known: {', '.join(GENERATORS)}")
    kinds = GENERATORS[lesson]
    if kind is None:
        kind = random.Random(f"{lesson}/{seed}").choice(list(kinds))
    if kind not in kinds:
        raise ValueError(f"unknown kind {kind!r} of lesson {lesson!r}; known: {', '.join(kinds)}")
    parts = kinds[kind](random.Random(f"{lesson}/{kind}/{seed}"))
    return Question(lesson=lesson, kind=kind, seed=seed, **parts)


_SHARED_KIND_NAMES = {  # kinds that several lessons ask in their own way: the label says which
    ("convolution", "output_size"): "conv_output_size",
    ("transposed_convolution", "output_size"): "transposed_output_size",
    ("pooling", "output_size"): "pool_output_size",
    ("convolution", "cell"): "conv_cell",
    ("transposed_convolution", "cell"): "transposed_cell",
}


def kind_label(lesson: str, kind: str) -> Text:
    """What a kind asks, for a menu: ('quiz.kind.unpool', {}); a worked example is its id ('W7')."""
    if lesson == "worked":
        return ("quiz.kind.worked", {"id": kind})
    return (f"quiz.kind.{_SHARED_KIND_NAMES.get((lesson, kind), kind)}", {})


def lesson_label(lesson: str) -> Text:
    """The lesson's name, for a menu: ('quiz.lesson.pooling', {})."""
    return (f"quiz.lesson.{lesson}", {})


def worked_question(example_id: str, seed: int = 0) -> Question:
    """A worked example of the notes ('W1') as a question; the seed matters only where the
    example leaves a number open (W12's M_in, W17's N) or has several parts."""
    return question("worked", seed, example_id)


def _number(value) -> float:
    """A number as typed: an int or float, or text ('3', ' 2.5 ', '2,5'). Anything else raises."""
    if isinstance(value, bool) or value is None:
        raise TypeError(value)
    if isinstance(value, str):
        value = value.strip().replace(" ", "").replace("\u00a0", "").replace("\u202f", "").replace(",", ".")
        value = value.replace("−", "-")
    return float(value)


# 576,000 · 576.000 · 576 000 · 576'000: digits in groups of three, one separator throughout
_GROUPED = re.compile(r"[-−]?\d{1,3}([,.'\s\u00a0\u202f])\d{3}(?:\1\d{3})*")


def _integer(value) -> int:
    """A whole number as typed; thousands separators of any language are allowed ('61,100,840')."""
    if isinstance(value, str) and _GROUPED.fullmatch(value.strip()):
        value = re.sub(r"[,.'\s\u00a0\u202f]", "", value.strip())
    number = _number(value)
    if not number.is_integer():
        raise ValueError(value)
    return int(number)


def _check_float(q: Question, answer) -> bool:
    return abs(_number(answer) - q.answer) <= q.tolerance + 1e-9


def _check_matrix(q: Question, answer) -> bool:
    if isinstance(answer, str):
        raise TypeError(answer)
    rows = [[_number(v) for v in row] for row in answer]
    given, expected = np.array(rows, dtype=np.float64), np.array(q.answer, dtype=np.float64)
    return given.shape == expected.shape and bool(np.all(np.abs(given - expected) <= q.tolerance + 1e-9))


def _check_indices(q: Question, answer) -> bool:
    if isinstance(answer, str):
        answer = answer.replace(",", " ").replace(";", " ").split()
    given = [_integer(v) for v in answer]
    return len(given) == len(set(given)) and sorted(given) == sorted(q.answer)


def _check_shape(q: Question, answer) -> bool:
    if isinstance(answer, str):
        answer = answer.lower().replace("×", "x").replace(",", "x").replace("*", "x").split("x")
    return tuple(_integer(v) for v in answer) == tuple(q.answer)


_CHECKS: dict[str, Callable[[Question, Any], bool]] = {
    "int": lambda q, a: _integer(a) == q.answer,
    "float": _check_float,
    "matrix": _check_matrix,
    "choice": lambda q, a: not isinstance(a, str) and _integer(a) == q.answer,
    "indices": _check_indices,
    "cell": lambda q, a: not isinstance(a, str) and len(a) == 2 and tuple(_integer(v) for v in a) == q.answer,
    "shape": _check_shape,
}


def check(q: Question, answer) -> bool:
    """Whether `answer`, as the student typed it, is right.

    int: an integer (3, 3.0 or '3'); float: a number within q.tolerance ('0.47' or '0,47');
    matrix: a list of rows (list of lists, or a 2-D array) of the right shape, each value within
    q.tolerance; choice: the 0-based index of the chosen item of q.choices; indices: the numbers
    (from 1) in any order, each once, or text such as '1, 3'; cell: (row, col) from 1; shape: a sequence of ints or text
    such as '7x7x30'. Anything that cannot be read as that is wrong, never an error.
    """
    try:
        return bool(_CHECKS[q.answer_type](q, answer))
    except (TypeError, ValueError, OverflowError):
        return False


def _parts_of(text: str) -> list[str]:
    """'1, 3' · '1 3' · '7 × 7 × 30' · '7x7x30' -> the numbers' texts (empty pieces dropped)."""
    for separator in (",", ";", "×", "x", "X", "*"):
        text = text.replace(separator, " ")
    return text.split()


def read_answer(q: Question, typed):
    """What a student typed, in the form check() takes, or LessonInputError with a catalog key when it
    cannot be read as an answer of q.answer_type (then it is neither right nor wrong: the page says why).

    int, float, indices, shape, matrix: text; choice: an index or None; cell: (row, col).
    """
    if typed is None or (isinstance(typed, str) and not typed.strip()):
        raise LessonInputError("quiz.error.choice" if q.answer_type == "choice" else "quiz.error.empty")
    if q.answer_type == "matrix":
        return parse_matrix(typed)
    if q.answer_type == "cell" and any(v is None for v in typed):  # a row or a column left empty
        raise LessonInputError("quiz.error.empty")
    if q.answer_type in ("choice", "cell"):
        return typed
    text = str(typed).strip()
    shown = Verbatim(text)
    if q.answer_type == "int" and _GROUPED.fullmatch(text):  # 536,875,008: no decimal number has two commas
        return _integer(text)
    if q.answer_type in ("int", "float"):
        try:
            value = _number(text)
        except (TypeError, ValueError):
            raise LessonInputError("quiz.error.number", value=shown) from None
        if not math.isfinite(value):
            raise LessonInputError("quiz.error.number", value=shown)
        if q.answer_type == "int":
            if not value.is_integer():
                raise LessonInputError("quiz.error.whole", value=shown)
            return int(value)
        return value
    try:
        numbers = tuple(_integer(part) for part in _parts_of(text))
    except (TypeError, ValueError):
        numbers = ()
    if not numbers:
        raise LessonInputError(f"quiz.error.{q.answer_type}", value=shown)
    return numbers
