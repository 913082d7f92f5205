"""U-Net (Ronneberger et al. 2015) with padded convolutions, so that the output has the input's size.

A contracting path (two 3 × 3 convolutions, then 2 × 2 max pooling, channels doubling), an
expanding path (2 × 2 transposed convolution with stride 2, channels halving, concatenation
with the skip from the same level, two 3 × 3 convolutions) and a 1 × 1 convolution to classes.
Batch normalisation after each convolution, as most modern U-Nets use.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


def double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    """(B, in, H, W) -> (B, out, H, W): two 3 × 3 convolutions with padding 1, each + BN + ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """(B, in_channels, H, W) -> (B, num_classes, H, W) logits; H and W must be multiples of 2**depth.

    depth: number of poolings; width: channels at the first level (the paper: depth 4, width 64).
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 2, depth: int = 4, width: int = 64) -> None:
        super().__init__()
        self.depth = depth
        channels = [width * 2**level for level in range(depth + 1)]
        self.down = nn.ModuleList(
            [double_conv(in_channels, channels[0])]
            + [double_conv(channels[level - 1], channels[level]) for level in range(1, depth + 1)]
        )
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(channels[level + 1], channels[level], 2, stride=2) for level in reversed(range(depth))
        )
        self.merge = nn.ModuleList(
            double_conv(2 * channels[level], channels[level]) for level in reversed(range(depth))
        )
        self.head = nn.Conv2d(channels[0], num_classes, 1)

    @property
    def multiple(self) -> int:
        return 2**self.depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for level, block in enumerate(self.down):
            x = block(x if level == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()  # the bottom of the U
        for up, merge in zip(self.up, self.merge, strict=True):
            x = merge(torch.cat([skips.pop(), up(x)], dim=1))
        return self.head(x)


@dataclass(frozen=True)
class LevelShape:
    stage: str  # 'down', 'bottom', 'up' or 'output'
    level: int  # 0 = full resolution; the bottom is level `depth`
    shape: tuple[int, ...]  # (C, H, W) after the stage
    skip_joins: bool = False  # for 'up': the output of 'down' at the same level is concatenated in


def level_shapes(model: UNet, height: int, width: int) -> list[LevelShape]:
    """The tensor shape after every stage for one (3, height, width) input, and where skips join.

    Runs on the meta device: no memory, no compute.
    """
    in_channels, width_0 = model.down[0][0].in_channels, model.down[0][0].out_channels
    with torch.device("meta"):
        x = torch.zeros(1, in_channels, height, width)
        meta_model = UNet(in_channels, model.head.out_channels, model.depth, width_0)
    rows, skips = [], []
    for level, block in enumerate(meta_model.down):
        x = block(x if level == 0 else meta_model.pool(x))
        skips.append(x)
        rows.append(LevelShape("bottom" if level == model.depth else "down", level, tuple(x.shape[1:])))
    skips.pop()
    for k, (up, merge) in enumerate(zip(meta_model.up, meta_model.merge, strict=True)):
        x = merge(torch.cat([skips.pop(), up(x)], dim=1))
        rows.append(LevelShape("up", model.depth - 1 - k, tuple(x.shape[1:]), skip_joins=True))
    rows.append(LevelShape("output", 0, tuple(meta_model.head(x).shape[1:])))
    return rows
