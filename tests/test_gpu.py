"""The CUDA paths give what the CPU gives. Skipped where there is no CUDA GPU; run them on one."""

import numpy as np
import pytest
import torch
from PIL import Image

from cnnlab.device import best_device
from cnnlab.features import feature_maps
from cnnlab.filters import filter_image
from cnnlab.segmentation import detect, segment
from cnnlab.shapes import draw_scene

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")

SCENE = Image.fromarray(draw_scene(12, 256, (3, 5)).image)


def test_cuda_is_the_best_device_and_filters_as_the_cpu_does():
    assert best_device().type == "cuda"
    gray = np.asarray(SCENE.convert("L"), dtype=np.float32) / 255
    kernel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
    out, device = filter_image(gray, kernel)
    padded = np.pad(gray, 1, mode="reflect")
    expected = torch.nn.functional.conv2d(torch.from_numpy(padded)[None, None], torch.from_numpy(kernel)[None, None])
    assert device == "cuda"
    np.testing.assert_allclose(out, expected[0, 0].numpy(), atol=1e-5)


def test_feature_maps_on_cuda_match_the_cpu():
    cpu, cuda = (feature_maps("lab.shapes", SCENE, device=d) for d in ("cpu", "cuda"))
    assert cpu.keys() == cuda.keys()
    for name in cpu:
        torch.testing.assert_close(cuda[name], cpu[name], rtol=1e-3, atol=1e-3)


def test_lab_unet_on_cuda_matches_the_cpu():
    cpu, cuda = segment(SCENE, "lab.unet", "cpu"), segment(SCENE, "lab.unet", "cuda")
    assert cuda.device == "cuda"
    assert (cpu.classes == cuda.classes).mean() > 0.999


def test_lab_mask_rcnn_on_cuda_matches_the_cpu():
    cpu, cuda = detect(SCENE, "lab.maskrcnn", device="cpu"), detect(SCENE, "lab.maskrcnn", device="cuda")
    assert cuda.device == "cuda"
    assert [i.label for i in cuda.instances] == [i.label for i in cpu.instances]
    for a, b in zip(cpu.instances, cuda.instances, strict=True):
        assert (a.mask & b.mask).sum() / (a.mask | b.mask).sum() > 0.98
