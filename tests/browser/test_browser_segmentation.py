"""Segmentation in Chromium: upload a drawing of shapes, see the overlay, the legend, the areas and the instances."""

import io

import pytest

from tests.browser.conftest import upload_to_picker, wait_idle
from tests.test_segmentation import drawn_scene

pytestmark = pytest.mark.browser


def png_of_drawing(background: str) -> bytes:
    buffer = io.BytesIO()
    drawn_scene(background)[0].save(buffer, "PNG")
    return buffer.getvalue()


def test_uploaded_drawing_is_segmented(page, server_url, tmp_path):
    page.goto(f"{server_url}/segmentation")
    wait_idle(page)
    upload_to_picker(page, "seg.image", tmp_path / "drawing.png", png_of_drawing("checkerboard"))
    page.get_by_text("Classes over the picture").wait_for(timeout=30_000)
    assert page.locator(".js-plotly-plot").count() == 2
    assert page.get_by_text("the mask is scaled back to 240 × 240").count() == 1
    legend = page.get_by_test_id("seg-legend")
    assert legend.inner_text().split() == ["circle", "square", "triangle", "star"]
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stAlertContentError']").count() == 0


def test_uploaded_drawing_gets_instances(page, server_url, tmp_path):
    page.goto(f"{server_url}/instance-segmentation")
    wait_idle(page)
    upload_to_picker(page, "inst.image", tmp_path / "drawing.png", png_of_drawing("white"))
    page.get_by_text("4 instances found").wait_for(timeout=30_000)
    assert page.get_by_text("the network saw 128 × 128").count() == 1
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stAlertContentError']").count() == 0


def test_bad_file_on_the_instance_page(page, server_url, tmp_path):
    page.goto(f"{server_url}/instance-segmentation")
    wait_idle(page)
    upload_to_picker(page, "inst.image", tmp_path / "notes.png", b"this is not a picture")
    page.get_by_text("not an image in a supported format").first.wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
