"""Feature maps, filters, top classes and Grad-CAM against torch's own computations."""

import copy
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.models.feature_extraction import create_feature_extractor

from cnnlab.features import (
    channels_by_mean,
    feature_layers,
    feature_maps,
    first_layer_filters_rgb,
    grad_cam,
    kernels_for_input_channel,
    mosaic,
    top_classes,
)
from cnnlab.models import get_model
from cnnlab.shapes import draw_scene
from tests.checkpoints import torch_home, write_checkpoint


def shape_image(seed: int, size: int = 160) -> Image.Image:
    return Image.fromarray(draw_scene(seed, size).image)


def reference_maps(model: torch.nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """torchvision's FX feature extractor on a copy whose ReLUs do not work in place."""
    model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, torch.nn.ReLU):
            module.inplace = False
    nodes = [f"features.{i}" for i in range(len(model.features))]
    with torch.inference_mode():
        return create_feature_extractor(model, nodes)(x)


def test_lab_feature_maps_equal_torchvision_extractor():
    loaded = get_model("lab.shapes", "cpu")
    image = shape_image(1)
    maps = feature_maps("lab.shapes", image)
    reference = reference_maps(loaded.model, loaded.preprocess(image)[None])
    assert list(maps) == list(reference) == [layer.name for layer in feature_layers(loaded.model)]
    for name, fmap in maps.items():
        assert fmap.shape == reference[name].shape[1:], name
        torch.testing.assert_close(fmap, reference[name][0], rtol=1e-5, atol=1e-5)
    # a conv layer keeps its negative values although the ReLU after it works in place
    assert maps["features.0"].min() < 0 and maps["features.2"].min() >= 0


def test_requested_layers_only():
    maps = feature_maps("lab.shapes", shape_image(2), layers=["features.3", "features.0"])
    assert set(maps) == {"features.0", "features.3"}


@pytest.fixture(scope="module")
def alexnet(tmp_path_factory):
    with torch_home(tmp_path_factory.mktemp("torch_home")):
        write_checkpoint("alexnet.imagenet", seed=1)
        yield get_model("alexnet.imagenet", "cpu")


def test_alexnet_feature_maps_equal_torchvision_extractor(alexnet):
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8))
    maps = feature_maps("alexnet.imagenet", image)
    reference = reference_maps(alexnet.model, alexnet.preprocess(image)[None])
    assert maps["features.0"].shape == (64, 55, 55) and maps["features.12"].shape == (256, 6, 6)
    for name, fmap in maps.items():
        torch.testing.assert_close(fmap, reference[name][0], rtol=1e-4, atol=1e-4)


def test_alexnet_filters_and_kernels(alexnet):
    rgb = first_layer_filters_rgb(alexnet.model)
    assert rgb.shape == (64, 11, 11, 3) and rgb.min() >= 0 and rgb.max() <= 1
    assert np.allclose(rgb.reshape(64, -1).min(1), 0) and np.allclose(rgb.reshape(64, -1).max(1), 1)
    kernels = kernels_for_input_channel(alexnet.model, "features.3", 7)
    assert kernels.shape == (192, 5, 5)
    assert np.array_equal(kernels, alexnet.model.features[3].weight[:, 7].numpy())


def test_alexnet_grad_cam_has_the_view_size(alexnet):
    cam, target = grad_cam(alexnet, shape_image(3), "features.10")
    assert cam.shape == (224, 224) and np.isfinite(cam).all() and 0 <= target < 1000


def test_top_classes_are_sorted_probabilities():
    loaded = get_model("lab.shapes", "cpu")
    predictions = top_classes(loaded, shape_image(4), k=5)
    assert len(predictions) == 4  # the lab model knows four shapes
    probabilities = [p.probability for p in predictions]
    assert probabilities == sorted(probabilities, reverse=True) and abs(sum(probabilities) - 1) < 1e-5
    assert {p.category for p in predictions} == set(loaded.categories)


def test_grad_cam_sanity():
    loaded = get_model("lab.shapes", "cpu")
    image = shape_image(5)
    cam, target = grad_cam(loaded, image, "features.10")
    assert cam.shape == (64, 64) and np.isfinite(cam).all() and cam.min() >= 0 and cam.max() == pytest.approx(1)
    assert target == top_classes(loaded, image)[0].index
    other = (target + 1) % 4
    cam_other, used = grad_cam(loaded, image, "features.10", target=other)
    assert used == other and not np.allclose(cam, cam_other)
    assert all(p.grad is None for p in loaded.model.parameters())


def test_concurrent_extractions_on_one_model_are_identical():
    images = [shape_image(seed) for seed in range(8)]
    expected = [feature_maps("lab.shapes", image) for image in images]
    cams = [grad_cam(get_model("lab.shapes", "cpu"), image, "features.7")[0] for image in images]

    def work(k):
        return feature_maps("lab.shapes", images[k % 8]), grad_cam(get_model("lab.shapes"), images[k % 8], "features.7")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(32)))
    for k, (maps, (cam, _)) in enumerate(results):
        assert all(torch.equal(maps[name], expected[k % 8][name]) for name in maps)
        assert np.allclose(cam, cams[k % 8], atol=1e-6)


def test_channels_by_mean_and_mosaic():
    fmap = torch.stack([torch.full((2, 2), v) for v in [0.5, 3.0, -1.0]])
    assert channels_by_mean(fmap) == [1, 0, 2]
    grid = mosaic(np.ones((5, 2, 3)), columns=2)
    assert grid.shape == (3 * 2 + 2, 2 * 3 + 1) and np.isnan(grid[2]).all() and grid[0, 0] == 1
