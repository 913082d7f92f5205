"""Uploads through the real file input in Chromium: a picture or a clear message, never an exception."""

import urllib.request

import pytest

from tests import imagefiles as files
from tests.browser.conftest import upload_to_picker, wait_idle

pytestmark = pytest.mark.browser

BAD_MESSAGES = {
    "empty.png": "The file is empty",
    "truncated.jpg": "damaged or incomplete",
    "notes.png": "not an image in a supported format",
    "bomb.png": "decompression bomb",
    "too-big.png": "decompression bomb",
}


def upload(page, server_url, tmp_path, name, data):
    page.goto(f"{server_url}/edges")
    wait_idle(page)
    page.get_by_role("tab", name="On a photo").click()
    upload_to_picker(page, "edges.image", tmp_path / name, data)


@pytest.mark.parametrize("name", list(files.GOOD))
def test_good_file_is_shown(page, server_url, tmp_path, name):
    upload(page, server_url, tmp_path, name, files.GOOD[name]())
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stAlertContentError']").count() == 0


@pytest.mark.parametrize("name", list(files.BAD))
def test_bad_file_gets_a_message(page, server_url, tmp_path, name):
    upload(page, server_url, tmp_path, name, files.BAD[name]())
    page.get_by_text(BAD_MESSAGES[name]).first.wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator(".js-plotly-plot").count() == 0


def test_server_is_healthy_after_the_uploads(page, server_url):
    assert urllib.request.urlopen(f"{server_url}/_stcore/health", timeout=5).read() == b"ok"
    page.goto(f"{server_url}/edges")
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
