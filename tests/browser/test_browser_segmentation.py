"""Semantic segmentation in Chromium: upload a drawing of shapes, see the overlay, the legend and the areas."""

import io

import pytest

from tests.browser.conftest import wait_idle
from tests.test_segmentation import drawn_scene

pytestmark = pytest.mark.browser


def test_uploaded_drawing_is_segmented(page, server_url, tmp_path):
    page.goto(f"{server_url}/segmentation")
    wait_idle(page)
    page.locator(".st-key-seg-image-source").get_by_role("radio", name="Upload").click()
    wait_idle(page)
    buffer = io.BytesIO()
    drawn_scene("checkerboard")[0].save(buffer, "PNG")
    path = tmp_path / "drawing.png"
    path.write_bytes(buffer.getvalue())
    page.locator(".st-key-seg-image-upload input[type='file']").set_input_files(str(path))
    page.wait_for_timeout(500)
    wait_idle(page)
    page.get_by_text("Classes over the picture").wait_for(timeout=30_000)
    assert page.locator(".js-plotly-plot").count() == 2
    assert page.get_by_text("the mask is scaled back to 240 × 240").count() == 1
    legend = page.get_by_test_id("seg-legend")
    assert legend.inner_text().split() == ["circle", "square", "triangle", "star"]
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stAlertContentError']").count() == 0
