"""Quiz mode in Chromium: the answer hidden until a key reveals it, the next question by key, nothing sent
to the server meanwhile; and a self-check answered on a lesson page."""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import expect

from cnnlab import quiz
from tests.browser.conftest import wait_idle

pytestmark = pytest.mark.browser


def deck(page):
    return page.locator("[data-testid='quiz-deck']")


def answer_matrix(page, index: int) -> np.ndarray:
    rows = deck(page).locator(f"[data-matrix='quiz.deck-{index}-answer'] tr").all()
    return np.array([[float(c) for c in row.locator("td").all_inner_texts()] for row in rows])


def test_quiz_mode_runs_from_the_keyboard(page, server_url):
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    page.goto(f"{server_url}/quiz")
    wait_idle(page)
    d = deck(page)
    position, prompt, answer = (d.locator(f"[data-testid='quiz-{n}']") for n in ("position", "prompt", "answer"))
    examples = quiz.lessons()["worked"]
    expect(position).to_have_text(f"Question 1 of {len(examples)}")
    assert prompt.inner_text().startswith("W1 from the notes")
    expect(answer).to_be_hidden()
    page.wait_for_timeout(300)
    before = len(sent)

    page.keyboard.press("Space")  # reveal: the notes' W1 result, and its worked solution
    expect(answer).to_be_visible()
    np.testing.assert_array_equal(answer_matrix(page, 0), np.array(quiz.worked_question("W1").answer))
    assert answer.locator("[data-testid='quiz-solution'] li").count() == len(quiz.worked_question("W1").solution)
    page.keyboard.press("Enter")  # hide again
    expect(answer).to_be_hidden()

    page.keyboard.press("ArrowRight")  # the next question, its answer hidden
    expect(position).to_have_text(f"Question 2 of {len(examples)}")
    assert prompt.inner_text().startswith("W2 from the notes")
    expect(answer).to_be_hidden()
    page.keyboard.press("n")
    page.keyboard.press("n")
    expect(position).to_have_text(f"Question 4 of {len(examples)}")
    page.keyboard.press("ArrowLeft")
    expect(position).to_have_text(f"Question 3 of {len(examples)}")
    d.locator(".qd-next").click()  # the buttons do the same
    d.locator(".qd-reveal").click()
    expect(position).to_have_text(f"Question 4 of {len(examples)}")
    expect(answer).to_be_visible()
    np.testing.assert_array_equal(answer_matrix(page, 3), np.array(quiz.worked_question("W4").answer))
    assert len(sent) == before, f"{len(sent) - before} messages went to the server while revealing and moving"


def test_quiz_mode_on_the_projector(page, server_url):
    page.goto(f"{server_url}/quiz?lecture=true&quiz.lesson=pooling")
    wait_idle(page)
    d = deck(page)
    expect(d.locator("[data-testid='quiz-position']")).to_have_text("Question 1 of 20")
    assert "qd-lecture" in d.get_attribute("class")
    page.keyboard.press("Space")
    answer = d.locator("[data-testid='quiz-answer']")
    expect(answer).to_be_visible()
    box = answer.bounding_box()
    assert box["y"] < 720 * 0.6, "the answer shows beside the question, on the projector's first screen"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # no horizontal scrolling


def test_a_self_check_answered_on_its_page(page, server_url):
    page.goto(f"{server_url}/activations")
    wait_idle(page)
    section = page.locator("[data-testid='stExpander']").filter(has_text="Check yourself")
    section.get_by_role("button", name="Check").click()  # nothing chosen yet: a message, not an error
    wait_idle(page)
    expect(section.get_by_text("Pick one of the options first.")).to_be_visible()
    section.locator("label").filter(has_text="A:").first.click()
    section.get_by_role("button", name="Check").click()
    wait_idle(page)
    verdict = section.locator("[data-testid='stAlertContentSuccess'], [data-testid='stAlertContentError']")
    expect(verdict).to_have_count(1)
    expect(section.locator("[data-testid='selfcheck-solution'] li").first).to_be_visible()
    expect(section.get_by_text("Score this session: ")).to_contain_text("/ 1")
    assert page.locator("[data-testid='stException']").count() == 0
