"""Every page in a real Chromium against a live server: no exception, the notes' numbers drawn."""

import re

import pytest
from playwright.sync_api import expect

from cnnlab.i18n import catalog, languages
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
    "object-detection": "Object detection from the inside",
    "training": "Training a CNN",
    "quiz": "Quiz mode",
}


def open_page(page, server_url, path):
    page.goto(f"{server_url}/{path}")
    wait_idle(page)


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_without_exception(page, server_url, path):
    open_page(page, server_url, path)
    assert page.locator("h1").first.inner_text().strip() == PAGES[path]
    assert page.locator("[data-testid='stException']").count() == 0


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


def test_matrix_boxes_show_every_row(page, server_url):
    open_page(page, server_url, "convolution")
    page.get_by_role("tab", name="Step by step").click()
    area = page.locator(".st-key-conv-x textarea")
    expect(area).to_have_value(re.compile(r"^(.*\n){5}.*$"))  # W1's six rows
    assert area.evaluate("e => e.scrollHeight <= e.clientHeight + 1"), "a row is hidden behind a scroll bar"


@pytest.mark.parametrize("lang", list(languages()))
def test_a_link_with_lang_opens_in_that_language(page, server_url, lang):
    open_page(page, server_url, f"convolution?lang={lang}")
    assert page.locator("h1").first.inner_text().strip() == catalog(lang)["conv.title"]
    assert f"lang={lang}" in page.url
