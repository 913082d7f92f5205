"""The self-check section at the end of a lesson page: a question made up by cnnlab.quiz, answered here.

The question lives in st.session_state (its seed, and the kind the student chose), so reruns keep it;
"New question" takes the next seed. Answering reruns only this section (st.fragment). What a student
types is read by cnnlab.quiz.read_answer: unreadable input gets a translated message, never an error.
"""

from __future__ import annotations

import re
import secrets

import numpy as np
import streamlit as st

from cnnlab import quiz
from cnnlab.errors import LessonInputError
from ui.quizview import (
    QUIZ_CSS,
    answer_html,
    answer_text,
    choice_label,
    choices_html,
    inputs_html,
    solution_html,
)
from ui.widgets import MAX_MATRIX_CHARS, lecture, tr, translated_key

MAX_TEXT_CHARS = 60  # the longest number, list or shape a student needs to type, with room to spare
_MARKDOWN = re.compile(r"([\\`*_\[\]<>#|~$])")


def plain(text: str) -> str:
    """Text shown through st.markdown exactly as written: M_in stays M_in, not an italic 'in'."""
    return _MARKDOWN.sub(r"\\\1", text)


def self_check(lesson: str, key: str) -> None:
    """Draw the self-check section of `lesson` (a cnnlab.quiz lesson) at this point of the page.

    key: a prefix unique on the page ('conv.selfcheck'); the section's state is stored under it.
    """
    t = tr()
    with st.expander(t("selfcheck.title"), icon=":material/quiz:", expanded=not lecture()):
        _section(lesson, key)


def _state(key: str) -> dict:
    """seed: the question's seed; score: right and answered counts; seen: questions already scored;
    result: the last check of the current question."""
    if f"{key}.state" not in st.session_state:
        st.session_state[f"{key}.state"] = {
            "seed": secrets.randbelow(1_000_000),
            "right": 0,
            "count": 0,
            "seen": [],
            "result": None,
        }
    return st.session_state[f"{key}.state"]


def _next_question(key: str) -> None:
    state = _state(key)
    state["seed"] += 1
    state["result"] = None


@st.fragment
def _section(lesson: str, key: str) -> None:
    t = tr()
    state = _state(key)
    worked = quiz.worked_for(lesson)
    st.caption(t("selfcheck.intro"))
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    options = ["any", *quiz.lessons()[lesson], *worked]  # a worked example's id ('W7') is its kind
    if st.session_state.get(f"{key}.kind") not in options:
        st.session_state.pop(f"{key}.kind", None)
    choice = "any"
    if len(options) > 2:
        choice = left.selectbox(
            t("selfcheck.kind"),
            options,
            key=translated_key(f"{key}.kind"),
            format_func=lambda k: _kind_name(lesson, k, worked, t),
        )
    right.button(t("selfcheck.new"), key=f"{key}.new", on_click=_next_question, args=(key,), icon=":material/refresh:")
    if choice in worked:
        q = quiz.question("worked", state["seed"], choice)
    else:
        q = quiz.question(lesson, state["seed"], None if choice == "any" else choice)
    qid = f"{q.kind}.{q.seed}"
    st.markdown(plain(quiz.message(q.prompt, t)))
    lang = st.session_state.get("lang", "en")
    shown = inputs_html(q, t, f"{key}-{q.kind}", lang) + choices_html(q, t, f"{key}-{q.kind}", lang)
    if shown:
        st.html(f"<style>{QUIZ_CSS}</style>{shown}")

    with st.form(f"{key}.form", border=False, enter_to_submit=True):
        typed = _answer_input(q, f"{key}.answer.{qid}", t)
        submitted = st.form_submit_button(t("selfcheck.check"), key=f"{key}.check", type="primary")
    if submitted:
        _record(state, q, qid, typed)
    result = state["result"]
    if result and result["id"] == qid:
        _show_result(q, result, key, t)
    st.caption(t("selfcheck.score", right=state["right"], count=state["count"]) + " · " + t("selfcheck.first_counts"))


def _kind_name(lesson: str, kind: str, worked: list[str], t) -> str:
    if kind == "any":
        return t("selfcheck.kind.any")
    return quiz.message(quiz.kind_label("worked" if kind in worked else lesson, kind), t)


def _answer_input(q: quiz.Question, key: str, t):
    """The input that suits q.answer_type; returns what the student entered (text, an index or a cell)."""
    if q.answer_type == "choice":
        return st.radio(
            t("selfcheck.choice"),
            list(range(len(q.choices))),
            index=None,
            key=key,
            format_func=lambda i: choice_label(q, i, t),
            horizontal=True,
        )
    if q.answer_type == "cell":
        rows, cols = np.array(q.inputs["input"]).shape  # the output of max unpooling has the input's shape
        c1, c2 = st.columns(2)
        row = c1.number_input(t("selfcheck.row"), 1, rows, value=None, step=1, key=f"{key}.row")
        col = c2.number_input(t("selfcheck.col"), 1, cols, value=None, step=1, key=f"{key}.col")
        return (row, col)
    hint = t(f"selfcheck.hint.{q.answer_type}")
    if q.answer_type == "matrix":
        rows = len(q.answer)
        value = st.text_area(
            t("selfcheck.answer"), key=key, max_chars=MAX_MATRIX_CHARS, height=max(120, 44 + 30 * rows), width=420
        )
    else:
        value = st.text_input(t("selfcheck.answer"), key=key, max_chars=MAX_TEXT_CHARS, width=420)
    st.caption(hint)
    return value


def _record(state: dict, q: quiz.Question, qid: str, typed) -> None:
    """Check the answer; the first readable answer to each question counts towards the score."""
    try:
        value = quiz.read_answer(q, typed)
    except LessonInputError as err:
        state["result"] = {"id": qid, "error": (err.key, err.values)}
        return
    right = quiz.check(q, value)
    state["result"] = {"id": qid, "right": right}
    if qid not in state["seen"]:
        state["seen"] = [*state["seen"][-199:], qid]  # bounded: a long session keeps the last 200
        state["count"] += 1
        state["right"] += int(right)


def _show_result(q: quiz.Question, result: dict, key: str, t) -> None:
    lang = st.session_state.get("lang", "en")
    if "error" in result:
        err_key, values = result["error"]
        st.warning(LessonInputError(err_key, **values).message(t), icon=":material/edit_note:")
        return
    verdict = t("selfcheck.right") if result["right"] else t("selfcheck.wrong")
    answer = answer_text(q, t, lang)
    line = verdict + (" " + t("selfcheck.answer_is", answer=answer) if answer else "")
    if result["right"]:
        st.success(plain(line), icon=":material/check_circle:")
    else:
        st.error(plain(line), icon=":material/cancel:")
    if q.answer_type == "matrix":
        st.html(answer_html(q, t, lang, f"{key}-answer"))
    st.markdown(f"**{t('selfcheck.solution')}**")
    st.html(f"<style>{QUIZ_CSS}</style>{solution_html(q, t)}")
