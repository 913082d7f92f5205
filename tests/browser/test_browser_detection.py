"""The object-detection page in Chromium, in every language: upload a photo, see the network's boxes drawn
over it, and step non-maximum suppression to its end."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from cnnlab.detection import nms_example, nms_steps
from cnnlab.i18n import catalog, languages
from cnnlab.shapes import draw_scene
from tests.browser.conftest import wait_idle

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parent / "screenshots"
EN = catalog("en")


def scene_png(seed: int) -> bytes:
    """A generated scene the lab Mask R-CNN finds shapes in, as a PNG file a student could upload."""
    out = io.BytesIO()
    Image.fromarray(draw_scene(seed, size=256, n_shapes=(3, 4)).image).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("lang", list(languages()))
def test_upload_a_photo_and_step_nms_to_the_end(page, server_url, tmp_path, lang):
    words = catalog(lang)
    page.goto(f"{server_url}/object-detection?lang={lang}")
    wait_idle(page)
    assert page.locator("h1").first.inner_text().strip() == words["det.title"]
    page.locator(".st-key-det-image-source").get_by_role("radio", name=words["picker.upload"]).click()
    wait_idle(page)
    path = tmp_path / "scene.png"
    path.write_bytes(scene_png(21))
    page.locator(".st-key-det-image-upload input[type='file']").set_input_files(str(path))
    page.wait_for_timeout(500)
    wait_idle(page)
    page.get_by_role("tab", name=words["det.tab.nms"]).click()
    stepper = page.locator("[data-testid='stepper'][data-key='det.nms']")
    stepper.wait_for()
    boxes = stepper.locator("svg rect.bx:not(.bx-off)")
    assert boxes.count() >= 2, "the network's boxes are drawn over the uploaded picture"
    stepper.click()
    page.keyboard.press("End")
    expect(stepper).to_have_attribute("data-step", stepper.get_attribute("data-steps"))
    assert stepper.locator("rect.bx-taken, rect.bx-kept").count() >= 1
    assert stepper.locator("rect.bx-candidate").count() == 0, "at the end no box is still waiting"
    verdicts = stepper.locator("[data-matrix='nms-verdict'] td").all_inner_texts()
    assert words["det.nms.kept"] in verdicts and all(verdicts)
    assert stepper.locator(".stp-final.stp-success").inner_text().strip()
    assert page.locator("[data-testid='stException']").count() == 0
    if lang == "en":
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "detection-nms.png"))


def test_predict_which_box_nms_takes_next(page, server_url):
    """Predict mode on NMS: the student clicks the box NMS takes next; the picture does not give it away."""
    example = nms_example()
    order = list(np.argsort(-example.scores, kind="stable"))
    kept = [order.index(i) for i in nms_steps(example.boxes, example.scores, 0.5)[-1].kept]  # rows, best first
    page.goto(f"{server_url}/object-detection?det.nms.source=example")
    wait_idle(page)
    page.get_by_role("tab", name=EN["det.tab.nms"]).click()
    s = page.locator("[data-testid='stepper'][data-key='det.nms']")
    s.click()
    s.locator(".stp-predict").click()
    expect(s).to_have_attribute("data-predict", "on")
    page.keyboard.press("ArrowRight")
    expect(s.locator(".stp-ask-prompt")).to_have_text(EN["det.nms.predict"])
    expect(s.locator("rect.bx-taken")).to_have_count(0)  # nothing red yet: the picture would tell
    wrong = kept[0] + 1
    s.locator("[data-matrix='nms-rank'] td").nth(wrong).click()
    expect(s.locator(".stp-ask")).to_have_attribute("data-verdict", "wrong")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # the step that applies box 1, then the choice of the second
    s.locator("[data-matrix='nms-rank'] td").nth(kept[1]).click()
    expect(s.locator(".stp-ask")).to_have_attribute("data-verdict", "right")
    expect(s).to_have_attribute("data-score", "1/2")
