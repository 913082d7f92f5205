"""The projector's quiz deck: a Streamlit component (v2, inline, no iframe) showing a batch of questions.

The page renders the whole batch once (prompts, inputs, answers and worked solutions as escaped HTML,
ui/quizview.py); revealing an answer and moving between questions run in the browser (ui/quizdeck.js)
and cost the server nothing. Keys: Space or Enter reveal/hide, → or N next, ← or P previous.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import streamlit as st

from cnnlab import quiz
from ui.matrix_html import MATRIX_CSS
from ui.quizview import QUIZ_CSS, answer_html, question_html, solution_html
from ui.widgets import lecture, tr

DECK_CSS = """
.qd {--cl-font:1.1rem; --qd-text:1.05rem; outline:none; padding:0.3rem 0.2rem; border-radius:0.5rem;
  font-family:var(--st-font, "Source Sans Pro", sans-serif); color:var(--st-text-color, #111);}
.qd-lecture {--cl-font:1.15rem; --qd-text:1.3rem;}
.qd:focus-visible, .qd:focus {box-shadow:0 0 0 2px var(--st-primary-color, #ff4b4b);}
.qd-bar {display:flex; flex-wrap:wrap; gap:0.4rem; align-items:center; margin-bottom:0.5rem; font-size:0.95rem;}
.qd-btn {font:inherit; padding:0.25em 0.9em; border-radius:0.4em; cursor:pointer; min-height:2.1em;
  border:1px solid var(--st-border-color, #ccc); background:var(--st-secondary-background-color, #f0f2f6);
  color:inherit;}
.qd-btn:disabled {opacity:0.4; cursor:default;}
.qd-reveal {background:var(--st-primary-color, #ff4b4b); color:#fff; border-color:transparent; min-width:9em;}
.qd-position {font-variant-numeric:tabular-nums; font-weight:600; margin-left:0.4rem;}
.qd-card {display:grid; grid-template-columns:minmax(0, 1fr); gap:0.8rem; border-radius:0.6rem;
  border:1px solid var(--st-border-color, #d0d7de); padding:0.8rem 1rem;}
@media (min-width: 1000px) {.qd-card {grid-template-columns:minmax(0, 3fr) minmax(0, 2fr);}}
.qd-title {font-size:0.85rem; opacity:0.75; margin-bottom:0.3rem;}
.qd-prompt {font-size:var(--qd-text); line-height:1.4; margin-bottom:0.5rem;}
.qd-body {overflow-x:auto; font-size:calc(var(--qd-text) * 0.85);}
.qd-side {min-width:0;}
.qd-hidden {display:flex; align-items:center; justify-content:center; min-height:6rem; height:100%;
  border:2px dashed var(--st-border-color, #ced4da); border-radius:0.5rem; font-size:3rem; font-weight:700;
  color:#adb5bd; cursor:pointer;}
.qd-hidden[hidden], .qd-answer[hidden] {display:none;}
.qd-answer {padding:0.6rem 0.8rem; border-radius:0.5rem; background:#ebfbee; color:#0b3d1a;
  font-size:calc(var(--qd-text) * 0.8); max-height:calc(100vh - 9rem); overflow:auto;}
.qd-label {font-weight:700; margin:0.2rem 0;}
.qd-answer-body .cl-qanswer {font-size:calc(var(--qd-text) * 1.2); font-weight:700;}
.qd-answer .cl-row {margin:0.2rem 0 0.4rem 0;}
"""

_component = st.components.v2.component(
    "cnnlab_quizdeck",
    css=MATRIX_CSS + QUIZ_CSS + DECK_CSS,
    js=(Path(__file__).with_name("quizdeck.js")).read_text(encoding="utf-8"),
    isolate_styles=True,
)


def deck_labels() -> dict[str, str]:
    """The deck's words in this session's language ({current} and {total} are filled in by the browser)."""
    t = tr()
    return {
        "aria": t("quizmode.aria"),
        "prev": t("quizmode.prev"),
        "next": t("quizmode.next"),
        "reveal": t("quizmode.reveal"),
        "hide": t("quizmode.hide"),
        "answer": t("quizmode.answer"),
        "solution": t("quizmode.solution"),
        "position": t("quizmode.position", current="{current}", total="{total}"),
    }


def deck_item(q: quiz.Question, name: str) -> dict[str, str]:
    """One question as the browser shows it: title and prompt as text, the rest as escaped HTML."""
    t = tr()
    lang = st.session_state.get("lang", "en")
    return {
        "title": quiz.message(quiz.kind_label(q.lesson, q.kind), t),
        "prompt": quiz.message(q.prompt, t),
        "body": question_html(q, t, name, lang),
        "answer": answer_html(q, t, lang, f"{name}-answer", caption=""),  # under the deck's own "Answer"
        "solution": solution_html(q, t, "quiz-solution"),
        "id": f"{q.lesson}/{q.kind}/{q.seed}",
    }


def quiz_deck(key: str, questions: list[quiz.Question]) -> None:
    """Mount the deck for a batch of questions; `key` is unique on the page."""
    items = [deck_item(q, f"{key}-{i}") for i, q in enumerate(questions)]
    # the same batch keeps the lecturer's place across reruns and a language switch; a new batch starts at 1
    sig = hashlib.sha1(json.dumps([i["id"] for i in items]).encode()).hexdigest()[:16]
    _component(
        key=key,
        data={"name": key, "sig": sig, "questions": items, "labels": deck_labels(), "lecture": lecture()},
    )
