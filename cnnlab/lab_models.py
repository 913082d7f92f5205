"""Small models this project trains itself on generated data (cnnlab.shapes), shipped in assets/models."""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.assets import ASSETS
from cnnlab.shapes import CLASSES

MODELS_DIR = ASSETS / "models"
SHAPES_CLASSIFIER_FILE = MODELS_DIR / "lab_shapes_classifier.safetensors"
SHAPES_INPUT_SIZE = 64
UNET_FILE = MODELS_DIR / "lab_shapes_unet.safetensors"
UNET_CONFIG = {"in_channels": 3, "num_classes": 1 + len(CLASSES), "depth": 3, "width": 16}
UNET_TRAIN_SIZE = 64  # scenes are drawn at 64 × 64; segment() works at about this scale


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


MASK_RCNN_FILE = MODELS_DIR / "lab_shapes_maskrcnn.safetensors"
MASK_RCNN_SIZE = 128  # pictures are resized to this side (torchvision's min_size = max_size)


def _small_backbone() -> nn.Sequential:
    """(B, 3, H, W) -> (B, 128, H/4, W/4); dilated last layers widen the view to about 60 pixels."""
    layers = []
    for in_channels, out_channels, stride, dilation in [
        (3, 32, 1, 1),
        (32, 32, 2, 1),
        (32, 64, 1, 1),
        (64, 64, 2, 1),
        (64, 128, 1, 1),
        (128, 128, 1, 2),
        (128, 128, 1, 4),
    ]:
        layers += [
            nn.Conv2d(in_channels, out_channels, 3, stride, padding=dilation, dilation=dilation, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        ]
    backbone = nn.Sequential(*layers)
    backbone.out_channels = 128  # what torchvision's detection heads read
    return backbone


def lab_mask_rcnn() -> nn.Module:
    """torchvision's MaskRCNN on a small backbone (one feature map at stride 4) for the 4 shape classes.

    Input: a list of (3, H, W) tensors in [0, 1]; output in eval mode: one dict per image with
    boxes (N, 4) xyxy, labels (N,) in 1..4 (0 is background), scores (N,), masks (N, 1, H, W) in [0, 1].
    """
    from torchvision.models.detection import MaskRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
    from torchvision.ops import MultiScaleRoIAlign

    return MaskRCNN(
        _small_backbone(),
        min_size=MASK_RCNN_SIZE,
        max_size=MASK_RCNN_SIZE,
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.25, 0.25, 0.25],
        rpn_anchor_generator=AnchorGenerator(sizes=((12, 24, 48, 96),), aspect_ratios=((0.5, 1.0, 2.0),)),
        rpn_pre_nms_top_n_train=600,
        rpn_post_nms_top_n_train=300,
        rpn_pre_nms_top_n_test=300,
        rpn_post_nms_top_n_test=100,
        box_roi_pool=MultiScaleRoIAlign(["0"], output_size=7, sampling_ratio=2),
        box_head=TwoMLPHead(128 * 7 * 7, 256),
        box_predictor=FastRCNNPredictor(256, 1 + len(CLASSES)),
        box_batch_size_per_image=128,
        box_detections_per_img=20,
        mask_roi_pool=MultiScaleRoIAlign(["0"], output_size=14, sampling_ratio=2),
        mask_head=MaskRCNNHeads(128, [128, 128, 128], 1),
        mask_predictor=MaskRCNNPredictor(128, 128, 1 + len(CLASSES)),
    )
