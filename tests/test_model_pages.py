"""AppTest of the pages with networks: filters & feature maps (lab model, generated checkpoints) and architectures."""

import json

import pytest

from cnnlab import weights
from cnnlab.i18n import number, translator
from cnnlab.models import _cache as model_cache
from tests.checkpoints import torch_home, write_checkpoint
from tests.pagehelpers import open_page

FEATURES = "lessons/features.py"


@pytest.fixture
def empty_home(tmp_path):
    model_cache.clear()
    with torch_home(tmp_path) as path:
        yield path
    model_cache.clear()


def texts(elements):
    return [e.value for e in elements]


@pytest.mark.parametrize("lang", ["en", "ro"])
def test_features_page_shows_the_lab_model_offline(empty_home, lang):
    at = open_page(FEATURES, lang)
    assert not at.exception, at.exception
    assert not at.error, texts(at.error)
    charts = at.get("plotly_chart")
    assert len(charts) == 6  # first-layer filters, deeper kernels, map grid, one map, top classes, Grad-CAM
    assert at.selectbox(key="feat.model").value == "lab.shapes"


def test_lab_model_sees_the_generated_star(empty_home):
    at = open_page(FEATURES)
    assert at.selectbox(key="feat.image.sample").value == "generated_shape"
    bars = json.loads(at.get("plotly_chart")[4].proto.spec)["data"][0]
    assert bars["y"][-1] == "star" and bars["x"][-1] > 0.9  # the last bar, drawn on top, is the most probable


def test_feature_map_layers_and_enlarge(empty_home):
    at = open_page(FEATURES)
    at.selectbox(key="feat.layer.lab.shapes").select("features.4").run()
    assert any("of the 64 feature maps of conv2" in m.value for m in at.markdown)
    options = at.selectbox(key="feat.enlarge.lab.shapes.features.4").options
    assert len(options) == 64 and options[0].startswith("#1: channel")
    at.selectbox(key="feat.enlarge.lab.shapes.features.4").select_index(5).run()
    assert not at.exception


def test_grad_cam_for_a_chosen_class(empty_home):
    at = open_page(FEATURES)
    at.selectbox(key="feat.cam_class.lab.shapes").select(0).run()
    assert not at.exception
    assert "circle" in at.get("plotly_chart")[5].proto.spec


def test_missing_weights_name_the_command_and_fall_back(empty_home):
    at = open_page(FEATURES)
    at.selectbox(key="feat.model").select("vgg16.imagenet").run()
    assert not at.exception
    assert any("python -m cnnlab.weights download vgg16.imagenet" in i.value for i in at.info)
    en = translator("en")
    shown, wanted = en("model.lab.shapes"), en("model.vgg16.imagenet")
    assert any(f"shows {shown}" in w.value and f"not {wanted}" in w.value for w in at.warning)  # says which is shown
    assert any("32 filters of 5 × 5 × 3" in m.value for m in at.markdown)


def test_offline_download_says_so_and_keeps_the_lab_model(empty_home, monkeypatch):
    def offline(name, progress=None, timeout=None):
        raise weights.WeightsError("weights.error.offline", name=name, reason="no network", command="python -m x")

    monkeypatch.setattr(weights, "download", offline)
    at = open_page(FEATURES)
    at.selectbox(key="feat.model").select("alexnet.imagenet").run()
    at.button(key="feat.model.download").click().run()
    assert not at.exception
    assert any("could not be downloaded (no network)" in e.value for e in at.error)
    assert len(at.get("plotly_chart")) == 6


def test_download_then_alexnet(empty_home, monkeypatch):
    def fake_download(name, progress=None, timeout=None):
        write_checkpoint(name)
        progress(10, 10)

    monkeypatch.setattr(weights, "download", fake_download)
    at = open_page(FEATURES)
    at.selectbox(key="feat.model").select("alexnet.imagenet").run()
    at.button(key="feat.model.download").click().run()
    assert not at.exception, at.exception
    assert not at.info or not any("not on this machine" in i.value for i in at.info)
    assert any("64 filters of 11 × 11 × 3" in m.value for m in at.markdown)
    assert any("61,100,840 parameters" in m.value for m in at.markdown)
    at.selectbox(key="feat.layer.alexnet.imagenet").select("features.0").run()
    assert any("of the 64 feature maps of conv1" in m.value for m in at.markdown)
    at.selectbox(key="feat.cam_class.alexnet.imagenet").select(1).run()
    assert not at.exception and "goldfish" in at.get("plotly_chart")[5].proto.spec


def test_w16_and_conv1_arithmetic_on_the_page(empty_home):
    at = open_page(FEATURES)
    counted = at.table[-1].value
    assert counted.iloc[:, 1].tolist() == ["61,100,840 ≈ 61.1M", "138,357,544 ≈ 138.4M", "143,667,240 ≈ 143.7M"]
    conv1 = next(m.value for m in at.markdown if "conv1" in m.value and "227" in m.value)
    assert "217 / 4 + 1 → **55**" in conv1 and "216 / 4 + 1 = **55**" in conv1


@pytest.mark.parametrize("lang", ["en", "ro"])
def test_architectures_page_reproduces_w14_w15_w18(lang):
    at = open_page("lessons/architectures.py", lang)
    assert not at.exception, at.exception
    assert [s.value.split("W")[1][:2] for s in at.success] == ["15", "14", "18"]
    n = lambda v, digits=None: number(v, lang, digits)  # noqa: E731 - the numbers as the language writes them
    lenet = at.table[0].value
    assert lenet.iloc[:, 4].tolist() == [n(v) for v in (156, 12, 1516, 32, 48120, 10164)]
    assert lenet.iloc[:, 3].tolist() == [n(v) for v in (122304, 5880, 151600, 2000, 48120, 10164)]
    metrics = texts(at.metric)
    mega = {"en": "M", "ro": " mil."}[lang]  # millions as the language abbreviates them
    assert metrics[:4] == [
        n(576000),
        f"{n(112896000)} ≈ {n(112.896, 1)}{mega}",
        n(26880),
        f"{n(5268480)} ≈ {n(5.26848, 1)}{mega}",
    ]
    assert metrics[4:] == [n(51380224), "0"]
    assert (metrics[0] == "576.000") == (lang == "ro")  # 576,000 in English


def test_yolo_inputs_change_the_tensor():
    at = open_page("lessons/architectures.py")
    assert any("**7 × 7 × 30**" in m.value for m in at.markdown)
    at.number_input(key="arch.yolo.S").set_value(13).run()
    at.number_input(key="arch.yolo.B").set_value(5).run()
    at.number_input(key="arch.yolo.C").set_value(80).run()
    assert any("**13 × 13 × 105**" in m.value for m in at.markdown)
    assert any("W18" in i.value for i in at.info)


def test_romanian_pages_show_the_notes_and_the_lab_classes_in_romanian(empty_home):
    ro = translator("ro")
    at = open_page(FEATURES, "ro")
    assert not at.exception
    top5 = next(e.proto.spec for e in at.get("plotly_chart") if "feat.fig.top5" in e.proto.id)
    shapes = [ro(f"seg.class.{c}") for c in ("circle", "square", "triangle", "star")]
    assert sum(name in top5 for name in shapes) >= 3 and '"star"' not in top5 and '"circle"' not in top5
    assert any(ro("w16.fact.0") in c.value for c in at.caption)
    arch = open_page("lessons/architectures.py", "ro")
    assert any(ro("w16.fact.2") in c.value for c in arch.caption)
    assert not any("7x7x1024 -> 1024 FC layer" in c.value for c in arch.caption)
