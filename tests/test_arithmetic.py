import itertools

import pytest
import torch

from cnnlab.arithmetic import (
    Layer,
    conv_output_size,
    dense_vs_conv_weights,
    explain_conv_output_size,
    input_features,
    layers_from_rows,
    pool_output_size,
    receptive_field,
    same_padding,
    transposed_conv_output_size,
)


def torch_len(layer: torch.nn.Module, size: int) -> int | None:
    try:
        return layer(torch.zeros(1, 1, 1, size)).shape[-1]
    except RuntimeError:
        return None


@pytest.mark.parametrize(
    "size,kernel,stride,padding,dilation",
    [c for c in itertools.product([1, 2, 5, 7, 10], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2])],
)
def test_conv_output_size_matches_torch(size, kernel, stride, padding, dilation):
    conv = torch.nn.Conv2d(1, 1, (1, kernel), stride=(1, stride), padding=(0, padding), dilation=(1, dilation))
    expected = torch_len(conv, size)
    if expected is None:
        with pytest.raises(ValueError):
            conv_output_size(size, kernel, stride, padding, dilation)
    else:
        assert conv_output_size(size, kernel, stride, padding, dilation) == expected


@pytest.mark.parametrize(
    "size,kernel,stride,padding,output_padding,dilation",
    [c for c in itertools.product([1, 2, 4], [1, 2, 3], [1, 2, 3], [0, 1, 2], [0, 1, 2], [1, 2])],
)
def test_transposed_output_size_matches_torch(size, kernel, stride, padding, output_padding, dilation):
    try:
        layer = torch.nn.ConvTranspose2d(
            1,
            1,
            (1, kernel),
            stride=(1, stride),
            padding=(0, padding),
            output_padding=(0, output_padding),
            dilation=(1, dilation),
        )
        expected = torch_len(layer, size)
    except (RuntimeError, ValueError):
        expected = None
    if expected is None or expected < 1:
        with pytest.raises(ValueError):
            transposed_conv_output_size(size, kernel, stride, padding, output_padding, dilation)
    else:
        assert transposed_conv_output_size(size, kernel, stride, padding, output_padding, dilation) == expected


@pytest.mark.parametrize(
    "size,kernel,stride,padding,dilation,ceil_mode",
    [c for c in itertools.product([1, 3, 4, 5, 7, 8], [1, 2, 3], [None, 1, 2, 3], [0, 1], [1, 2], [False, True])],
)
def test_pool_output_size_matches_torch(size, kernel, stride, padding, dilation, ceil_mode):
    try:
        pool = torch.nn.MaxPool2d(
            (1, kernel), stride=(1, stride or kernel), padding=(0, padding), dilation=(1, dilation), ceil_mode=ceil_mode
        )
        expected = torch_len(pool, size)
    except (RuntimeError, ValueError):
        expected = None
    if expected is None or expected < 1:
        with pytest.raises(ValueError):
            pool_output_size(size, kernel, stride, padding, dilation, ceil_mode)
    else:
        assert pool_output_size(size, kernel, stride, padding, dilation, ceil_mode) == expected


@pytest.mark.parametrize("bad", [dict(stride=0), dict(kernel=0), dict(padding=-1), dict(kernel=9), dict(size=0)])
def test_impossible_conv_parameters_raise_clear_errors(bad):
    args = dict(size=5, kernel=3, stride=1, padding=0) | bad
    with pytest.raises(ValueError, match=r"must be|larger than"):
        conv_output_size(**args)


def test_inexact_division_is_reported():
    # The notes' 1-D example S=2, K=3, P=1 with an even input: (6 - 3 + 2) / 2 is not whole.
    e = explain_conv_output_size(6, 3, stride=2, padding=1)
    assert (e.numerator, e.remainder, e.output, e.exact) == (5, 1, 3, False)
    assert explain_conv_output_size(7, 3, stride=2, padding=1).exact


def test_same_padding_keeps_size_for_odd_kernels():
    for k in (1, 3, 5, 7):
        assert conv_output_size(10, k, 1, same_padding(k)) == 10


def test_transposed_output_padding_must_be_smaller_than_stride():
    with pytest.raises(ValueError, match="output_padding"):
        transposed_conv_output_size(2, 3, stride=1, output_padding=1)


def test_receptive_field_three_3x3_equals_one_7x7_with_fewer_weights():
    c = 64
    three = receptive_field([Layer(f"conv{i}", 3, out_channels=c, bias=False) for i in range(3)], in_channels=c)
    one = receptive_field([Layer("conv", 7, out_channels=c, bias=False)], in_channels=c)
    assert [r.receptive_field for r in three] == [3, 5, 7]
    assert one[0].receptive_field == 7
    assert sum(r.parameters for r in three) == 27 * c * c
    assert one[0].parameters == 49 * c * c == sum(p.numel() for p in torch.nn.Conv2d(c, c, 7, bias=False).parameters())


def test_receptive_field_with_strides_and_pooling():
    rows = receptive_field([Layer("conv", 3), Layer("pool", 2, stride=2), Layer("conv", 3)])
    assert [(r.receptive_field, r.jump) for r in rows] == [(3, 1), (4, 2), (8, 2)]


@pytest.mark.parametrize("n", [1, 7, 100])
def test_w17_dense_vs_conv_weights(n):
    w = dense_vs_conv_weights(image=3, kernel=2, hidden=n)
    assert w.dense_weights == 10 * n
    assert w.conv_then_dense_weights == 5 * n + 4
    assert dense_vs_conv_weights(image=1, kernel=1, hidden=1, channels=3).image_pixels == 3
    assert input_features(1280, 720, 3) == 2_764_800  # an HD frame, as in the notes


def torch_stack(layers, in_channels):
    modules, channels = [], in_channels
    for layer in layers:
        if layer.out_channels is None:
            modules.append(torch.nn.MaxPool2d(layer.kernel, layer.stride, layer.padding, layer.dilation))
        else:
            modules.append(
                torch.nn.Conv2d(channels, layer.out_channels, layer.kernel, layer.stride, layer.padding, layer.dilation)
            )
            channels = layer.out_channels
    return torch.nn.Sequential(*modules)


def test_layer_stack_sizes_and_parameters_match_torch():
    rows = [
        {"kind": "conv", "kernel": 5, "stride": 2, "padding": 2, "dilation": 1, "channels": 16},
        {"kind": "pool", "kernel": 3, "stride": 2, "padding": 1, "dilation": 1, "channels": None},
        {"kind": "conv", "kernel": 3, "stride": 1, "padding": 2, "dilation": 2, "channels": 32},
    ]
    layers = layers_from_rows(rows)
    assert [layer.name for layer in layers] == ["conv1 5×5", "pool1 3×3", "conv2 3×3"]
    table = receptive_field(layers, in_channels=3, input_size=37)
    net = torch_stack(layers, 3)
    x = torch.zeros(1, 3, 37, 37)
    for row, module in zip(table, net, strict=True):
        x = module(x)
        assert (row.output_size, row.channels) == (x.shape[-1], x.shape[1])
        assert row.parameters == sum(p.numel() for p in module.parameters())
    assert [r.receptive_field for r in table] == [5, 9, 25]


def test_empty_cell_in_a_layer_table_is_named():
    with pytest.raises(ValueError, match="Row 1: Stride S is empty"):
        layers_from_rows([{"kind": "conv", "kernel": 3, "stride": None, "padding": 0, "dilation": 1, "channels": 8}])
