import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.presets import conv_presets, transposed_presets, worked_examples
from cnnlab.steps import (
    conv2d_steps,
    multichannel_conv2d_steps,
    transposed_conv2d_steps,
    transposed_conv_as_conv,
)


def t(a):
    return torch.as_tensor(np.asarray(a), dtype=torch.float64)[None, None]


def torch_conv(x, w, **kw):
    return F.conv2d(t(x), t(w), **kw)[0, 0].numpy()


def torch_tconv(x, w, **kw):
    return F.conv_transpose2d(t(x), t(w), **kw)[0, 0].numpy()


@pytest.mark.parametrize("preset", conv_presets().values(), ids=lambda p: p.id)
def test_conv_presets_reproduce_the_notes(preset):
    out = conv2d_steps(preset.input, preset.kernel, stride=preset.stride, padding=preset.padding)[-1].output
    np.testing.assert_array_equal(out, preset.expected)
    np.testing.assert_array_equal(
        out, torch_conv(preset.input, preset.kernel, stride=preset.stride, padding=preset.padding)
    )


def test_w1_first_step_is_the_notes_sum():
    w1 = conv_presets()["W1"]
    first = conv2d_steps(w1.input, w1.kernel)[0]
    assert first.value == 9
    assert first.expression() == "3·0 + 3·1 + 5·0 + 3·-1 + 4·2 + 0·-1 + 5·0 + 1·1 + 2·0 = 9"
    assert first.filled.sum() == 1


@pytest.mark.parametrize("preset", transposed_presets().values(), ids=lambda p: p.id)
def test_transposed_presets_reproduce_the_notes(preset):
    steps = transposed_conv2d_steps(preset.input, preset.kernel, stride=preset.stride, padding=preset.padding)
    np.testing.assert_array_equal(steps[-1].output, preset.expected)
    ref = torch_tconv(preset.input, preset.kernel, stride=preset.stride, padding=preset.padding)
    np.testing.assert_array_equal(steps[-1].output, ref)
    direct = transposed_conv_as_conv(preset.input, preset.kernel, stride=preset.stride, padding=preset.padding)
    np.testing.assert_array_equal(direct.output, preset.expected)


def test_w10_is_the_sum_of_four_weighted_kernels():
    w10 = transposed_presets()["W10"]
    contributions = [s.contribution.tolist() for s in transposed_conv2d_steps(w10.input, w10.kernel)]
    assert contributions == [[[0, 0], [0, 0]], [[0, 1], [2, 3]], [[0, 2], [4, 6]], [[0, 3], [6, 9]]]


def test_w9_direct_convolution_matches_the_notes_figure():
    w9 = transposed_presets()["W9"]
    direct = transposed_conv_as_conv(w9.input, w9.kernel)
    assert direct.flipped.tolist() == [[1, 2, 0], [0, 1, 0], [2, 0, 1]]
    assert direct.padded.shape == (6, 6) and direct.conv_padding == 2
    assert direct.padded[2:4, 2:4].tolist() == worked_examples()["W9"]["input"]
    assert direct.border.sum() == 32 and not direct.inserted.any()


def test_stride_2_inserts_zeros_between_cells():
    direct = transposed_conv_as_conv([[1, 2], [3, 4]], np.ones((2, 2)), stride=2)
    assert direct.dilated.tolist() == [[1, 0, 2], [0, 0, 0], [3, 0, 4]]
    assert direct.inserted.sum() == 5


rng = np.random.default_rng(0)
RANDOM_CONV = [
    (
        int(rng.integers(1, 9)),
        int(rng.integers(1, 9)),
        int(rng.integers(1, 4)),
        int(rng.integers(1, 4)),
        int(rng.integers(1, 4)),
        int(rng.integers(0, 3)),
        int(rng.integers(1, 3)),
        float(rng.normal()),
    )
    for _ in range(60)
]


@pytest.mark.parametrize("h,w,kh,kw,stride,padding,dilation,bias", RANDOM_CONV)
def test_random_conv_traces_match_torch(h, w, kh, kw, stride, padding, dilation, bias):
    x, k = rng.normal(size=(h, w)), rng.normal(size=(kh, kw))
    try:
        ref = F.conv2d(
            t(x),
            t(k),
            bias=torch.tensor([bias], dtype=torch.float64),
            stride=stride,
            padding=padding,
            dilation=dilation,
        )[0, 0].numpy()
    except RuntimeError:
        with pytest.raises(ValueError):
            conv2d_steps(x, k, stride=stride, padding=padding, dilation=dilation, bias=bias)
        return
    steps = conv2d_steps(x, k, stride=stride, padding=padding, dilation=dilation, bias=bias)
    assert len(steps) == ref.size
    np.testing.assert_allclose(steps[-1].output, ref, rtol=1e-12, atol=1e-12)
    assert steps[-1].filled.all()


RANDOM_TCONV = [
    (
        int(rng.integers(1, 6)),
        int(rng.integers(1, 6)),
        int(rng.integers(1, 5)),
        int(rng.integers(1, 4)),
        int(rng.integers(0, 3)),
        int(rng.integers(0, 2)),
    )
    for _ in range(60)
]


@pytest.mark.parametrize("h,w,k,stride,padding,output_padding", RANDOM_TCONV)
def test_random_transposed_traces_and_direct_view_match_torch(h, w, k, stride, padding, output_padding):
    x, kernel = rng.normal(size=(h, w)), rng.normal(size=(k, k))
    try:
        ref = torch_tconv(x, kernel, stride=stride, padding=padding, output_padding=output_padding)
        assert ref.size > 0
    except (RuntimeError, AssertionError):
        with pytest.raises(ValueError):
            transposed_conv2d_steps(x, kernel, stride=stride, padding=padding, output_padding=output_padding)
        return
    steps = transposed_conv2d_steps(x, kernel, stride=stride, padding=padding, output_padding=output_padding)
    assert len(steps) == h * w
    np.testing.assert_allclose(steps[-1].output, ref, rtol=1e-12, atol=1e-12)
    direct = transposed_conv_as_conv(x, kernel, stride=stride, padding=padding, output_padding=output_padding)
    np.testing.assert_allclose(direct.output, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "none"])
def test_rgb_convolution_with_bias_and_activation_matches_torch(activation):
    x, k = rng.normal(size=(3, 5, 6)), rng.normal(size=(3, 3, 3))
    steps = multichannel_conv2d_steps(x, k, bias=0.5, stride=1, padding=1, activation=activation)
    pre = F.conv2d(
        torch.tensor(x)[None], torch.tensor(k)[None], bias=torch.tensor([0.5], dtype=torch.float64), padding=1
    )[0, 0]
    ref = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "none": lambda v: v}[activation](pre)
    np.testing.assert_allclose(steps[-1].output, ref.numpy(), rtol=1e-12, atol=1e-12)
    first = steps[0]
    assert first.pre_activation == pytest.approx(sum(first.channel_sums) + 0.5)


@pytest.mark.parametrize(
    "x,k,kw,message",
    [
        (np.ones((2, 2)), np.ones((3, 3)), {}, "larger than the padded input"),
        (np.ones((4, 4)), np.ones((3, 3)), {"stride": 0}, "(?i)stride"),
        (np.ones((4, 4)), np.ones((3, 3)), {"padding": -1}, "(?i)padding"),
        (np.ones((4, 4)), [[1, np.nan]], {}, "finite"),
        (np.ones(4), np.ones((3, 3)), {}, "2-D"),
    ],
)
def test_bad_conv_input_gives_clear_errors(x, k, kw, message):
    with pytest.raises(ValueError, match=message):
        conv2d_steps(x, k, **kw)


def test_bad_multichannel_shapes_raise():
    with pytest.raises(ValueError, match="channel"):
        multichannel_conv2d_steps(np.ones((3, 4, 4)), np.ones((1, 3, 3)))
