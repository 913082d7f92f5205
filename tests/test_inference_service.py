"""Inference behind one interface: the wire format, the choice of backend, and a service that is down.

The service itself (Ray Serve) and the replicas behind the proxy are tested in tests/test_scaleout.py.
"""

import socket

import numpy as np
import pytest
from PIL import Image

from cnnlab import inference, wire
from cnnlab.features import Prediction, feature_maps
from cnnlab.i18n import translator
from cnnlab.inference import InProcess, Remote, ServiceUnavailable, backend_for
from cnnlab.segmentation import detect_all, segment
from tests.pagehelpers import open_page
from tests.test_segmentation import drawn_scene


@pytest.fixture(scope="module")
def scene() -> Image.Image:
    return drawn_scene("white")[0]


def closed_port_url() -> str:
    """A URL where nothing listens (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_request_carries_the_exact_pixels_and_settings(scene):
    image, settings = wire.decode_request(wire.encode_request(scene, model="lab.maskrcnn", mask_threshold=0.5))
    assert np.array_equal(np.asarray(image), np.asarray(scene.convert("RGB")))
    assert settings == {"model": "lab.maskrcnn", "mask_threshold": 0.5}


def test_a_detection_crosses_the_wire_unchanged_and_small(scene):
    found = detect_all(scene, "lab.maskrcnn")
    assert len(found.instances) >= 3
    message = wire.encode_detection(found)
    back = wire.decode_detection(message)
    assert back.working_size == found.working_size and back.exclusive == found.exclusive
    for a, b in zip(found.instances, back.instances, strict=True):
        assert (a.label, a.label_index, a.score, a.box) == (b.label, b.label_index, b.score, b.box)
        assert np.array_equal(a.mask, b.mask)
    dense = sum(i.mask.size for i in found.instances)  # one byte a pixel, as a bool array travels
    assert len(message) < dense / 20, (len(message), dense)


def test_a_segmentation_and_feature_maps_cross_the_wire(scene):
    result = segment(scene, "lab.unet").compact()
    back = wire.decode_segmentation(wire.encode_segmentation(result))
    assert np.array_equal(back.classes, result.classes) and back.class_names == result.class_names
    assert np.abs(back.probabilities - result.probabilities).max() < 1e-3  # float16
    maps = feature_maps("lab.shapes", scene, ["features.0", "features.4"])
    maps_back = wire.decode_feature_maps(wire.encode_feature_maps(maps))
    for name, fmap in maps.items():
        assert maps_back[name].shape == fmap.shape
        assert np.allclose(maps_back[name], fmap, rtol=1e-3, atol=1e-3)
    predictions = [Prediction("circle", 0, 0.75), Prediction("star", 3, 0.25)]
    assert wire.decode_predictions(wire.encode_predictions(predictions)) == predictions


@pytest.mark.parametrize("message", [b"", b"\x00\x00\x00\x09{}", b"\xff\xff\xff\xffjunk"])
def test_bytes_that_are_not_a_message_are_refused(message):
    with pytest.raises(ValueError):
        wire.decode_detection(message)


def test_the_environment_chooses_the_backend():
    assert isinstance(backend_for({}), InProcess)
    remote = backend_for({"CNNLAB_INFERENCE_URL": "http://10.0.0.5:8000/"})
    assert isinstance(remote, Remote) and remote.url == "http://10.0.0.5:8000"
    assert isinstance(remote.fallback, InProcess)
    strict = backend_for({"CNNLAB_INFERENCE_URL": "http://10.0.0.5:8000", "CNNLAB_INFERENCE_FALLBACK": "off"})
    assert strict.fallback is None
    with pytest.raises(ValueError, match="CNNLAB_INFERENCE_FALLBACK"):
        backend_for({"CNNLAB_INFERENCE_URL": "http://x", "CNNLAB_INFERENCE_FALLBACK": "maybe"})


def test_a_service_that_is_down_falls_back_to_this_process(scene):
    remote = Remote(closed_port_url(), InProcess(), timeout_s=5)
    assert remote.status() == "fallback"
    found, local = remote.detect(scene, "lab.maskrcnn", 0.5), detect_all(scene, "lab.maskrcnn")
    assert [(i.label, round(i.score, 5)) for i in found.instances] == [
        (i.label, round(i.score, 5)) for i in local.instances
    ]


def test_a_service_that_is_down_is_said_when_no_fallback_is_allowed(scene):
    remote = Remote(closed_port_url(), None, timeout_s=5)
    assert remote.status() == "down"
    with pytest.raises(ServiceUnavailable) as caught:
        remote.detect(scene, "lab.maskrcnn", 0.5)
    assert remote.url in caught.value.message(translator("pl"))
    assert caught.value.message(translator("pl")).startswith("Usługa inferencji")


@pytest.fixture
def service_down(monkeypatch):
    """The app configured for an inference service at a port where nothing listens."""

    def configure(fallback: str):
        monkeypatch.setenv("CNNLAB_INFERENCE_URL", closed_port_url())
        monkeypatch.setenv("CNNLAB_INFERENCE_FALLBACK", fallback)
        inference.backend.cache_clear()

    yield configure
    monkeypatch.delenv("CNNLAB_INFERENCE_URL")
    inference.backend.cache_clear()


@pytest.fixture(autouse=True)
def no_cached_results():
    """Other tests may have cached the sample picture's detection: the page would not ask the service."""
    import streamlit as st

    st.cache_data.clear()


@pytest.mark.parametrize("lang", ["en", "uk"])
def test_the_page_says_the_service_is_down(service_down, lang):
    service_down("off")
    at = open_page("lessons/instances.py", lang)
    assert not at.exception
    expected = translator(lang)("service.down", url=inference.backend().url)
    assert [e.value for e in at.error] == [expected]


def test_the_page_still_answers_with_the_fallback(service_down):
    service_down("local")
    at = open_page("lessons/instances.py", "en")
    assert not at.exception and not at.error
    assert any("is not answering: this server computed the result itself" in w.value for w in at.warning)
    assert at.get("plotly_chart"), "the instances are drawn"
