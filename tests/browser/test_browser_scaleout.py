"""The pieces together: 2 Streamlit replicas behind HAProxy with sticky sessions, and the Ray Serve
inference service they share (scripts/serve.py --replicas 2 --service).

Slow (about a minute to start everything): marked `scaleout`. The README's test command runs it;
it is skipped where HAProxy or Ray is not installed (scripts/test installs both).
"""

import importlib.util
import io
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from cnnlab.inference import Remote
from cnnlab.segmentation import detect_all
from tests.browser.conftest import upload_to_picker, wait_idle
from tests.test_segmentation import drawn_scene

pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="HAProxy is not installed (scripts/test installs it)"),
    pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray[serve] is not installed"),
]

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from serve import COOKIE, Hall  # noqa: E402  (scripts/serve.py: the deployers' command)


def free_port_block(size: int) -> int:
    """A port p with p .. p + size free, and p + 100 (the service's) too."""
    import socket

    for base in range(18_000, 30_000, 211):
        try:
            socks = []
            for port in [*range(base, base + size + 1), base + 100]:
                sock = socket.socket()
                sock.bind(("127.0.0.1", port))
                socks.append(sock)
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free ports")


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    with Hall(2, free_port_block(2), "127.0.0.1", start_service=True, logs=tmp_path_factory.mktemp("hall")) as hall:
        yield hall


def test_the_service_answers_as_this_process_does(hall):
    picture = drawn_scene("white")[0]
    remote = Remote(hall.service_url, None)
    found, local = remote.detect(picture, "lab.maskrcnn", 0.5), detect_all(picture, "lab.maskrcnn")
    assert [(i.label, round(i.score, 4), tuple(round(v, 2) for v in i.box)) for i in found.instances] == [
        (i.label, round(i.score, 4), tuple(round(v, 2) for v in i.box)) for i in local.instances
    ]
    refused = urllib.request.Request(f"{hall.service_url}/detect", data=b"not a message", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(refused, timeout=30)
    assert caught.value.code == 400
    thin = Image.new("RGB", (2000, 10))
    with pytest.raises(Exception, match="too thin"):
        remote.detect(thin, "lab.maskrcnn", 0.5)


def instance_rows(page) -> list[str]:
    """The instance table's rows as text (the lecture layout draws it as an HTML table)."""
    return [row.inner_text() for row in page.locator("[data-testid='stTable'] tbody tr").all()]


def test_each_replica_serves_its_own_sessions_through_the_proxy(hall, browser, tmp_path):
    picture = drawn_scene("white")[0]
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    local = detect_all(picture, "lab.maskrcnn").above(0.5)
    replicas = set()
    for n in range(2):  # round robin: the first new browser goes to one replica, the second to the other
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        try:
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{hall.url}/instance-segmentation?lecture=true")
            wait_idle(page)
            upload_to_picker(page, "inst.image", tmp_path / f"drawing{n}.png", buffer.getvalue())
            page.get_by_text(f"{len(local.instances)} instances found").wait_for(timeout=60_000)
            page.get_by_text("Computed on the inference service").wait_for()
            rows = instance_rows(page)
            assert len(rows) == len(local.instances)
            for row, instance in zip(rows, local.instances, strict=True):
                assert instance.label in row, (row, instance.label)
            assert page.locator("[data-testid='stException']").count() == 0
            replicas |= {c["value"] for c in context.cookies() if c["name"] == COOKIE}
        finally:
            context.close()
    assert replicas == {"r1", "r2"}, "each browser was pinned to its own replica"
