"""Filters & feature maps in Chromium: upload a photo, see its feature maps, Grad-CAM and the W16 table."""

import pytest
from playwright.sync_api import expect

from tests import imagefiles as files
from tests.browser.conftest import upload_to_picker, wait_idle

pytestmark = pytest.mark.browser


def test_uploaded_photo_gives_feature_maps(page, server_url, tmp_path):
    page.goto(f"{server_url}/feature-maps")
    wait_idle(page)
    upload_to_picker(page, "feat.image", tmp_path / "photo.jpg", files.big_jpeg())
    page.get_by_role("tab", name="Feature maps").click()
    panel = page.get_by_role("tabpanel", name="Feature maps")
    panel.locator(".js-plotly-plot").nth(1).wait_for(timeout=30_000)
    assert panel.get_by_text("of the 32 feature maps of conv1").count() == 1
    page.get_by_role("tab", name="Prediction & Grad-CAM").click()
    cam = page.get_by_role("tabpanel", name="Prediction & Grad-CAM")
    cam.locator(".js-plotly-plot").nth(1).wait_for(timeout=30_000)
    assert cam.get_by_text("Grad-CAM: where").count() >= 1
    page.screenshot(path=str(tmp_path / "features.png"), full_page=True)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stAlertContentError']").count() == 0


def test_architecture_table_reproduces_w16(page, server_url):
    page.goto(f"{server_url}/feature-maps")
    wait_idle(page)
    page.get_by_role("tab", name="Architecture table").click()
    panel = page.get_by_role("tabpanel", name="Architecture table")
    for text in ("61,100,840 ≈ 61.1M", "138,357,544 ≈ 138.4M", "143,667,240 ≈ 143.7M"):
        expect(panel.get_by_text(text)).to_have_count(1)  # waits: the tab's table may still be drawing
    assert page.locator("[data-testid='stException']").count() == 0
