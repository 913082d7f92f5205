import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.activations import FUNCTIONS, RANGES, activate, curve
from cnnlab.filters import KERNELS, filter_image, pool_image, sobel
from cnnlab.presets import worked_examples
from cnnlab.steps import conv2d_steps

rng = np.random.default_rng(2)


def test_w6_sobel_and_its_transpose():
    w6 = np.array(worked_examples()["W6"]["kernel"], dtype=float)
    np.testing.assert_array_equal(KERNELS["sobel_y"], w6)
    np.testing.assert_array_equal(KERNELS["sobel_x"], w6.T)


def test_w4_detector_is_prewitt_x():
    w4 = worked_examples()["W4"]
    np.testing.assert_array_equal(KERNELS["prewitt_x"], w4["kernel"])
    np.testing.assert_array_equal(conv2d_steps(w4["input"], KERNELS["prewitt_x"])[-1].output, w4["expected"])


@pytest.mark.parametrize("name", list(KERNELS))
def test_filter_matches_torch_conv2d_with_reflect_padding(name):
    gray = rng.random((9, 13))
    out, device = filter_image(gray, KERNELS[name])
    x = F.pad(torch.tensor(gray)[None, None], (1, 1, 1, 1), mode="reflect")
    ref = F.conv2d(x, torch.tensor(KERNELS[name])[None, None])[0, 0].numpy()
    np.testing.assert_allclose(out, ref, atol=1e-5)
    assert out.shape == gray.shape and device in ("cpu", "cuda", "mps")


def test_sobel_finds_a_vertical_step_and_no_horizontal_edge():
    gray = np.zeros((10, 10))
    gray[:, 5:] = 1.0  # dark left, bright right
    result = sobel(gray)
    assert np.abs(result.gy).max() < 1e-6
    assert set(np.argmax(result.magnitude, axis=1)) <= {4, 5}
    assert result.magnitude.max() == pytest.approx(4.0)
    # W6's transpose gives a negative response for dark-to-bright (left-to-right): direction 180°.
    assert result.gx[5, 4] == pytest.approx(-4.0) and result.direction[5, 4] == pytest.approx(180.0)


def test_box_blur_keeps_a_flat_image():
    out, _ = filter_image(np.full((6, 6), 0.25), KERNELS["box_blur"])
    np.testing.assert_allclose(out, 0.25, atol=1e-6)


def test_even_kernel_is_refused():
    with pytest.raises(ValueError, match="odd"):
        filter_image(np.zeros((5, 5)), np.ones((2, 2)))


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_image_matches_torch(mode):
    gray = rng.random((20, 17))
    out, _ = pool_image(gray, 4, mode)
    fn = F.max_pool2d if mode == "max" else F.avg_pool2d
    np.testing.assert_allclose(out, fn(torch.tensor(gray)[None, None], 4)[0, 0].numpy(), atol=1e-6)
    assert out.shape == (5, 4)


ANALYTIC_DERIVATIVES = {
    "relu": lambda x: (x > 0).astype(float),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)) * (1 - 1 / (1 + np.exp(-x))),
    "tanh": lambda x: 1 - np.tanh(x) ** 2,
    "leaky_relu": lambda x: np.where(x > 0, 1.0, 0.1),
    "silu": lambda x: 1 / (1 + np.exp(-x)) * (1 + x * (1 - 1 / (1 + np.exp(-x)))),
}


@pytest.mark.parametrize("name", list(ANALYTIC_DERIVATIVES))
def test_derivatives_match_formulas(name):
    x = np.linspace(-5, 5, 101) + 0.013  # avoid ReLU's kink at exactly 0
    _, dy = curve(name, x)
    np.testing.assert_allclose(dy, ANALYTIC_DERIVATIVES[name](x), atol=1e-9)


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if n != "none"])
def test_stated_ranges_hold(name):
    y = activate(name, np.linspace(-30, 30, 60001))
    r = RANGES[name]
    assert y.min() >= r.low - 1e-3 and y.max() <= r.high + 1e-9
    if np.isfinite(r.low):
        assert y.min() == pytest.approx(r.low, abs=2e-3)
    if np.isfinite(r.high):
        assert y.max() == pytest.approx(r.high, abs=1e-6)


def test_tanh_ranges_over_minus_one_to_one_not_zero_to_one():
    assert activate("tanh", [-10.0])[0] == pytest.approx(-1.0)
    assert (RANGES["tanh"].low, RANGES["tanh"].high) == (-1.0, 1.0)
