"""Every input bounded, for models: downloads (cached files checked, deadline, size, no partial files, no
server paths in messages), the process's model cache (memory budget, per-model locks) and picture shapes.

Downloads come from a local HTTP server on 127.0.0.1; nothing else is ever contacted.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
import tomllib
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from PIL import Image
from torch import nn

from cnnlab import models, segmentation, weights
from cnnlab.errors import LessonInputError
from cnnlab.i18n import translator
from cnnlab.models import LoadedModel, get_model, registry
from cnnlab.weights import WeightsError, checkpoint_path
from tests.checkpoints import torch_home, write_checkpoint

LOCAL = "http://127.0.0.1:"


@pytest.fixture(autouse=True)
def only_localhost(monkeypatch):
    """Any download a test starts goes to the local server, or fails the test."""
    real = urllib.request.urlopen

    def local_only(url, timeout):
        assert url.startswith(LOCAL), url
        return real(url, timeout=timeout)

    monkeypatch.setattr(weights.urllib.request, "urlopen", local_only)


@pytest.fixture
def home(tmp_path) -> Iterator[Path]:
    with torch_home(tmp_path) as path:
        yield path


class Server:
    """A threaded HTTP server on 127.0.0.1: routes map a path to handler(request) -> None."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.requests: list[str] = []
        self.stop = threading.Event()  # ends handlers that would otherwise stream forever
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                server.routes[self.path](self)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"{LOCAL}{self.httpd.server_port}{path}"

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.close()


def send(data: bytes, length: int | None = None) -> Callable[[BaseHTTPRequestHandler], None]:
    """A route answering data; Content-Length is len(data), or `length`, or left out when length is -1."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        announced = len(data) if length is None else length
        if announced >= 0:
            request.send_header("Content-Length", str(announced))
        request.end_headers()
        request.wfile.write(data)

    return handle


def checkpoint_bytes() -> bytes:
    buffer = io.BytesIO()
    torch.save({"weight": torch.arange(12.0)}, buffer)
    return buffer.getvalue()


PAYLOAD = checkpoint_bytes()
PAYLOAD_FILE = f"tiny-{hashlib.sha256(PAYLOAD).hexdigest()[:8]}.pth"  # torchvision's naming: the SHA-256 prefix


@pytest.fixture
def served(home, server, monkeypatch) -> Path:
    """alexnet.imagenet's URL points at PAYLOAD on the local server; returns where it is cached."""
    monkeypatch.setattr(
        weights, "torchvision_weights", lambda name: SimpleNamespace(url=server.url(f"/{PAYLOAD_FILE}"))
    )
    server.routes[f"/{PAYLOAD_FILE}"] = send(PAYLOAD)
    target = checkpoint_path("alexnet.imagenet")
    assert target.name == PAYLOAD_FILE
    return target


def leftovers(target: Path) -> list[Path]:
    return sorted(target.parent.glob("*")) if target.parent.is_dir() else []


def test_download_from_the_local_server_checks_the_real_hash(served, server):
    assert weights.download("alexnet.imagenet") == served
    assert served.read_bytes() == PAYLOAD and leftovers(served) == [served]
    assert weights.load_state_dict("alexnet.imagenet")["weight"].tolist() == list(range(12))


def test_an_intact_cached_file_is_not_fetched_again(served, server):
    served.parent.mkdir(parents=True)
    served.write_bytes(PAYLOAD)
    assert weights.download("alexnet.imagenet") == served
    assert server.requests == []


def test_a_corrupt_cached_file_is_replaced(served, server):
    served.parent.mkdir(parents=True)
    served.write_bytes(PAYLOAD[:50])  # a download cut short by an older version, or a damaged disk
    assert weights.download("alexnet.imagenet") == served
    assert served.read_bytes() == PAYLOAD and len(server.requests) == 1


def test_a_trickling_server_is_stopped_at_the_deadline(served, server):
    def trickle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Length", "1000000")
        request.end_headers()
        while not server.stop.is_set():  # one byte every 50 ms: each read is quick, the whole would take 14 h
            try:
                request.wfile.write(b"x")
            except OSError:  # the client hung up
                return
            time.sleep(0.05)

    server.routes[f"/{PAYLOAD_FILE}"] = trickle
    started = time.monotonic()
    with pytest.raises(WeightsError) as err:
        weights.download("alexnet.imagenet", timeout=2, deadline=0.5)
    assert err.value.key == "weights.error.too_slow"
    assert time.monotonic() - started < 3
    assert leftovers(served) == []


def test_the_default_deadline_grows_with_the_size_and_has_a_floor():
    assert weights.default_deadline(1000) == weights.DEADLINE_FLOOR_S
    vgg19 = 548 * 2**20
    assert 10 * 60 < weights.default_deadline(vgg19) < 60 * 60
    assert weights.default_deadline(0) == weights.default_deadline(weights.MAX_BYTES)  # unknown: the largest


@pytest.mark.parametrize("length", [-1, 10_000_000])  # no Content-Length, or too large a one
def test_a_server_sending_too_much_is_stopped(served, server, monkeypatch, length):
    monkeypatch.setattr(weights, "MAX_BYTES", 100_000)
    server.routes[f"/{PAYLOAD_FILE}"] = send(b"x" * 300_000, length)
    with pytest.raises(WeightsError) as err:
        weights.download("alexnet.imagenet")
    assert err.value.key == "weights.error.too_large"
    assert leftovers(served) == []


def test_a_connection_closed_early_is_an_offline_error_and_leaves_nothing(served, server):
    server.routes[f"/{PAYLOAD_FILE}"] = send(PAYLOAD[:100], length=len(PAYLOAD))
    with pytest.raises(WeightsError) as err:
        weights.download("alexnet.imagenet")
    assert err.value.key == "weights.error.offline"
    assert leftovers(served) == []


def test_an_interrupted_download_leaves_no_partial_file(served, server):
    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        weights.download("alexnet.imagenet", progress=interrupt)
    assert leftovers(served) == []


def test_download_errors_name_no_path_on_the_server(served, server):
    served.parent.parent.mkdir(parents=True)
    served.parent.write_bytes(b"")  # a file where the checkpoints folder should be
    with pytest.raises(WeightsError) as err:
        weights.download("alexnet.imagenet")
    assert err.value.key == "weights.error.offline"
    for lang in ("en", "ro"):
        message = err.value.message(translator(lang))
        assert "alexnet.imagenet" in message and "python -m cnnlab.weights download" in message
        assert str(served.parent) not in message and "checkpoints" not in message


@pytest.mark.parametrize("damage", ["truncated", "foreign"])
def test_a_damaged_checkpoint_is_removed_and_named_without_its_path(home, damage):
    path = checkpoint_path("alexnet.imagenet")
    if damage == "truncated":
        write_checkpoint("alexnet.imagenet")
        path.write_bytes(path.read_bytes()[:100_000])
    else:
        path.parent.mkdir(parents=True)
        torch.save({"weight": torch.zeros(3)}, path)
    with pytest.raises(WeightsError) as err:
        get_model("alexnet.imagenet", "cpu")
    assert err.value.key == "weights.error.corrupt"
    assert str(home) not in str(err.value) and "download alexnet.imagenet" in str(err.value)
    assert not weights.is_cached("alexnet.imagenet")  # so the page offers the download again


def test_a_missing_lab_file_is_named_without_its_folder(tmp_path):
    with pytest.raises(WeightsError) as err:
        weights.load_lab_weights(nn.Linear(1, 1), tmp_path / "lab_missing.safetensors")
    assert "lab_missing.safetensors" in str(err.value) and str(tmp_path) not in str(err.value)


def test_the_features_page_offers_to_download_a_damaged_checkpoint_again(home):
    from cnnlab.models import _cache as model_cache
    from tests.pagehelpers import open_page

    model_cache.clear()
    write_checkpoint("alexnet.imagenet")
    path = checkpoint_path("alexnet.imagenet")
    path.write_bytes(path.read_bytes()[:100_000])
    try:
        at = open_page("lessons/features.py")
        at.selectbox(key="feat.model").select("alexnet.imagenet").run()
        assert not at.exception
        assert any("damaged" in e.value and str(home) not in e.value for e in at.error)
        assert at.button(key="feat.model.download").label.startswith("Download the weights of alexnet.imagenet")
    finally:
        model_cache.clear()


# The model cache: fake loaders, so that the tests control the sizes and the timing.

LINEAR_BYTES = (100 * 1000 + 1000) * 4  # nn.Linear(100, 1000): 404 kB of float32


@pytest.fixture
def loads(monkeypatch) -> Iterator[dict[str, int]]:
    """Models load instantly as an nn.Linear(100, 1000); returns the number of loads by name."""
    counts: dict[str, int] = {}

    def fake(entry):
        counts[entry.name] = counts.get(entry.name, 0) + 1
        return nn.Linear(100, 1000), ["a", "b"]

    monkeypatch.setattr(models, "_load_weights", fake)
    models._cache.clear()
    yield counts
    models._cache.clear()


def test_the_cache_drops_the_least_recently_used_beyond_its_budget(loads, monkeypatch):
    monkeypatch.setenv("CNNLAB_MODEL_CACHE_MB", "1")  # room for two 404 kB models, not three
    assert models.model_bytes(nn.Linear(100, 1000)) == LINEAR_BYTES
    alexnet = get_model("alexnet.imagenet", "cpu")
    vgg16 = get_model("vgg16.imagenet", "cpu")
    assert get_model("alexnet.imagenet", "cpu") is alexnet  # now vgg16 is the least recently used
    vgg19 = get_model("vgg19.imagenet", "cpu")
    assert get_model("alexnet.imagenet", "cpu") is alexnet and get_model("vgg19.imagenet", "cpu") is vgg19
    assert loads == {"alexnet.imagenet": 1, "vgg16.imagenet": 1, "vgg19.imagenet": 1}
    assert get_model("vgg16.imagenet", "cpu") is not vgg16
    assert loads["vgg16.imagenet"] == 2


def test_the_model_just_loaded_stays_even_over_the_budget(loads, monkeypatch):
    monkeypatch.setenv("CNNLAB_MODEL_CACHE_MB", "0")
    alexnet = get_model("alexnet.imagenet", "cpu")
    assert get_model("alexnet.imagenet", "cpu") is alexnet
    get_model("vgg16.imagenet", "cpu")
    get_model("alexnet.imagenet", "cpu")
    assert loads == {"alexnet.imagenet": 2, "vgg16.imagenet": 1}


def test_the_default_budget_and_a_bad_setting(monkeypatch):
    monkeypatch.delenv("CNNLAB_MODEL_CACHE_MB", raising=False)
    assert models.cache_budget_bytes() == 2048 * 2**20
    monkeypatch.setenv("CNNLAB_MODEL_CACHE_MB", "lots")
    assert models.cache_budget_bytes() == 2048 * 2**20
    monkeypatch.setenv("CNNLAB_MODEL_CACHE_MB", "512")
    assert models.cache_budget_bytes() == 512 * 2**20


@pytest.fixture
def slow_vgg16(loads, monkeypatch) -> Iterator[SimpleNamespace]:
    """vgg16.imagenet's load starts, signals `started`, and waits for `release`; the others load at once."""
    gate = SimpleNamespace(started=threading.Event(), release=threading.Event())
    fast = models._load_weights

    def slow(entry):
        if entry.name == "vgg16.imagenet":
            gate.started.set()
            assert gate.release.wait(10)
        return fast(entry)

    monkeypatch.setattr(models, "_load_weights", slow)
    yield gate
    gate.release.set()


def in_thread(fn: Callable[[], object]) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    thread.start()
    return thread, result


def test_cached_and_other_models_are_served_while_one_loads(slow_vgg16):
    alexnet = get_model("alexnet.imagenet", "cpu")
    loading, _ = in_thread(lambda: get_model("vgg16.imagenet", "cpu"))
    assert slow_vgg16.started.wait(5)
    cached, cached_result = in_thread(lambda: get_model("alexnet.imagenet", "cpu"))
    other, other_result = in_thread(lambda: get_model("vgg19.imagenet", "cpu"))
    cached.join(1)
    other.join(1)
    assert cached_result == [alexnet] and len(other_result) == 1  # both done while vgg16 is still loading
    assert loading.is_alive()
    slow_vgg16.release.set()
    loading.join(5)
    assert not loading.is_alive()


def test_concurrent_requests_for_one_model_load_it_once(slow_vgg16, loads):
    threads = [in_thread(lambda: get_model("vgg16.imagenet", "cpu")) for _ in range(4)]
    assert slow_vgg16.started.wait(5)
    time.sleep(0.2)  # let the other threads reach the model's lock (the test passes either way if they are late)
    slow_vgg16.release.set()
    for thread, _ in threads:
        thread.join(5)
    results = [result[0] for _, result in threads]
    assert all(r is results[0] for r in results) and loads["vgg16.imagenet"] == 1


# Pictures too thin for a network.

THIN = [(4000, 1), (40000, 1), (1, 40000)]


@pytest.mark.parametrize("size", THIN)
def test_a_thin_picture_is_refused_at_once_by_a_classifier(size):
    loaded = LoadedModel("alexnet.imagenet", nn.Identity(), [], registry()["alexnet.imagenet"], torch.device("cpu"))
    started = time.monotonic()
    with pytest.raises(LessonInputError) as err:
        loaded.preprocess(Image.new("RGB", size))
    assert err.value.key == "image.error.aspect"
    assert time.monotonic() - started < 0.5


def test_the_thinnest_accepted_picture_gives_the_usual_crop():
    loaded = LoadedModel("alexnet.imagenet", nn.Identity(), [], registry()["alexnet.imagenet"], torch.device("cpu"))
    assert loaded.view(Image.new("RGB", (320, 10))).size == (224, 224)
    assert loaded.preprocess(Image.new("RGB", (10, 320))).shape == (3, 224, 224)


@pytest.mark.parametrize("size", THIN)
def test_a_thin_picture_is_refused_at_once_by_segmentation(size):
    image = Image.new("RGB", size)
    started = time.monotonic()
    for run in (
        lambda: segmentation.segment(image, "lab.unet", "cpu"),
        lambda: segmentation.detect(image, device="cpu"),
    ):
        with pytest.raises(LessonInputError) as err:
            run()
        assert err.value.key == "image.error.aspect"
    assert time.monotonic() - started < 2


class FakeFCN(nn.Module):
    """Answers like torchvision's FCN: {'out': (1, 21, H, W) logits}, all zero."""

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"out": x.new_zeros(1, 21, *x.shape[-2:])}


def test_a_wide_picture_reaches_the_fcn_with_a_bounded_longer_side(monkeypatch):
    monkeypatch.setattr(segmentation, "_load", lambda entry: (FakeFCN(), [f"c{i}" for i in range(21)]))
    models._cache.clear()
    try:
        result = segmentation.segment(Image.new("RGB", (320, 10)), "fcn_resnet50.voc", "cpu")
    finally:
        models._cache.clear()
    assert result.working_size == (640, 20)  # longer side 384 · 1333/800, not 384 · 32 = 12288
    assert result.classes.shape == (10, 320)


# Packaging.

ROOT = Path(__file__).resolve().parent.parent


def test_the_package_declares_what_requirements_txt_asks_for():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    required = [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]
    assert project["dependencies"] == required
    assert {"torch>=2.10", "torchvision>=0.25", "pillow>=12.3"} <= set(required)
    assert project["scripts"]["cnnlab-weights"] == "cnnlab.weights:main"
