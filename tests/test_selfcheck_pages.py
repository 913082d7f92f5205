"""AppTest: every self-check kind can be answered on its lesson page.

The right answer, typed as a student would, is marked right; a wrong one wrong; text that is no answer
gets the translated message and no exception. One app session per page answers all its kinds in turn.
"""

from __future__ import annotations

import html
import json

import numpy as np
import pytest

from cnnlab import quiz
from cnnlab.errors import LessonInputError
from cnnlab.i18n import catalog, languages, translator
from cnnlab.matrices import matrix_text
from tests.pagehelpers import matrices_in, open_page
from ui.quizview import answer_text

PAGES = {  # page -> (quiz lesson, self-check key)
    "lessons/convolution.py": ("convolution", "conv.selfcheck"),
    "lessons/transposed_convolution.py": ("transposed_convolution", "tconv.selfcheck"),
    "lessons/pooling.py": ("pooling", "pool.selfcheck"),
    "lessons/edges.py": ("edges", "edges.selfcheck"),
    "lessons/activations.py": ("activations", "act.selfcheck"),
    "lessons/architectures.py": ("architectures", "arch.selfcheck"),
    "lessons/features.py": ("features", "feat.selfcheck"),
    "lessons/segmentation.py": ("segmentation", "seg.selfcheck"),
    "lessons/instances.py": ("instances", "inst.selfcheck"),
    "lessons/detection.py": ("detection", "det.selfcheck"),
    "lessons/training.py": ("training", "train.selfcheck"),
}
GROUPING = {"en": ",", "ro": ".", "pl": "\u00a0", "uk": "\u00a0", "ru": "\u00a0"}  # as Babel writes 61 100 840


def section(at, lang: str):
    title = catalog(lang)["selfcheck.title"]
    (found,) = [e for e in at.expander if e.label == title]
    return found


def kinds_on_page(lesson: str) -> list[str]:
    return [*quiz.lessons()[lesson], *quiz.worked_for(lesson)]


def choose(at, key: str, lesson: str, kind: str) -> quiz.Question:
    """Pick the kind in the section's menu; returns the question the page now asks."""
    menus = [s for s in at.selectbox if s.key == f"{key}.kind"]
    if menus:
        menus[0].set_value(kind).run()
    assert not at.exception, at.exception
    seed = at.session_state[f"{key}.state"]["seed"]
    return quiz.question("worked" if kind in quiz.worked_for(lesson) else lesson, seed, kind)


def typed_right(q: quiz.Question, lang: str):
    """The right answer as a student of `lang` would enter it."""
    a = q.answer
    if q.answer_type == "int":
        return f"{a:,}".replace(",", GROUPING[lang]) if a >= 10_000 else str(a)
    if q.answer_type == "float":
        return f"{a:.2f}".replace(".", "," if lang != "en" else ".")
    if q.answer_type == "matrix":
        return matrix_text(np.array(a))
    if q.answer_type in ("choice", "cell"):
        return a
    if q.answer_type == "indices":
        return ", ".join(map(str, a))
    return " × ".join(map(str, a))  # shape


def typed_wrong(q: quiz.Question):
    a = q.answer
    if q.answer_type == "int":
        return str(a + 1)
    if q.answer_type == "float":
        return f"{a + 0.05:.2f}"
    if q.answer_type == "matrix":
        m = np.array(a)
        m[-1, -1] += 1
        return matrix_text(m)
    if q.answer_type == "choice":
        return (a + 1) % len(q.choices)
    if q.answer_type == "cell":
        rows = len(q.inputs["input"])
        return (a[0] % rows + 1, a[1])
    if q.answer_type == "indices":
        return ", ".join(map(str, a[:-1] if len(a) > 1 else (*a, max(a) + 1)))
    return "x".join(map(str, (*a[:-1], a[-1] + 1)))  # shape


def typed_garbage(q: quiz.Question) -> tuple[object, LessonInputError]:
    """Input that is no answer, and the error whose message the page should show."""
    if q.answer_type == "choice":
        return None, LessonInputError("quiz.error.choice")
    if q.answer_type == "cell":
        return (None, None), LessonInputError("quiz.error.empty")
    if q.answer_type == "matrix":
        return "1 2\n3", LessonInputError("matrix.error.ragged", widths="1, 2")
    key = {"int": "number", "float": "number"}.get(q.answer_type, q.answer_type)
    return "abc", LessonInputError(f"quiz.error.{key}", value="abc")


def answer(at, key: str, q: quiz.Question, value) -> None:
    widget = f"{key}.answer.{q.kind}.{q.seed}"
    if q.answer_type == "choice":
        at.radio(key=widget).set_value(value)
    elif q.answer_type == "cell":
        at.number_input(key=f"{widget}.row").set_value(value[0])
        at.number_input(key=f"{widget}.col").set_value(value[1])
    elif q.answer_type == "matrix":
        at.text_area(key=widget).input(value)
    else:
        at.text_input(key=widget).input(value)
    at.button(key=f"{key}.check").click().run()
    assert not at.exception, at.exception


def verdict(at, lang: str) -> str:
    """'right', 'wrong', or the message shown for input that is no answer."""
    box = section(at, lang)
    shown = [("right", e) for e in box.success] + [("wrong", e) for e in box.error]
    shown += [(w.value, w) for w in box.warning]
    assert len(shown) == 1, [e.value for _, e in shown]
    return shown[0][0]


def score(at, lang: str) -> str:
    """The running score, as the section's last caption begins."""
    return section(at, lang).caption[-1].value.split(" · ")[0]


@pytest.mark.parametrize("page", PAGES)
def test_every_kind_is_answered_on_its_page(page):
    lesson, key = PAGES[page]
    at = open_page(page)
    assert not at.exception, at.exception
    t = translator("en")
    kinds = kinds_on_page(lesson)
    garbage_tried = set()
    for n, kind in enumerate(kinds, start=1):
        q = choose(at, key, lesson, kind)
        shown = " ".join(m.value for m in section(at, "en").markdown).replace("\\", "")
        assert quiz.message(q.prompt, t) in shown, kind
        answer(at, key, q, typed_right(q, "en"))
        assert verdict(at, "en") == "right", (kind, q.answer)
        answer(at, key, q, typed_wrong(q))
        assert verdict(at, "en") == "wrong", (kind, q.answer)
        if q.answer_type not in garbage_tried:  # one unreadable answer per kind of input and page
            garbage_tried.add(q.answer_type)
            value, err = typed_garbage(q)
            answer(at, key, q, value)
            assert verdict(at, "en") == err.message(t), kind
        # only the first answer to each question counts: one more answered, one more right
        assert score(at, "en") == t("selfcheck.score", right=n, count=n)


def test_the_solution_follows_an_answer_and_a_new_question_follows_the_button():
    at = open_page("lessons/pooling.py")
    key, t = "pool.selfcheck", translator("en")

    def drawn() -> str:
        return " ".join(h.proto.body for h in section(at, "en").get("html"))

    q = choose(at, key, "pooling", "unpool")
    assert "selfcheck-solution" not in drawn()
    answer(at, key, q, typed_wrong(q))
    assert "selfcheck-solution" in drawn()
    assert all(html.escape(quiz.message(step, t)) in drawn() for step in q.solution)
    seed = at.session_state[f"{key}.state"]["seed"]
    at.button(key=f"{key}.new").click().run()
    assert at.session_state[f"{key}.state"]["seed"] == seed + 1
    assert "selfcheck-solution" not in drawn()


@pytest.mark.parametrize(
    "page,kinds",
    [("lessons/pooling.py", ["avg_cell", "unpool", "W7"]), ("lessons/architectures.py", ["yolo", "gap"])],
)
def test_answering_in_ukrainian(page, kinds):
    lesson, key = PAGES[page]
    at = open_page(page, "uk")
    t = translator("uk")
    for kind in kinds:
        q = choose(at, key, lesson, kind)
        shown = " ".join(m.value for m in section(at, "uk").markdown).replace("\\", "")
        assert quiz.message(q.prompt, t) in shown
        answer(at, key, q, typed_right(q, "uk"))  # 0,25 with a decimal comma; 4 096 grouped
        assert verdict(at, "uk") == "right"
        answer(at, key, q, typed_wrong(q))
        assert verdict(at, "uk") == "wrong"
        value, err = typed_garbage(q)
        answer(at, key, q, value)
        assert verdict(at, "uk") == err.message(t)
    assert section(at, "uk").label == "Перевірте себе"


# --- quiz mode ----------------------------------------------------------------------------------


def deck_data(at) -> dict:
    (found,) = [d for d in (json.loads(e.proto.json) for e in at.get("bidi_component")) if "questions" in d]
    return found


@pytest.mark.parametrize("lang", list(languages()))
def test_quiz_mode_renders_every_worked_example_with_its_answer(lang):
    at = open_page("lessons/quiz.py", lang)
    assert not at.exception, at.exception
    t = translator(lang)
    assert at.title[0].value == t("quizmode.title")
    assert any(c.value == t("quizmode.keys") for c in at.caption)  # the keys are documented on the page
    data = deck_data(at)
    examples = quiz.lessons()["worked"]
    assert [q["title"] for q in data["questions"]] == [t("quiz.kind.worked", id=e) for e in examples]
    base = at.session_state["quiz.base"]
    for item, example in zip(data["questions"], examples, strict=True):
        q = quiz.worked_question(example, base)
        assert item["prompt"] == quiz.message(q.prompt, t)
        if q.answer_type == "matrix":
            drawn = matrices_in(item["answer"])
            np.testing.assert_array_equal(next(iter(drawn.values())), np.array(q.answer))
        assert item["solution"].count("<li>") == len(q.solution)
    assert data["labels"]["position"] == t("quizmode.position", current="{current}", total="{total}")


def test_quiz_mode_batches_of_a_lesson_and_new_questions():
    at = open_page("lessons/quiz.py")
    at.selectbox(key="quiz.lesson").set_value("detection").run()
    base = at.session_state["quiz.base"]
    data = deck_data(at)
    assert len(data["questions"]) == 20
    t = translator("en")
    for i, item in enumerate(data["questions"]):
        q = quiz.question("detection", base + i)
        assert item["prompt"] == quiz.message(q.prompt, t)
        assert item["answer"].count(answer_text(q, t, "en")) == 1
    at.selectbox(key="quiz.kind.detection").set_value("iou").run()
    assert {item["title"] for item in deck_data(at)["questions"]} == {t("quiz.kind.iou")}
    at.button(key="quiz.new").click().run()
    assert at.session_state["quiz.base"] == base + 20
    assert deck_data(at)["sig"] != data["sig"]
    assert not at.exception
