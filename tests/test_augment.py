"""cnnlab.augment: every named transform does what its name says, reproducibly by seed, against torchvision."""

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as F

from cnnlab.augment import TRANSFORMS, apply, augment, augment_batch, sample_params, to_rgb, to_tensor
from cnnlab.errors import LessonInputError


def picture(size: int = 48) -> torch.Tensor:
    """(3, S, S) test picture: a colour gradient with a bright off-centre square (no symmetry)."""
    y, x = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    img = torch.stack([x, y, 0.5 * (1 - x)])
    img[:, 8:20, 10:30] = torch.tensor([0.9, 0.8, 0.1])[:, None, None]
    return img


@pytest.mark.parametrize("name", TRANSFORMS)
def test_the_same_seed_gives_the_same_picture_and_parameters(name):
    a, pa = augment(picture(), [name], seed=7)
    b, pb = augment(picture(), [name], seed=7)
    assert torch.equal(a, b) and pa == pb
    assert a.shape == picture().shape and 0 <= a.min() and a.max() <= 1


@pytest.mark.parametrize("name", [n for n in TRANSFORMS if n not in ("hflip", "vflip", "grayscale")])
def test_another_seed_draws_other_parameters(name):
    _, pa = augment(picture(), [name], seed=1)
    _, pb = augment(picture(), [name], seed=2)
    assert pa[0].params != pb[0].params


@pytest.mark.parametrize("name", TRANSFORMS)
def test_every_transform_changes_the_picture(name):
    out, applied = augment(picture(), [name], seed=3)
    assert applied[0].name == name
    assert (out - picture()).abs().max() > 0.05


def test_flips_mirror_the_picture():
    img = picture()
    assert torch.equal(augment(img, ["hflip"], 0)[0], img.flip(-1))
    assert torch.equal(augment(img, ["vflip"], 0)[0], img.flip(-2))


def test_rotation_by_90_degrees_is_a_quarter_turn_counter_clockwise():
    img = picture()
    np.testing.assert_allclose(apply(img, "rotation", {"angle": 90.0}), torch.rot90(img, 1, (-2, -1)), atol=1e-5)


def test_rotation_turns_by_the_angle_it_reports():
    img = picture()
    out, applied = augment(img, ["rotation"], 5)
    angle = applied[0].params["angle"]
    assert -30 <= angle <= 30
    expected = F.rotate(img, angle, interpolation=F.InterpolationMode.BILINEAR)
    assert torch.equal(out, expected.clamp(0, 1))


def test_crop_and_resize_is_the_reported_box_scaled_back_to_size():
    img = picture()
    out, applied = augment(img, ["crop"], 4)
    p = applied[0].params
    box = img[:, p["top"] : p["top"] + p["height"], p["left"] : p["left"] + p["width"]]
    expected = F.resize(box, [48, 48], antialias=True)
    np.testing.assert_allclose(out, expected.clamp(0, 1), atol=1e-6)
    assert p["height"] * p["width"] < 48 * 48  # a crop, not the whole picture


def test_perspective_moves_the_corners_inwards_and_keeps_the_centre():
    img = torch.zeros(3, 64, 64)
    img[:, 28:36, 28:36] = 1.0  # a white square in the middle
    out, applied = augment(img, ["perspective"], 2)
    moved = [v for v in applied[0].params.values()]
    assert any(v > 0 for v in moved) and all(v >= 0 for v in moved)
    assert out[:, 31:33, 31:33].min() > 0.5  # the centre stays where it was
    assert out[:, 0, 0].max() == 0  # a corner moved inwards leaves the fill behind


def test_colour_transforms_are_the_same_function_at_every_pixel():
    """Colour jitter and grayscale change colours, never where things are: equal pixels stay equal."""
    img = picture()
    for name in ("color_jitter", "grayscale"):
        out, _ = augment(img, [name], 9)
        inside = out[:, 8:20, 10:30].reshape(3, -1)
        assert torch.allclose(inside, inside[:, :1], atol=1e-6)  # the square is one colour before and after
        assert not torch.allclose(out[:, 8:20, 10:30], img[:, 8:20, 10:30], atol=0.02)


def test_grayscale_makes_the_three_channels_equal():
    out, _ = augment(picture(), ["grayscale"], 0)
    assert torch.equal(out[0], out[1]) and torch.equal(out[1], out[2])


def test_colour_jitter_is_torchvisions_with_the_reported_factors():
    img = picture()
    out, applied = augment(img, ["color_jitter"], 11)
    p = applied[0].params
    expected = F.adjust_hue(
        F.adjust_saturation(
            F.adjust_contrast(F.adjust_brightness(img, p["brightness"]), p["contrast"]), p["saturation"]
        ),
        p["hue"],
    )
    assert torch.equal(out, expected.clamp(0, 1))


def test_blur_smooths_and_keeps_the_mean():
    y, x = torch.meshgrid(torch.arange(48), torch.arange(48), indexing="ij")
    img = ((x // 6 + y // 6) % 2).float().expand(3, 48, 48)  # sharp checks
    out, _ = augment(img, ["blur"], 1)

    def variation(x):
        return (x[:, 1:, :] - x[:, :-1, :]).abs().sum() + (x[:, :, 1:] - x[:, :, :-1]).abs().sum()

    assert variation(out) < 0.8 * variation(img)
    assert abs(out.mean() - img.mean()) < 0.01


def test_noise_has_zero_mean_and_the_reported_spread():
    img = torch.full((3, 128, 128), 0.5)
    out, applied = augment(img, ["noise"], 6)
    diff = out - img
    assert abs(diff.mean()) < 0.005
    assert diff.std() == pytest.approx(applied[0].params["sigma"], rel=0.05)


def test_erasing_greys_out_exactly_the_reported_box():
    img = picture()
    out, applied = augment(img, ["erasing"], 8)
    p = applied[0].params
    box = (slice(None), slice(p["top"], p["top"] + p["height"]), slice(p["left"], p["left"] + p["width"]))
    assert torch.all(out[box] == 0.5)
    outside = torch.ones_like(img, dtype=torch.bool)
    outside[box] = False
    assert torch.equal(out[outside], img[outside])


def test_fog_lightens_and_flattens_the_picture():
    img = picture()
    out, applied = augment(img, ["fog"], 3)
    assert out.mean() > img.mean()
    assert out.std() < img.std()  # less contrast
    assert torch.all(out >= img - 1e-6)  # a white haze only adds light


def test_rain_draws_light_streaks_over_a_darker_picture():
    img = torch.full((3, 96, 96), 0.3)
    out, applied = augment(img, ["rain"], 4)
    streaks = out > 0.5
    assert 0.005 < streaks.float().mean() < 0.3  # thin streaks, not a wash
    assert torch.allclose(out[~streaks], torch.tensor(0.3 * 0.85), atol=0.02)  # the rest darker, as under a grey sky


def test_a_pipeline_applies_in_order_with_its_own_parameters():
    out, applied = augment(picture(), ["hflip", "grayscale", "erasing"], 5)
    assert [a.name for a in applied] == ["hflip", "grayscale", "erasing"]
    again = apply(apply(picture(), "hflip", {}), "grayscale", {})
    again = apply(again, "erasing", applied[2].params)
    assert torch.equal(out, again.clamp(0, 1))


def test_unknown_names_and_wrong_pictures_get_a_message():
    with pytest.raises(LessonInputError, match="no augmentation called"):
        augment(picture(), ["sharpen"], 0)
    with pytest.raises(LessonInputError):
        augment(torch.zeros(1, 8, 8), ["hflip"], 0)


def test_batch_augmentation_is_reproducible_by_generator_and_leaves_the_input_alone():
    images = torch.stack([picture(32)] * 16)
    kept = images.clone()
    a = augment_batch(images, ["rotation", "color_jitter"], torch.Generator().manual_seed(3))
    b = augment_batch(images, ["rotation", "color_jitter"], torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and torch.equal(images, kept)
    assert not torch.equal(a, images)
    assert torch.equal(augment_batch(images, ["rotation"], torch.Generator(), probability=0.0), images)


def test_sample_parameters_stay_inside_the_picture():
    g = torch.Generator().manual_seed(0)
    for _ in range(200):
        for name in ("crop", "erasing"):
            p = sample_params(name, g, 40, 30)
            assert 0 <= p["top"] and p["top"] + p["height"] <= 40
            assert 0 <= p["left"] and p["left"] + p["width"] <= 30


def test_pictures_go_to_tensors_and_back():
    rgb = (np.arange(24 * 36 * 3) % 256).astype(np.uint8).reshape(24, 36, 3)
    assert np.array_equal(to_rgb(to_tensor(rgb)), rgb)
    assert max(to_tensor(np.zeros((900, 600, 3), np.uint8)).shape[-2:]) == 512
