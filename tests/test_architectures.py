"""The notes' architecture numbers (W14, W15, W16, W18), counted from real torch layers."""

import dataclasses

import torch

from cnnlab.architectures import (
    C3_TABLE,
    LeNet5,
    bottleneck_comparison,
    lenet5_table,
    yolo_output_shape,
)
from cnnlab.arithmetic import conv_output_size
from cnnlab.features import architecture_table
from cnnlab.presets import worked_examples


def test_lenet5_table_is_w15_exactly():
    rows = [list(dataclasses.astuple(row)) for row in lenet5_table()]
    assert rows == worked_examples()["W15"]["rows"]


def test_lenet5_runs_and_c3_reads_only_its_table():
    model = LeNet5()
    assert model(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
    x = torch.zeros(1, 6, 14, 14)
    x[:, 5] = torch.randn(14, 14)  # only S2 map 5 changes
    base = model.C3(torch.zeros(1, 6, 14, 14))
    changed = (model.C3(x) - base).abs().sum(dim=(0, 2, 3)) > 0
    assert changed.tolist() == [5 in inputs for inputs in C3_TABLE]


def test_googlenet_bottleneck_is_w14():
    b = bottleneck_comparison()
    assert b.direct_params == 5 * 5 * 48 * 480 == 576_000
    assert b.bottleneck_params == 1 * 1 * 16 * 480 + 5 * 5 * 48 * 16 == 26_880
    assert b.direct_ops == (14 * 14 * 48) * (5 * 5 * 480) and round(b.direct_ops / 1e6, 1) == 112.9
    assert round(b.reduce_ops / 1e6, 1) == 1.5 and round(b.conv_ops / 1e6, 1) == 3.8
    assert round(b.bottleneck_ops / 1e6, 1) == 5.3
    assert b.output_shape == (48, 14, 14)


def test_yolo_output_w18():
    assert yolo_output_shape() == (7, 7, 30)
    assert yolo_output_shape(grid=13, boxes=5, classes=80) == (13, 13, 105)


def totals(name):
    rows = architecture_table(name)
    return sum(r.parameters for r in rows), rows


def test_parameter_counts_w16():
    alexnet, rows = totals("alexnet.imagenet")
    assert alexnet == 61_100_840 and round(alexnet / 1e6) == 61  # the notes round to 60M
    assert rows[0].output_shape == (64, 55, 55) and (rows[0].kernel, rows[0].stride, rows[0].padding) == (
        "11",
        "4",
        "2",
    )
    assert totals("vgg16.imagenet")[0] == 138_357_544
    assert round(totals("vgg19.imagenet")[0] / 1e6, 1) == 143.7
    # 224 + 2·2 padding and the original unpadded 227 both give 55
    assert conv_output_size(224, 11, 4, 2) == conv_output_size(227, 11, 4, 0) == 55


def test_architecture_table_flops_and_shapes_match_torch():
    _, rows = totals("vgg16.imagenet")
    convs = [r for r in rows if r.kind == "conv"]
    assert len(convs) == 13 and convs[0].output_shape == (64, 224, 224)
    assert convs[0].flops == 2 * 224 * 224 * 64 * 3 * 3 * 3
    assert rows[-1].output_shape == (1000,)
