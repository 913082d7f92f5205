"""Every page in a real Chromium against a live server: no exception, the notes' numbers drawn."""

import re

import numpy as np
import pytest

from cnnlab.presets import transposed_presets
from tests.browser.conftest import wait_idle

pytestmark = pytest.mark.browser

PAGES = {
    "": "CNN Lab",
    "convolution": "Convolution",
    "transposed-convolution": "Transposed convolution",
    "feature-maps": "Filters & feature maps",
    "architectures": "Architectures",
    "segmentation": "Semantic segmentation (U-Net)",
    "instance-segmentation": "Instance segmentation (Mask R-CNN)",
}


def drawn(page, name: str) -> np.ndarray:
    table = page.locator(f"[data-matrix='{name}'] table").last
    rows = table.locator("tr").all()
    return np.array([[float(c) if c else np.nan for c in row.locator("td").all_inner_texts()] for row in rows])


def button(page, key: str):
    """The step-control button whose widget key is btn.<key> (Streamlit adds a st-key-* class)."""
    return page.locator(f".st-key-btn-{key.replace('.', '-')} button")


def open_page(page, server_url, path):
    page.goto(f"{server_url}/{path}")
    wait_idle(page)


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_without_exception(page, server_url, path):
    open_page(page, server_url, path)
    assert page.locator("h1").first.inner_text().strip() == PAGES[path]
    assert page.locator("[data-testid='stException']").count() == 0


def test_w9_final_output_on_the_transposed_convolution_page(page, server_url):
    open_page(page, server_url, "transposed-convolution")
    button(page, "tconv.scatter.last").click()
    wait_idle(page)
    np.testing.assert_array_equal(drawn(page, "output"), transposed_presets()["W9"].expected)
    assert page.get_by_text("This is exactly the result of W9").count() == 1
    assert page.locator("[data-testid='stException']").count() == 0


def test_play_animates_and_stops_at_the_end(page, server_url):
    open_page(page, server_url, "transposed-convolution")
    button(page, "tconv.scatter.play").click()
    page.get_by_text("Step 2 of 4").first.wait_for(timeout=20_000)
    page.get_by_text("Step 4 of 4").first.wait_for(timeout=20_000)
    page.get_by_role("button", name="Play").first.wait_for(timeout=10_000)  # back to Play once finished
    np.testing.assert_array_equal(drawn(page, "output"), transposed_presets()["W9"].expected)


def test_switching_to_romanian(page, server_url):
    open_page(page, server_url, "convolution")
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
    page.get_by_role("option", name="Română").click()
    wait_idle(page)
    assert page.locator("h1").first.inner_text().strip() == "Convoluția"
    assert page.locator("[data-testid='stException']").count() == 0


def test_switching_language_relabels_the_open_pages_selectboxes(page, server_url):
    """Streamlit would keep showing the English text of a keyed selectbox (streamlit#13788)."""
    open_page(page, server_url, "instance-segmentation")
    model, sample = page.locator(".st-key-inst-model input"), page.locator(".st-key-inst-image-sample input")
    assert sample.get_attribute("value") == "Generated scene: several shapes"
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
    page.get_by_role("option", name="Română").click()
    wait_idle(page)
    assert model.get_attribute("value").startswith("Mask R-CNN de laborator")
    assert sample.get_attribute("value") == "Scenă generată: mai multe forme"


def test_bad_matrix_gets_a_message_in_the_browser(page, server_url):
    open_page(page, server_url, "convolution")
    page.get_by_role("tab", name="Step by step").click()
    area = page.locator("textarea").first
    area.fill("1 2 3\n4 five 6")
    area.press("Control+Enter")
    wait_idle(page)
    assert page.get_by_text(re.compile('"five" is not a number')).count() == 1
    assert page.locator("[data-testid='stException']").count() == 0
