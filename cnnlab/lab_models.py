"""Small models this project trains itself on generated data (cnnlab.shapes), shipped in assets/models."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from cnnlab.shapes import CLASSES

MODELS_DIR = Path(__file__).resolve().parent.parent / "assets" / "models"
SHAPES_CLASSIFIER_FILE = MODELS_DIR / "lab_shapes_classifier.safetensors"
SHAPES_INPUT_SIZE = 64


def _conv(in_channels: int, out_channels: int, kernel: int) -> list[nn.Module]:
    """Convolution ('same' padding), batch normalisation, ReLU: the VGG-BN block."""
    return [
        nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]


class ShapesNet(nn.Module):
    """A 4-layer CNN laid out like torchvision's AlexNet/VGG: features -> avgpool -> classifier.

    Input (B, 3, H, W) in [0, 1] (trained at 64 × 64); output (B, 4) logits over CLASSES.
    Batch normalisation after each convolution; global average pooling instead of a dense
    head keeps it at about 240k weights.
    """

    def __init__(self, num_classes: int = len(CLASSES)) -> None:
        super().__init__()
        self.features = nn.Sequential(
            *_conv(3, 32, 5),
            nn.MaxPool2d(2),
            *_conv(32, 64, 3),
            nn.MaxPool2d(2),
            *_conv(64, 128, 3),
            nn.MaxPool2d(2),
            *_conv(128, 128, 3),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(128, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))
