import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.arithmetic import dense_head_weights
from cnnlab.presets import worked_examples
from cnnlab.steps import avg_pool2d_steps, max_pool2d_steps, max_pool_indices, max_unpool2d
from cnnlab.upsampling import upsample_bilinear, upsample_nearest

rng = np.random.default_rng(1)


def t(a):
    return torch.as_tensor(np.asarray(a), dtype=torch.float64)[None, None]


def test_w5_max_pool():
    w5 = worked_examples()["W5"]
    steps = max_pool2d_steps(w5["input"], w5["kernel_size"], stride=w5["stride"])
    np.testing.assert_array_equal(steps[-1].output, w5["expected"])


def test_w7_pool_then_unpool():
    w7 = worked_examples()["W7"]
    steps = max_pool2d_steps(w7["input"], 2, stride=2)
    np.testing.assert_array_equal(steps[-1].output, w7["expected_pool"])
    indices = max_pool_indices(steps, width=4)
    _, torch_indices = F.max_pool2d(t(w7["input"]), 2, return_indices=True)
    np.testing.assert_array_equal(indices, torch_indices[0, 0].numpy())
    unpooled = max_unpool2d(w7["unpool_input"], indices, 2)
    np.testing.assert_array_equal(unpooled, w7["expected_unpool"])


def test_w8_nearest_upsampling():
    w8 = worked_examples()["W8"]
    np.testing.assert_array_equal(upsample_nearest(w8["input"], (4, 4)), w8["expected"])


CASES = [
    (
        int(rng.integers(1, 10)),
        int(rng.integers(1, 10)),
        int(rng.integers(1, 4)),
        int(rng.integers(1, 4)),
        int(rng.integers(0, 2)),
    )
    for _ in range(60)
]


@pytest.mark.parametrize("h,w,k,s,p", CASES)
def test_random_pooling_matches_torch(h, w, k, s, p):
    x = rng.normal(size=(h, w))
    x[0, 0] = x[0, -1]  # a tie, to check which maximum wins
    try:
        ref_max, ref_idx = F.max_pool2d(t(x), k, s, p, return_indices=True)
        ref_avg = F.avg_pool2d(t(x), k, s, p)
    except RuntimeError:
        with pytest.raises(ValueError):
            max_pool2d_steps(x, k, stride=s, padding=p)
        return
    steps = max_pool2d_steps(x, k, stride=s, padding=p)
    np.testing.assert_array_equal(steps[-1].output, ref_max[0, 0].numpy())
    np.testing.assert_array_equal(max_pool_indices(steps, w, p), ref_idx[0, 0].numpy())
    np.testing.assert_allclose(
        avg_pool2d_steps(x, k, stride=s, padding=p)[-1].output, ref_avg[0, 0].numpy(), rtol=1e-12
    )
    unpooled = max_unpool2d(steps[-1].output, max_pool_indices(steps, w, p), k, stride=s, output_size=(h, w))
    ref_unpool = F.max_unpool2d(ref_max, ref_idx, k, s, p, output_size=(h, w))
    np.testing.assert_array_equal(unpooled, ref_unpool[0, 0].numpy())


@pytest.mark.parametrize("h,w,oh,ow", [(2, 2, 4, 4), (3, 5, 7, 11), (4, 4, 4, 4), (1, 3, 5, 6), (5, 4, 12, 9)])
def test_upsampling_matches_interpolate(h, w, oh, ow):
    x = rng.normal(size=(h, w))
    np.testing.assert_array_equal(upsample_nearest(x, (oh, ow)), F.interpolate(t(x), size=(oh, ow))[0, 0].numpy())
    for align in (False, True):
        ref = F.interpolate(t(x), size=(oh, ow), mode="bilinear", align_corners=align)[0, 0].numpy()
        np.testing.assert_allclose(upsample_bilinear(x, (oh, ow), align), ref, rtol=1e-12, atol=1e-12)


def test_unpool_rejects_bad_indices():
    with pytest.raises(ValueError, match="outside"):
        max_unpool2d([[1.0]], [[9]], 2)
    with pytest.raises(ValueError, match="same shape"):
        max_unpool2d([[1.0, 2.0]], [[0]], 2)


def test_w16_global_average_pooling_saves_51_3m_weights():
    fc = torch.nn.Linear(7 * 7 * 1024, 1024, bias=False)
    assert dense_head_weights(7, 7, 1024, 1024, bias=False) == fc.weight.numel() == 51_380_224
