import numpy as np
import pytest
from PIL import Image

from cnnlab.images import MAX_PIXELS, ImageInputError, load_image, to_gray
from tests import imagefiles as files


def pixels(loaded):
    assert loaded.image.mode == "RGB"
    return np.asarray(loaded.image).astype(int)


def note_keys(loaded):
    return [key for key, _ in loaded.notes]


def test_plain_jpeg():
    loaded = load_image(files.jpeg())
    assert loaded.image.size == (64, 48) and loaded.notes == []


def test_alpha_is_flattened_on_white():
    p = pixels(load_image(files.png_alpha()))
    assert (p[:, :20] == 255).all()  # transparent half: white
    assert (p[:, 20:] == [255, 0, 0]).all()  # opaque half: red


@pytest.mark.parametrize("make", [files.palette_transparent_png, files.la_png])
def test_other_transparent_modes_become_white(make):
    assert (pixels(load_image(make())) == 255).all()


def test_cmyk_becomes_rgb_red():
    p = pixels(load_image(files.cmyk_jpeg()))
    assert abs(p[8, 8] - [255, 0, 0]).max() < 20


def test_16_bit_gray_is_scaled_not_clipped():
    assert Image.open(__import__("io").BytesIO(files.gray16_png())).mode.startswith("I")
    p = pixels(load_image(files.gray16_png()))
    assert (p[:, :10] == 255).all()
    assert (abs(p[:, 10:] - 128) <= 1).all()  # 32768 / 65535 of white, not clipped to 255


def test_exif_orientation_is_applied():
    loaded = load_image(files.exif_rotated_jpeg())
    assert loaded.image.size == (30, 60) and loaded.original_size == (30, 60)
    assert "image.note.rotated" in note_keys(loaded)


def test_animation_gives_its_first_frame():
    loaded = load_image(files.animated_gif())
    assert abs(pixels(loaded)[5, 5] - [255, 0, 0]).max() < 10
    assert ("image.note.first_frame", {"count": 3}) in loaded.notes


def test_big_photo_is_scaled_down_and_says_so():
    loaded = load_image(files.big_jpeg())
    w, h = loaded.image.size
    assert w * h <= MAX_PIXELS and abs(w / h - 1.5) < 0.01
    assert loaded.original_size == (3000, 2000)
    assert "image.note.scaled" in note_keys(loaded)


@pytest.mark.parametrize(
    "name,key",
    [
        ("empty.png", "image.error.empty"),
        ("truncated.jpg", "image.error.broken"),
        ("notes.png", "image.error.unsupported"),
        ("bomb.png", "image.error.bomb"),
        ("too-big.png", "image.error.too_many_pixels"),
    ],
)
def test_bad_files_raise_clear_errors(name, key):
    with pytest.raises(ImageInputError) as err:
        load_image(files.BAD[name]())
    assert err.value.key == key
    assert str(err.value)  # an English sentence, from the catalog


def test_format_outside_the_allow_list_is_refused():
    import io

    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, "PPM")
    with pytest.raises(ImageInputError) as err:
        load_image(buf.getvalue())
    assert err.value.key == "image.error.unsupported"


def test_to_gray_matches_pillow_luminance():
    image = files.gradient_rgb()
    np.testing.assert_allclose(to_gray(image) * 255, np.asarray(image.convert("L")), atol=1.0)
