"""Size and weight-count arithmetic of convolution, transposed convolution and pooling.

Every function follows the torch layer it names (Conv2d, ConvTranspose2d, MaxPool2d)
and raises LessonInputError (a ValueError), with a sentence a student can read, where torch would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnlab.errors import LessonInputError


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if int(value) != value or value < 1:
            raise LessonInputError("error.at_least_1", name=f"param.{name}", value=value)


def _check_non_negative(**values: int) -> None:
    for name, value in values.items():
        if int(value) != value or value < 0:
            raise LessonInputError("error.at_least_0", name=f"param.{name}", value=value)


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """Span of a dilated kernel: dilation * (kernel - 1) + 1."""
    return dilation * (kernel - 1) + 1


@dataclass(frozen=True)
class OutputSize:
    """M_out = floor((M_in + 2P - D(K-1) - 1) / S) + 1, with its pieces kept for display.

    numerator = M_in + 2P - K_eff (the notes' M_in - K + 2P when D = 1); remainder > 0
    means the division is not exact and the last `remainder` rows/columns of the
    padded input are never covered by a window.
    """

    size: int
    kernel: int
    stride: int
    padding: int
    dilation: int
    numerator: int
    remainder: int
    output: int

    @property
    def exact(self) -> bool:
        return self.remainder == 0


def explain_conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> OutputSize:
    """The pieces of the output-size formula of Conv2d along one axis."""
    _check_positive(size=size, kernel=kernel, stride=stride, dilation=dilation)
    _check_non_negative(padding=padding)
    span = effective_kernel(kernel, dilation)
    padded = size + 2 * padding
    if span > padded:
        raise LessonInputError("error.kernel_too_large", span=span, size=size, padding=padding, padded=padded)
    numerator = padded - span
    return OutputSize(size, kernel, stride, padding, dilation, numerator, numerator % stride, numerator // stride + 1)


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of torch.nn.Conv2d along one axis (floor division)."""
    return explain_conv_output_size(size, kernel, stride, padding, dilation).output


def same_padding(kernel: int, dilation: int = 1) -> int:
    """The notes' 'same' padding P = floor(K_eff / 2); keeps the size exactly for odd kernels at S = 1."""
    _check_positive(kernel=kernel, dilation=dilation)
    return effective_kernel(kernel, dilation) // 2


def transposed_conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> int:
    """Output length of torch.nn.ConvTranspose2d: (I - 1)·S - 2P + D(K - 1) + output_padding + 1."""
    _check_positive(size=size, kernel=kernel, stride=stride, dilation=dilation)
    _check_non_negative(padding=padding, output_padding=output_padding)
    if output_padding >= stride and output_padding >= dilation:
        raise LessonInputError("error.output_padding", output_padding=output_padding, stride=stride, dilation=dilation)
    out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if out < 1:
        raise LessonInputError("error.cropped_away", padding=padding, out=out)
    return out


def pool_output_size(
    size: int,
    kernel: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length of torch.nn.MaxPool2d along one axis (stride defaults to the kernel).

    With ceil_mode the last window may start in the padding on the right, but torch drops
    it when it would start there entirely; padding may be at most half the kernel.
    """
    stride = kernel if stride is None else stride
    _check_positive(size=size, kernel=kernel, stride=stride, dilation=dilation)
    _check_non_negative(padding=padding)
    if padding > kernel // 2:
        raise LessonInputError("error.pool_padding", padding=padding, kernel=kernel, half=kernel // 2)
    numerator = size + 2 * padding - effective_kernel(kernel, dilation) + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    if out < 1:
        raise LessonInputError("error.pool_too_large", kernel=kernel, padded=size + 2 * padding)
    return out


@dataclass(frozen=True)
class Layer:
    """One layer of a stack, for receptive-field and parameter arithmetic (square kernels)."""

    name: str
    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    out_channels: int | None = None  # None for pooling: channels pass through
    bias: bool = True


@dataclass(frozen=True)
class ReceptiveFieldRow:
    name: str
    receptive_field: int  # input pixels seen by one output unit of this layer, per axis
    jump: int  # distance, in input pixels, between neighbouring units of this layer
    parameters: int
    output_size: int | None = None  # per axis, when the input size is given
    channels: int | None = None  # channels after this layer


def conv_parameters(in_channels: int, out_channels: int, kernel: int, bias: bool = True) -> int:
    """Weights of a Conv2d: K·K·C_in·C_out (+ C_out biases)."""
    return kernel * kernel * in_channels * out_channels + (out_channels if bias else 0)


def receptive_field(
    layers: list[Layer], in_channels: int = 1, input_size: int | None = None
) -> list[ReceptiveFieldRow]:
    """Receptive field and jump after each layer: r += (K_eff - 1)·j, then j *= S.

    With input_size, also the map size after each layer (conv: Conv2d's rule; pool
    layers, out_channels None: MaxPool2d's rule).
    """
    rows, rf, jump, channels, size = [], 1, 1, in_channels, input_size
    for layer in layers:
        _check_positive(kernel=layer.kernel, stride=layer.stride, dilation=layer.dilation)
        rf += (effective_kernel(layer.kernel, layer.dilation) - 1) * jump
        jump *= layer.stride
        params = 0
        if layer.out_channels is not None:
            _check_positive(channels=layer.out_channels)
            params = conv_parameters(channels, layer.out_channels, layer.kernel, layer.bias)
            channels = layer.out_channels
            if size is not None:
                size = conv_output_size(size, layer.kernel, layer.stride, layer.padding, layer.dilation)
        elif size is not None:
            size = pool_output_size(size, layer.kernel, layer.stride, layer.padding, layer.dilation)
        rows.append(ReceptiveFieldRow(layer.name, rf, jump, params, size, channels))
    return rows


@dataclass(frozen=True)
class DenseVsConvWeights:
    """W17: weights of a dense layer on a flattened image vs a shared kernel first."""

    image_pixels: int
    kernel_weights: int
    conv_outputs: int
    dense_weights: int  # pixels·N + N
    conv_then_dense_weights: int  # kernel + outputs·N + N


def dense_vs_conv_weights(image: int, kernel: int, hidden: int, channels: int = 1) -> DenseVsConvWeights:
    """Weights for a (image × image × channels) input feeding `hidden` units, with and without a conv first.

    The notes' example (image 3, kernel 2): 10N against 5N + 4.
    """
    _check_positive(image=image, kernel=kernel, hidden=hidden, channels=channels)
    pixels = image * image * channels
    outputs = conv_output_size(image, kernel) ** 2
    kernel_weights = kernel * kernel * channels
    return DenseVsConvWeights(
        pixels, kernel_weights, outputs, pixels * hidden + hidden, kernel_weights + outputs * hidden + hidden
    )


def measured_conv_output_shape(
    height: int, width: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> tuple[int, int]:
    """(H_out, W_out) of a real torch.nn.Conv2d: the live check beside the formula.

    It runs on the meta device: torch's own shape rules, no memory and no arithmetic, so a
    4096 × 4096 input with a 64 × 64 kernel costs microseconds instead of minutes.
    """
    import torch

    with torch.device("meta"):
        conv = torch.nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation, bias=False)
        out = conv(torch.zeros(1, 1, height, width))
    return tuple(out.shape[-2:])


def input_features(width: int, height: int, channels: int = 3) -> int:
    """Numbers a dense layer sees in a flattened image: an HD frame has 1280·720·3 = 2,764,800."""
    return width * height * channels


# The layer-stack table's bounds, checked here as well as in the browser: a table's rows can be
# sent to the server with any values, and 16 layers of stride 16 would make a jump of 2^64.
LAYER_LIMITS = {"kernel": (1, 31), "stride": (1, 16), "padding": (0, 15), "dilation": (1, 8), "channels": (1, 4096)}
MAX_LAYERS = 12


def layers_from_rows(rows: list[dict]) -> list[Layer]:
    """Layers from table rows {kind: 'conv'|'pool', kernel, stride, padding, dilation, channels}.

    Layers are named conv1, conv2, pool1, ... in order; a missing number, an unknown kind, a value
    outside LAYER_LIMITS or more than MAX_LAYERS rows is an error with a message.
    """
    if len(rows) > MAX_LAYERS:
        raise LessonInputError("error.too_many_layers", count=len(rows), max=MAX_LAYERS)
    layers, counts = [], {"conv": 0, "pool": 0}
    for row in rows:
        kind = row.get("kind") or "conv"
        if kind not in counts:
            raise LessonInputError("error.layer_kind", row=len(layers) + 1, kinds="conv, pool")
        values = {}
        for field in ("kernel", "stride", "padding", "dilation") + (("channels",) if kind == "conv" else ()):
            value = row.get(field)
            if value is None or value != value:  # None or NaN: an empty cell
                raise LessonInputError("error.missing_value", name=f"param.{field}", row=len(layers) + 1)
            low, high = LAYER_LIMITS[field]
            if not isinstance(value, int | float) or not low <= value <= high or value != int(value):
                raise LessonInputError(
                    "error.layer_value", name=f"param.{field}", row=len(layers) + 1, low=low, high=high
                )
            values[field] = int(value)
        counts[kind] += 1
        layers.append(
            Layer(
                f"{kind}{counts[kind]} {values['kernel']}×{values['kernel']}",
                values["kernel"],
                values["stride"],
                values["padding"],
                values["dilation"],
                values.get("channels"),
            )
        )
    return layers


def dense_head_weights(height: int, width: int, channels: int, outputs: int, bias: bool = True) -> int:
    """Weights of a dense layer on a flattened (channels, height, width) map; global average
    pooling in its place has none (W16: 7·7·1024 -> 1024 is 51,380,224, the notes' "51.3M")."""
    return height * width * channels * outputs + (outputs if bias else 0)
