"""Predict mode in Chromium: the cell about to be computed is hidden, typed answers are checked in the browser."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from cnnlab.i18n import catalog, translator
from cnnlab.presets import conv_presets, pooling_presets, transposed_presets, worked_examples
from cnnlab.steps import (
    avg_pool2d_steps,
    conv2d_steps,
    fmt,
    max_pool2d_steps,
    max_pool_indices,
    max_unpool2d_steps,
    transposed_conv2d_steps,
)
from tests.browser.conftest import wait_idle
from tests.browser.test_browser_stepper import count_sent_frames, open_demo, stepper
from ui.traces import scatter_trace

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parent / "screenshots"
EN = catalog("en")


def cell(s, grid: str, r: int, c: int):
    return s.locator(f"[data-matrix='{grid}'] tr").nth(r).locator("td").nth(c)


def switch_on(page, s) -> None:
    s.locator(".stp-predict").click()
    expect(s).to_have_attribute("data-predict", "on")


def answer(page, s, text: str) -> None:
    """Type into the answer box (it has the focus after a step) and press Enter."""
    box = s.locator(".stp-answer")
    expect(box).to_be_focused()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def test_predict_on_the_convolution_page(page, server_url):
    sent = count_sent_frames(page)
    open_demo(page, server_url, "convolution", "Step by step")
    p = conv_presets()["W1"]
    steps = conv2d_steps(p.input, p.kernel)
    s = stepper(page, "conv.steps")
    s.click()
    page.wait_for_timeout(300)
    before = len(sent)
    switch_on(page, s)
    expect(cell(s, "output", 0, 0)).to_have_text("?")
    expect(s.locator(".stp-line")).to_be_hidden()  # the products would give the answer away
    expect(s.locator(".stp-play")).to_be_disabled()
    answer(page, s, fmt(steps[0].value))  # 9
    expect(s.locator(".stp-ask")).to_have_attribute("data-verdict", "right")
    expect(s.locator(".stp-verdict")).to_have_text(EN["steps.right"].format(value="9"))
    expect(s).to_have_attribute("data-score", "1/1")
    expect(s.locator(".stp-score")).to_have_text(EN["steps.score"].format(right=1, answered=1))
    expect(cell(s, "output", 0, 0)).to_have_text("9")
    expect(s.locator(".stp-line")).to_have_text(steps[0].expression())

    page.keyboard.press("ArrowRight")  # the stepper has the focus again after a check
    expect(s).to_have_attribute("data-step", "2")
    expect(cell(s, "output", 0, 1)).to_have_text("?")
    answer(page, s, "5")
    expect(s.locator(".stp-ask")).to_have_attribute("data-verdict", "wrong")
    expect(s.locator(".stp-verdict")).to_have_text(EN["steps.wrong"].format(value=fmt(steps[1].value)))
    expect(s.locator(".stp-line")).to_have_text(steps[1].expression())  # the products that give it
    expect(cell(s, "output", 0, 1)).to_have_text(fmt(steps[1].value))
    expect(s).to_have_attribute("data-score", "1/2")

    page.keyboard.press("ArrowRight")
    expect(s).to_have_attribute("data-step", "3")
    box = s.locator(".stp-answer")
    expect(box).to_be_focused()
    page.keyboard.type("1")
    for key in ["ArrowRight", "ArrowLeft", "Home", "End", "Space", "ArrowRight"]:
        page.keyboard.press(key)  # the box's keys: they move its caret, never the stepper
    assert s.get_attribute("data-step") == "3" and s.get_attribute("data-playing") == "false"
    assert box.input_value() == "1 "
    page.keyboard.press("Escape")  # leaves the box: the keys step again, on unanswered steps too
    expect(box).not_to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(s).to_have_attribute("data-step", "4")
    expect(box).not_to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(s).to_have_attribute("data-step", "5")
    assert s.get_attribute("data-score") == "1/2"  # steps left unanswered do not count
    page.keyboard.press("Enter")  # back into the box
    expect(box).to_be_focused()
    page.keyboard.press("Escape")

    page.keyboard.press("Home")  # answers stay: step 1 shows its value and verdict
    expect(s.locator(".stp-ask")).to_have_attribute("data-verdict", "right")
    expect(box).to_have_value("9")
    expect(box).to_be_disabled()  # one try a step
    s.locator(".stp-predict").click()  # off: the step-through as usual, Play back
    expect(s).to_have_attribute("data-predict", "off")
    expect(s.locator(".stp-ask")).to_be_hidden()
    expect(s.locator(".stp-play")).to_be_enabled()
    page.wait_for_timeout(300)
    assert len(sent) == before, f"{len(sent) - before} messages went to the server while predicting"


def test_not_a_number_is_said_and_not_counted(page, server_url):
    open_demo(page, server_url, "convolution", "Step by step")
    s = stepper(page, "conv.steps")
    s.click()
    switch_on(page, s)
    answer(page, s, "nine")
    expect(s.locator(".stp-verdict")).to_have_text(EN["steps.not_number"])
    expect(s).to_have_attribute("data-score", "0/0")
    s.locator(".stp-answer").fill("9,0")
    s.locator(".stp-check").click()
    expect(s.locator(".stp-ask")).to_have_attribute("data-verdict", "right")


def test_a_decimal_comma_answer_in_polish(page, server_url):
    open_demo(page, server_url, "pooling", query="?lang=pl&pool.mode=avg")
    p = pooling_presets()["W5"]
    steps = avg_pool2d_steps(p.input, p.kernel_size, stride=p.stride)
    pl = catalog("pl")
    s = stepper(page, "pool.steps")
    s.click()
    s.locator(".stp-predict").click()
    expect(s.locator(".stp-predict")).to_have_text(pl["steps.predict"])
    expect(cell(s, "output", 0, 0)).to_have_text("?")
    typed = fmt(steps[0].value).replace(".", ",")  # 2,89 for 2.888…
    answer(page, s, typed)
    expect(s.locator(".stp-ask")).to_have_attribute("data-verdict", "right")
    expect(s.locator(".stp-score")).to_have_text(pl["steps.score"].format(right=1, answered=1))
    page.keyboard.press("ArrowRight")
    answer(page, s, "2,4")  # 2.33 shown: more than half a unit of the last digit away
    expect(s.locator(".stp-ask")).to_have_attribute("data-verdict", "wrong")
    expect(s.locator(".stp-line")).to_contain_text("/ 9")  # the mean's sum shown after the check


def test_transposed_convolution_asks_a_cell_its_step_finishes(page, server_url):
    open_demo(page, server_url, "transposed-convolution")
    p = transposed_presets()["W9"]
    trace = scatter_trace(translator("en"), transposed_conv2d_steps(p.input, p.kernel), p.input, p.kernel, 0)
    asked = [step["p"] for step in trace["steps"]]
    s = stepper(page, "tconv.scatter")
    s.click()
    switch_on(page, s)
    for k, question in enumerate(asked):
        (_, r, c) = question["c"][0]
        expect(s).to_have_attribute("data-step", str(k + 1))
        expect(cell(s, "output", r, c)).to_have_text("?")
        right = k % 2 == 0
        answer(page, s, fmt(question["v"]) if right else "-77")
        expect(s.locator(".stp-ask")).to_have_attribute("data-verdict", "right" if right else "wrong")
        expect(s.locator(".stp-line")).to_have_text(question["t"])  # every input · weight added into that cell
        expect(cell(s, "output", r, c)).to_have_text(fmt(question["v"]))
        page.keyboard.press("ArrowRight")
    expect(s).to_have_attribute("data-score", "2/4")


def test_unpooling_asks_where_the_value_goes_and_the_score_is_shared(page, server_url):
    w7 = worked_examples()["W7"]
    x7 = np.array(w7["input"], dtype=float)
    indices = max_pool_indices(max_pool2d_steps(x7, 2, stride=2), width=4)
    steps = max_unpool2d_steps(np.array(w7["unpool_input"], dtype=float), indices, 2)
    open_demo(page, server_url, "pooling", "Max unpooling (W7)")
    s = stepper(page, "unpool.steps")
    s.click()
    switch_on(page, s)
    expect(s.locator(".stp-ask-prompt")).to_have_text(
        EN["unpool.predict"].format(value=fmt(steps[0].value), index=steps[0].flat_index)
    )
    expect(s.locator(".stp-answer")).to_be_hidden()  # answered with a click on a cell
    expect(s.locator("[data-matrix='unpooled'] td.cl-hl")).to_have_count(0)  # the red frame would tell
    expect(cell(s, "unpooled", steps[0].out_row, steps[0].out_col)).to_have_text("0")  # so would the value
    wrong = (steps[0].out_row + 1) % 4, steps[0].out_col
    cell(s, "unpooled", *wrong).click()
    expect(s.locator(".stp-ask")).to_have_attribute("data-verdict", "wrong")
    expect(cell(s, "unpooled", *wrong)).to_have_class("cl-output cl-miss")
    expect(cell(s, "unpooled", steps[0].out_row, steps[0].out_col)).to_have_text(fmt(steps[0].value))
    expect(cell(s, "unpooled", steps[0].out_row, steps[0].out_col)).to_have_class("cl-output cl-hl")
    page.keyboard.press("ArrowRight")
    cell(s, "unpooled", steps[1].out_row, steps[1].out_col).click()
    expect(s.locator(".stp-ask")).to_have_attribute("data-verdict", "right")
    expect(s).to_have_attribute("data-score", "1/2")
    page.get_by_role("tab", name=EN["pool.tab.steps"]).click()  # another stepper in this browser tab: the same score
    other = stepper(page, "pool.steps")
    other.click()
    switch_on(page, other)
    expect(other).to_have_attribute("data-score", "1/2")
    expect(other.locator(".stp-score")).to_have_text(EN["steps.score"].format(right=1, answered=2))


@pytest.mark.parametrize(
    "path,tab,name",
    [
        ("convolution", "Step by step", "conv.steps"),
        ("pooling", None, "pool.steps"),
        ("transposed-convolution", None, "tconv.scatter"),
    ],
)
def test_predict_fits_the_lecture_layout(page, server_url, path, tab, name):
    open_demo(page, server_url, path, tab, query="?lecture=true")
    s = stepper(page, name)
    s.click()
    switch_on(page, s)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"lecture-predict-{name}.png"))
    answer(page, s, "1")
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"lecture-predict-{name}-checked.png"))
    viewport = page.viewport_size
    for part in (s.locator(".stp-verdict"), s.locator(".stp-line"), s.locator(".stp-predict")):
        box = part.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], name
    assert page.locator("[data-testid='stException']").count() == 0
    wait_idle(page)
