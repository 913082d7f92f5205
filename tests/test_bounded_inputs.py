"""Issue 'every input bounded': each path found in review, now answered with a message and bounded work."""

from __future__ import annotations

import io
import json
import resource
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnnlab.arithmetic import MAX_LAYERS, layers_from_rows, measured_conv_output_shape, receptive_field
from cnnlab.errors import LessonInputError
from cnnlab.filters import sobel
from cnnlab.i18n import number, translator
from cnnlab.images import MAX_ASPECT, ImageInputError, load_image
from cnnlab.matrices import parse_matrix
from tests.pagehelpers import open_page

ROOT = Path(__file__).resolve().parent.parent
RO = translator("ro")


def png(mode: str, size: tuple[int, int], value=0, fmt="PNG", **options) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, value).save(out, fmt, **options)
    return out.getvalue()


def test_tracebacks_never_reach_the_browser():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


@pytest.mark.parametrize(
    "h,w,k,s,p,d", [(7, 6, 3, 2, 1, 1), (5, 9, 2, 3, 0, 2), (1, 1, 1, 1, 0, 1), (32, 17, 5, 4, 3, 3)]
)
def test_shape_check_is_torchs_own_rule(h, w, k, s, p, d):
    real = torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)(torch.zeros(1, 1, h, w))
    assert measured_conv_output_shape(h, w, k, s, p, d) == tuple(real.shape[-2:])


def test_shape_check_of_a_huge_input_allocates_nothing():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert measured_conv_output_shape(4096, 4096, 64, 1, 64, 1) == (4161, 4161)
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grew_mb < 50  # a real run would hold a 4161² output and 4096² input: over 130 MB


@pytest.mark.parametrize("token", ["param.stride", "param.nothing", "{name}", "param."])
def test_typed_text_is_shown_as_typed_never_looked_up(token):
    with pytest.raises(LessonInputError) as err:
        parse_matrix(f"1 {token}")
    assert token in err.value.message(RO)


@pytest.mark.parametrize(
    "rows,key",
    [
        ([{"kind": "xyz", "kernel": 3, "stride": 1, "padding": 0, "dilation": 1, "channels": 8}], "error.layer_kind"),
        (
            [{"kind": "conv", "kernel": float("inf"), "stride": 1, "padding": 0, "dilation": 1, "channels": 8}],
            "error.layer_value",
        ),
        (
            [{"kind": "conv", "kernel": 3, "stride": 1, "padding": 0, "dilation": 1, "channels": 1e12}],
            "error.layer_value",
        ),
        ([{"kind": "pool", "kernel": 2.5, "stride": 2, "padding": 0, "dilation": 1}], "error.layer_value"),
        ([{"kind": "pool", "kernel": 2, "stride": 17, "padding": 0, "dilation": 1}], "error.layer_value"),
        ([{"kind": "pool", "kernel": 2, "stride": 16, "padding": 0, "dilation": 1}] * 16, "error.too_many_layers"),
    ],
)
def test_layer_table_rows_are_checked_on_the_server(rows, key):
    with pytest.raises(LessonInputError) as err:
        layers_from_rows(rows)
    assert err.value.key == key
    assert err.value.message(RO)  # translated, with its numbers


def test_the_largest_allowed_stack_is_counted_exactly():
    rows = [{"kind": "pool", "kernel": 31, "stride": 16, "padding": 0, "dilation": 8}] * MAX_LAYERS
    stack = receptive_field(layers_from_rows(rows), 3)
    assert stack[-1].jump == 16**MAX_LAYERS and stack[-1].receptive_field > 0


@pytest.mark.parametrize("size", [(39_000_000, 1), (4000, 1), (1, 40000), (MAX_ASPECT + 1, 1)])
def test_thin_images_are_refused_before_decoding(size):
    with pytest.raises(ImageInputError) as err:
        load_image(png("L", size))
    assert err.value.key == "image.error.aspect"
    assert f"{number(size[0], 'ro')} × {number(size[1], 'ro')}" in err.value.message(RO)  # 39.000.000 × 1


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(png("I;16", (6300, 6300), 1000), id="16-bit PNG"),
        pytest.param(png("F", (6300, 6300), 0.5, "TIFF", compression="tiff_adobe_deflate"), id="float TIFF"),
    ],
)
def test_deep_images_are_scaled_before_any_float_conversion(data):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    loaded = load_image(data)
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert loaded.image.size == (1000, 1000) and loaded.image.mode == "RGB"
    assert grew_mb < 400  # float64 of the full picture alone is 318 MB, and it took 1.5 GB before


def test_sobel_direction_is_blank_where_there_is_no_edge():
    gray = np.zeros((40, 40))
    gray[:, 20:] = 1.0  # one vertical edge on a flat picture
    result = sobel(gray)
    assert np.isnan(result.direction[:, :15]).all() and np.isnan(result.direction[:, 25:]).all()
    edge = result.direction[5:-5, 19:21]
    assert np.isfinite(edge).all() and np.allclose(np.abs(edge), 180)  # dark to bright: the gradient points right
    assert result.magnitude[:, :15].max() == 0


def plotly_spec(at, key_part: str) -> dict:
    return next(json.loads(e.proto.spec) for e in at.get("plotly_chart") if key_part in e.proto.id)


def test_w11_warning_goes_when_the_settings_are_no_longer_w11():
    at = open_page("lessons/transposed_convolution.py")
    at.selectbox(key="tconv.preset").select("W11").run()
    assert any(w.value.startswith("The W11 trap") for w in at.warning)
    at.number_input(key="tconv.stride").set_value(1).run()
    assert not any(w.value.startswith("The W11 trap") for w in at.warning)


def test_same_padding_with_an_even_kernel_says_what_happens():
    at = open_page("lessons/convolution.py")
    at.radio(key="conv.size.mode").set_value("same").run()
    at.number_input(key="conv.size.k").set_value(4).run()
    assert any("even kernel" in w.value and "asymmetric" in w.value for w in at.warning)
    at.number_input(key="conv.size.k").set_value(3).run()
    assert not any("even kernel" in w.value for w in at.warning)


def test_a_picture_one_pixel_high_gets_a_message_on_the_activation_page():
    at = open_page("lessons/activations.py")
    at.segmented_control(key="act.image.source").set_value("upload").run()
    at.file_uploader(key="act.image.upload").set_value(("thin.png", png("RGB", (20, 1)), "image/png")).run()
    assert not at.exception
    assert at.error, "the page says why nothing is drawn"


def test_pooled_photo_is_drawn_smaller_than_its_input_and_sizes_read_width_by_height():
    at = open_page("lessons/pooling.py")
    at.selectbox(key="pool.image.sample").select("chelsea").run()  # 451 × 300: not square
    before, after = plotly_spec(at, "pool.fig.before"), plotly_spec(at, "pool.fig.after")
    assert after["layout"]["height"] < before["layout"]["height"]
    z = before["data"][0]["z"]  # a typed array with its shape, or nested lists
    picture_h, picture_w = map(int, z["shape"].split(",")) if isinstance(z, dict) else (len(z), len(z[0]))
    assert picture_w != picture_h, "a sample that is not square tells the orders apart"
    assert before["layout"]["title"]["text"].endswith(f"{picture_w} × {picture_h}")


def test_zeros_after_an_activation_are_not_blamed_on_it():
    at = open_page("lessons/activations.py")
    text = next(m.value for m in at.markdown if "exactly 0" in m.value)
    assert text.startswith("Before the activation")


def test_grad_cam_top_class_label_does_not_go_stale():
    at = open_page("lessons/features.py")
    box = at.selectbox(key="feat.cam_class.lab.shapes")
    assert box.options[0] == translator("en")("feat.cam.top")  # names no class that a new picture would change


def test_an_installed_engine_finds_its_data_under_the_prefix(tmp_path, monkeypatch):
    import sys

    import cnnlab.assets as assets

    installed = tmp_path / "share" / "cnnlab" / "assets"
    (installed / "i18n").mkdir(parents=True)
    monkeypatch.setattr(assets, "__file__", str(tmp_path / "site-packages" / "cnnlab" / "assets.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert assets._find() == installed
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shipped = pyproject["tool"]["setuptools"]["data-files"]
    assert "assets/i18n/*.json" in shipped["share/cnnlab/assets/i18n"]
    assert pyproject["project"]["scripts"]["cnnlab-weights"] == "cnnlab.weights:main"
