"""Step-by-step traces of convolution and transposed convolution.

Each trace is the list of frames an animation shows. The arithmetic is plain NumPy
loops, written to be read; tests prove that the last frame equals torch's result.
All arrays are 2-D (H, W) unless a docstring says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlab.activations import FUNCTIONS as ACTIVATIONS
from cnnlab.activations import activate_scalar
from cnnlab.arithmetic import conv_output_size, pool_output_size, transposed_conv_output_size
from cnnlab.errors import LessonInputError


def _as_matrix(a, name: str) -> np.ndarray:
    m = np.asarray(a, dtype=np.float64)
    if m.ndim != 2 or 0 in m.shape:
        raise LessonInputError("error.not_matrix", name=f"param.{name}", shape=str(m.shape))
    if not np.isfinite(m).all():
        raise LessonInputError("error.not_finite", name=f"param.{name}")
    return m


MAX_STEPS = 1024  # a step-through longer than this teaches nothing more and costs memory per frame


def _check_steps(count: int) -> None:
    if count > MAX_STEPS:
        raise LessonInputError("error.too_many_steps", count=count, max=MAX_STEPS)


def pad2d(x: np.ndarray, padding: int) -> np.ndarray:
    """Zero padding on all four sides: (H, W) -> (H + 2P, W + 2P)."""
    return np.pad(x, padding) if padding else x.copy()


@dataclass(frozen=True)
class ConvStep:
    """One output cell of a convolution.

    cells: (row, col) on the padded input, one per kernel weight, in kernel order.
    products: (input value, weight) pairs added to give `value`.
    output: (H_out, W_out), the cells computed so far (the rest are 0); filled marks them.
    """

    index: int
    out_row: int
    out_col: int
    cells: tuple[tuple[int, int], ...]
    products: tuple[tuple[float, float], ...]
    bias: float
    value: float
    output: np.ndarray
    filled: np.ndarray

    def expression(self, max_terms: int | None = None) -> str:
        """The multiply-add as written on the board, e.g. '3·0 + 3·1 + … = 9'.

        With max_terms, a longer sum shows its first and last few products around '…'.
        """
        products = [f"{fmt(x)}·{fmt(w)}" for x, w in self.products]
        if max_terms is not None and len(products) > max_terms:
            head, tail = max_terms - max_terms // 3, max_terms // 3
            products = [*products[:head], f"… ({len(products) - head - tail})", *products[len(products) - tail :]]
        terms = " + ".join(products)
        if self.bias:
            terms += f" + {fmt(self.bias)}"
        return f"{terms} = {fmt(self.value)}"


def fmt(v: float) -> str:
    """A number as a lecturer writes it: 3, -1.5, 0.333."""
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.3g}"


def conv2d_steps(x, w, *, stride: int = 1, padding: int = 0, dilation: int = 1, bias: float = 0.0) -> list[ConvStep]:
    """Frames of the cross-correlation torch.nn.functional.conv2d computes, row by row.

    x: (H, W) input, w: (K_h, K_w) kernel. The last frame's output is the
    (H_out, W_out) result with H_out = floor((H + 2P - D(K_h - 1) - 1) / S) + 1.
    """
    x, w = _as_matrix(x, "input_matrix"), _as_matrix(w, "kernel_matrix")
    out_h = conv_output_size(x.shape[0], w.shape[0], stride, padding, dilation)
    out_w = conv_output_size(x.shape[1], w.shape[1], stride, padding, dilation)
    _check_steps(out_h * out_w)
    xp = pad2d(x, padding)
    output, filled = np.zeros((out_h, out_w)), np.zeros((out_h, out_w), dtype=bool)
    steps = []
    for i in range(out_h):
        for j in range(out_w):
            cells = tuple(
                (i * stride + m * dilation, j * stride + n * dilation)
                for m in range(w.shape[0])
                for n in range(w.shape[1])
            )
            products = tuple(
                (float(xp[r, c]), float(w[m, n])) for (r, c), (m, n) in zip(cells, np.ndindex(w.shape), strict=True)
            )
            value = sum(a * b for a, b in products) + bias
            output[i, j], filled[i, j] = value, True
            steps.append(ConvStep(len(steps), i, j, cells, products, float(bias), value, output.copy(), filled.copy()))
    return steps


@dataclass(frozen=True)
class ChannelConvStep:
    """One output cell of a multi-channel convolution followed by an activation.

    channel_sums[c] is the multiply-add over channel c's window; pre_activation adds the
    bias; value is the activation of it. output: (H_out, W_out) activated map so far.
    """

    index: int
    out_row: int
    out_col: int
    cells: tuple[tuple[int, int], ...]
    channel_products: tuple[tuple[tuple[float, float], ...], ...]
    channel_sums: tuple[float, ...]
    bias: float
    pre_activation: float
    value: float
    output: np.ndarray
    filled: np.ndarray


def multichannel_conv2d_steps(
    x, w, *, bias: float = 0.0, stride: int = 1, padding: int = 0, activation: str = "relu"
) -> list[ChannelConvStep]:
    """One filter over a (C, H, W) input with a (C, K, K) kernel, + bias, then an activation.

    Equals activation(F.conv2d(x[None], w[None], bias=[bias], stride, padding))[0, 0].
    """
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    if x.ndim != 3 or w.ndim != 3 or x.shape[0] != w.shape[0]:
        raise LessonInputError("error.channels", input=str(x.shape), kernel=str(w.shape))
    if activation not in ACTIVATIONS:
        raise LessonInputError("error.activation", name=activation, known=", ".join(ACTIVATIONS))
    per_channel = [conv2d_steps(xc, wc, stride=stride, padding=padding) for xc, wc in zip(x, w, strict=True)]
    first = per_channel[0]
    output, filled = np.zeros(first[-1].output.shape), np.zeros(first[-1].output.shape, dtype=bool)
    steps = []
    for k, step in enumerate(first):
        sums = tuple(channel[k].value for channel in per_channel)
        pre = sum(sums) + bias
        value = activate_scalar(activation, pre)
        output[step.out_row, step.out_col], filled[step.out_row, step.out_col] = value, True
        steps.append(
            ChannelConvStep(
                k,
                step.out_row,
                step.out_col,
                step.cells,
                tuple(channel[k].products for channel in per_channel),
                sums,
                float(bias),
                pre,
                value,
                output.copy(),
                filled.copy(),
            )
        )
    return steps


@dataclass(frozen=True)
class TransposedConvStep:
    """One input cell painting a weighted copy of the kernel into the output.

    canvas: the uncropped ((I-1)·S + K + output_padding)² sum so far; the copy of this
    step sits at rows top..top+K-1, cols left..left+K-1 of it. output: the canvas with
    P cropped from every side, i.e. the (O_h, O_w) result so far.
    """

    index: int
    in_row: int
    in_col: int
    value: float
    contribution: np.ndarray  # (K_h, K_w) = value · kernel
    top: int
    left: int
    canvas: np.ndarray
    output: np.ndarray


def transposed_conv2d_steps(
    x, w, *, stride: int = 1, padding: int = 0, output_padding: int = 0
) -> list[TransposedConvStep]:
    """Frames of torch.nn.functional.conv_transpose2d, one per input cell (scatter view).

    x: (H, W), w: (K_h, K_w); the last frame's output has
    O = (I - 1)·S + K - 2P + output_padding along each axis.
    """
    x, w = _as_matrix(x, "input_matrix"), _as_matrix(w, "kernel_matrix")
    out_h = transposed_conv_output_size(x.shape[0], w.shape[0], stride, padding, output_padding)
    out_w = transposed_conv_output_size(x.shape[1], w.shape[1], stride, padding, output_padding)
    _check_steps(x.size)
    canvas = np.zeros((out_h + 2 * padding, out_w + 2 * padding))
    steps = []
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            top, left = i * stride, j * stride
            contribution = x[i, j] * w
            canvas[top : top + w.shape[0], left : left + w.shape[1]] += contribution
            output = canvas[padding : padding + out_h, padding : padding + out_w].copy()
            steps.append(
                TransposedConvStep(len(steps), i, j, float(x[i, j]), contribution, top, left, canvas.copy(), output)
            )
    return steps


@dataclass(frozen=True)
class TransposedAsConv:
    """The direct convolution that equals a transposed one.

    dilated: input with S - 1 zeros inserted between cells, (S(I-1)+1)²;
    padded: dilated with K - 1 - P zeros around (P' below) and output_padding more on the
    bottom/right; flipped: the kernel mirrored on both axes; output: conv2d(padded, flipped).
    inserted / border: boolean masks of padded marking inserted zeros and border zeros.
    """

    dilated: np.ndarray
    padded: np.ndarray
    inserted: np.ndarray
    border: np.ndarray
    flipped: np.ndarray
    conv_padding: int
    output: np.ndarray


def transposed_conv_as_conv(x, w, *, stride: int = 1, padding: int = 0, output_padding: int = 0) -> TransposedAsConv:
    """Transposed convolution rewritten as insert zeros -> pad K-1-P -> convolve with the flipped kernel."""
    x, w = _as_matrix(x, "input_matrix"), _as_matrix(w, "kernel_matrix")
    if w.shape[0] != w.shape[1]:
        raise LessonInputError("error.square_kernel")
    transposed_conv_output_size(x.shape[0], w.shape[0], stride, padding, output_padding)  # validates
    k = w.shape[0]
    dilated = np.zeros((stride * (x.shape[0] - 1) + 1, stride * (x.shape[1] - 1) + 1))
    dilated[::stride, ::stride] = x
    is_input = np.zeros(dilated.shape, dtype=bool)
    is_input[::stride, ::stride] = True
    conv_padding = k - 1 - padding
    # Padding larger than K - 1 means cropping the dilated input instead of padding it.
    grow = max(conv_padding, 0)
    padded = np.pad(dilated, ((grow, grow + output_padding), (grow, grow + output_padding)))
    in_dilated = np.pad(
        np.ones(dilated.shape, dtype=bool), ((grow, grow + output_padding), (grow, grow + output_padding))
    )
    input_mask = np.pad(is_input, ((grow, grow + output_padding), (grow, grow + output_padding)))
    if conv_padding < 0:
        crop = -conv_padding
        sl = (slice(crop, padded.shape[0] - crop), slice(crop, padded.shape[1] - crop))
        padded, in_dilated, input_mask = padded[sl], in_dilated[sl], input_mask[sl]
    flipped = w[::-1, ::-1].copy()
    windows = np.lib.stride_tricks.sliding_window_view(padded, flipped.shape)  # (H_out, W_out, K, K)
    output = np.einsum("ijkl,kl->ij", windows, flipped)
    return TransposedAsConv(dilated, padded, in_dilated & ~input_mask, ~in_dilated, flipped, conv_padding, output)


@dataclass(frozen=True)
class PoolStep:
    """One output cell of a pooling layer.

    cells: (row, col) of the window on the padded input; value: the max or the mean.
    source: for max pooling, the padded-input cell the max came from (first one on ties,
    as torch does), else None. output: (H_out, W_out) so far; filled marks computed cells.
    """

    index: int
    out_row: int
    out_col: int
    cells: tuple[tuple[int, int], ...]
    value: float
    source: tuple[int, int] | None
    output: np.ndarray
    filled: np.ndarray


def _pool_steps(x, kernel_size: int, stride: int | None, padding: int, mode: str) -> list[PoolStep]:
    x = _as_matrix(x, "input_matrix")
    stride = kernel_size if stride is None else stride
    out_h = pool_output_size(x.shape[0], kernel_size, stride, padding)
    out_w = pool_output_size(x.shape[1], kernel_size, stride, padding)
    _check_steps(out_h * out_w)
    # torch pads max pooling with -inf (padding never wins) and average pooling with zeros.
    xp = np.pad(x, padding, constant_values=-np.inf if mode == "max" else 0.0)
    output, filled = np.zeros((out_h, out_w)), np.zeros((out_h, out_w), dtype=bool)
    steps = []
    for i in range(out_h):
        for j in range(out_w):
            cells = tuple((i * stride + m, j * stride + n) for m in range(kernel_size) for n in range(kernel_size))
            values = [xp[r, c] for r, c in cells]
            if mode == "max":
                best = max(range(len(values)), key=lambda k: (values[k], -k))  # first maximum on ties
                value, source = float(values[best]), cells[best]
            else:
                value, source = float(sum(values) / len(values)), None
            output[i, j], filled[i, j] = value, True
            steps.append(PoolStep(len(steps), i, j, cells, value, source, output.copy(), filled.copy()))
    return steps


def max_pool2d_steps(x, kernel_size: int, *, stride: int | None = None, padding: int = 0) -> list[PoolStep]:
    """Frames of torch.nn.functional.max_pool2d on an (H, W) input; each records where its max came from."""
    return _pool_steps(x, kernel_size, stride, padding, "max")


def avg_pool2d_steps(x, kernel_size: int, *, stride: int | None = None, padding: int = 0) -> list[PoolStep]:
    """Frames of torch.nn.functional.avg_pool2d (zero padding counted, torch's default) on an (H, W) input."""
    return _pool_steps(x, kernel_size, stride, padding, "avg")


def max_pool_indices(steps: list[PoolStep], width: int, padding: int = 0) -> np.ndarray:
    """torch's return_indices: for each output cell, the flat index r·W + c of its max in the unpadded input."""
    indices = np.zeros(steps[-1].output.shape, dtype=np.int64)
    for step in steps:
        r, c = step.source
        indices[step.out_row, step.out_col] = (r - padding) * width + (c - padding)
    return indices


def max_unpool2d(
    values, indices, kernel_size: int, *, stride: int | None = None, output_size: tuple[int, int] | None = None
) -> np.ndarray:
    """torch.nn.functional.max_unpool2d: each value goes back to the flat index its max came from.

    values, indices: (H, W); output: (H_out, W_out), default ((H-1)·S + K, (W-1)·S + K), zeros elsewhere.
    """
    values = _as_matrix(values, "input_matrix")
    indices = np.asarray(indices, dtype=np.int64)
    if indices.shape != values.shape:
        raise LessonInputError("error.unpool_shape", values=str(values.shape), indices=str(indices.shape))
    stride = kernel_size if stride is None else stride
    if output_size is None:
        output_size = tuple((n - 1) * stride + kernel_size for n in values.shape)
    out = np.zeros(output_size)
    if indices.size and (indices.min() < 0 or indices.max() >= out.size):
        raise LessonInputError("error.unpool_index", count=out.size)
    out.flat[indices.ravel()] = values.ravel()
    return out


@dataclass(frozen=True)
class UnpoolStep:
    """One pooled value put back where its maximum came from.

    in_row, in_col: the cell of the pooled values; out_row, out_col: where it goes (from its
    flat index); output: the (H_out, W_out) result so far, zeros elsewhere.
    """

    index: int
    in_row: int
    in_col: int
    value: float
    flat_index: int
    out_row: int
    out_col: int
    output: np.ndarray


def max_unpool2d_steps(
    values, indices, kernel_size: int, *, stride: int | None = None, output_size: tuple[int, int] | None = None
) -> list[UnpoolStep]:
    """Frames of torch.nn.functional.max_unpool2d, one per pooled value; the last output equals max_unpool2d."""
    final = max_unpool2d(values, indices, kernel_size, stride=stride, output_size=output_size)  # validates
    values, indices = np.asarray(values, dtype=np.float64), np.asarray(indices, dtype=np.int64)
    _check_steps(values.size)
    output = np.zeros(final.shape)
    steps = []
    for (i, j), value in np.ndenumerate(values):
        r, c = divmod(int(indices[i, j]), final.shape[1])
        output[r, c] = value
        steps.append(UnpoolStep(len(steps), i, j, float(value), int(indices[i, j]), r, c, output.copy()))
    return steps
