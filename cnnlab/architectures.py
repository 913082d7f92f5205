"""Classic architectures built as real torch layers, so that the notes' tables come from the models.

LeNet-5 with its sparse S2 -> C3 connection table (W15), GoogLeNet's 1 × 1 bottleneck (W14)
and the YOLO output tensor (W18).
Parameters are counted from module.parameters(); operations from torch.utils.flop_counter.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

# LeCun et al. 1998, table I: which S2 maps (rows) feed each C3 map (columns 0..15).
C3_TABLE = (
    (0, 1, 2),
    (1, 2, 3),
    (2, 3, 4),
    (3, 4, 5),
    (0, 4, 5),
    (0, 1, 5),
    (0, 1, 2, 3),
    (1, 2, 3, 4),
    (2, 3, 4, 5),
    (0, 3, 4, 5),
    (0, 1, 4, 5),
    (0, 1, 2, 5),
    (0, 1, 3, 4),
    (1, 2, 4, 5),
    (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


class Subsampling(nn.Module):
    """LeNet's S layers: the sum of each 2 × 2 block times a trained coefficient, plus a bias, per map.

    (B, C, H, W) -> (B, C, H/2, W/2); 2 parameters per map.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.coefficient = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.kernel_size = 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block_sum = nn.functional.avg_pool2d(x, 2) * 4
        return block_sum * self.coefficient[:, None, None] + self.bias[:, None, None]


class SparseConv(nn.Module):
    """C3: one 5 × 5 convolution per output map, reading only the input maps the table names.

    (B, 6, 14, 14) -> (B, 16, 10, 10).
    """

    def __init__(self, table: tuple[tuple[int, ...], ...] = C3_TABLE, kernel: int = 5) -> None:
        super().__init__()
        self.table = table
        self.kernel_size = kernel
        self.maps = nn.ModuleList(nn.Conv2d(len(inputs), 1, kernel) for inputs in table)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([conv(x[:, list(inputs)]) for conv, inputs in zip(self.maps, self.table, strict=True)], 1)


class LeNet5(nn.Module):
    """LeNet-5 for (B, 1, 32, 32) digits -> (B, 10) scores; tanh-like squashing as in the paper."""

    def __init__(self) -> None:
        super().__init__()
        self.C1 = nn.Conv2d(1, 6, 5)
        self.S2 = Subsampling(6)
        self.C3 = SparseConv()
        self.S4 = Subsampling(16)
        self.C5 = nn.Conv2d(16, 120, 5)
        self.F6 = nn.Linear(120, 84)
        self.OUTPUT = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in (self.C1, self.S2, self.C3, self.S4, self.C5):
            x = torch.tanh(layer(x))
        return self.OUTPUT(torch.tanh(self.F6(torch.flatten(x, 1))))


@dataclass(frozen=True)
class LeNetRow:
    layer: str
    kernels: str  # '6 5x5', '2x2', '84'
    output: str  # '6x28x28'
    connections: int  # input -> output links, biases included, over every output unit
    parameters: int


def _fan_in(layer: nn.Module) -> list[int]:
    """Inputs (bias included) of one unit of each output map."""
    if isinstance(layer, nn.Conv2d):
        return [layer.in_channels * layer.kernel_size[0] * layer.kernel_size[1] + 1] * layer.out_channels
    if isinstance(layer, SparseConv):
        return [len(inputs) * layer.kernel_size**2 + 1 for inputs in layer.table]
    if isinstance(layer, Subsampling):
        return [layer.kernel_size**2 + 1] * len(layer.bias)
    return [layer.in_features + 1] * layer.out_features  # nn.Linear: every output is one 'map' of 1 × 1


def lenet5_table() -> list[LeNetRow]:
    """The W15 table of LeNet-5 (C1 .. F6) for a 32 × 32 input, counted from the layers themselves."""
    model = LeNet5()
    x = torch.zeros(1, 1, 32, 32)
    rows = []
    with torch.inference_mode():
        for name in ("C1", "S2", "C3", "S4", "C5", "F6"):
            layer = getattr(model, name)
            if isinstance(layer, nn.Linear):
                x = torch.flatten(x, 1)
            x = layer(x)
            c, h, w = (*x.shape[1:], 1, 1)[:3]
            positions = h * w
            if isinstance(layer, nn.Linear):
                kernels = str(layer.out_features)
            elif isinstance(layer, Subsampling):
                kernels = f"{layer.kernel_size}x{layer.kernel_size}"
            else:
                k = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
                kernels = f"{c} {k}x{k}"
            rows.append(
                LeNetRow(
                    name,
                    kernels,
                    f"{c}x{h}x{w}",
                    positions * sum(_fan_in(layer)),
                    sum(p.numel() for p in layer.parameters()),
                )
            )
    return rows


def _count(module: nn.Module, x: torch.Tensor) -> tuple[int, int, torch.Tensor]:
    """(weights, multiply-adds, output) of one forward pass; flop_counter counts a multiply-add as 2."""
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        y = module(x)
    return sum(p.numel() for p in module.parameters()), counter.get_total_flops() // 2, y


@dataclass(frozen=True)
class BottleneckComparison:
    direct_params: int
    direct_ops: int
    reduce_params: int  # the 1 × 1 layer
    reduce_ops: int
    conv_params: int  # the 5 × 5 layer after it
    conv_ops: int
    output_shape: tuple[int, ...]

    @property
    def bottleneck_params(self) -> int:
        return self.reduce_params + self.conv_params

    @property
    def bottleneck_ops(self) -> int:
        return self.reduce_ops + self.conv_ops


def bottleneck_comparison(
    size: int = 14, channels: int = 480, out_channels: int = 48, reduced: int = 16, kernel: int = 5
) -> BottleneckComparison:
    """W14: a K × K convolution straight on (channels, size, size) vs a 1 × 1 reduction first.

    Layers without bias, as in the notes' count; operations are multiplications.
    """
    with torch.device("meta"):
        x = torch.zeros(1, channels, size, size)
        direct = nn.Conv2d(channels, out_channels, kernel, padding=kernel // 2, bias=False)
        reduce = nn.Conv2d(channels, reduced, 1, bias=False)
        conv = nn.Conv2d(reduced, out_channels, kernel, padding=kernel // 2, bias=False)
        direct_params, direct_ops, y = _count(direct, x)
        reduce_params, reduce_ops, r = _count(reduce, x)
        conv_params, conv_ops, z = _count(conv, r)
    assert y.shape == z.shape
    return BottleneckComparison(
        direct_params, direct_ops, reduce_params, reduce_ops, conv_params, conv_ops, tuple(y.shape[1:])
    )


def yolo_output_shape(grid: int = 7, boxes: int = 2, classes: int = 20, features: int = 4096) -> tuple[int, int, int]:
    """W18: the shape of YOLO v1's output, from its last dense layer reshaped to S × S × (5B + C)."""
    per_cell = 5 * boxes + classes  # x, y, w, h, confidence per box, then class probabilities
    with torch.device("meta"):
        head = nn.Linear(features, grid * grid * per_cell)
        out = head(torch.zeros(1, features)).view(1, grid, grid, per_cell)
    return tuple(out.shape[1:])
