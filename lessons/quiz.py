"""Quiz mode for the projector: a batch of questions, each answer hidden until the lecturer reveals it.

The batch is made by cnnlab.quiz (the lessons' own functions answer every question) and rendered once;
revealing and moving between questions run in the browser (ui/quizdeck.py), from the keyboard or the
buttons.
"""

import secrets

import streamlit as st

from cnnlab import quiz
from ui.quizdeck import quiz_deck
from ui.widgets import intro, lecture, tr, translated_key, url_choice

BATCH = 20  # questions per batch of a lesson; "New questions" draws the next 20 seeds

t = tr()
st.title(t("quizmode.title"))
if lecture():  # the projector: the question first, under the title; the settings below it
    deck_area, settings = st.container(), st.container()
else:
    settings, deck_area = st.container(), st.container()
with settings:
    intro(t("quizmode.intro"))
    st.caption(t("quizmode.keys"))

if "quiz.base" not in st.session_state:
    st.session_state["quiz.base"] = secrets.randbelow(1_000_000) * BATCH


def new_batch() -> None:
    st.session_state["quiz.base"] += BATCH


lessons = quiz.lessons()
order = ["worked", *(name for name in lessons if name != "worked")]  # the notes' examples first
c1, c2, c3 = settings.columns([2, 2, 1], vertical_alignment="bottom")
with c1:
    lesson = url_choice(
        st.selectbox,
        t("quizmode.lesson"),
        order,
        key=translated_key("quiz.lesson"),
        format_func=lambda name: quiz.message(quiz.lesson_label(name), t),
    )
kinds = lessons[lesson]
with c2:
    kind_key = f"quiz.kind.{lesson}"  # one menu per lesson: each keeps its own choice
    kind = st.selectbox(
        t("quizmode.kind"),
        ["any", *kinds],
        key=translated_key(kind_key),
        format_func=lambda k: t("selfcheck.kind.any") if k == "any" else quiz.message(quiz.kind_label(lesson, k), t),
    )
with c3:
    st.button(t("quizmode.new_batch"), key="quiz.new", on_click=new_batch, icon=":material/refresh:")

base = st.session_state["quiz.base"]
if lesson == "worked":  # every worked example of the notes in order, or the one chosen
    chosen = kinds if kind == "any" else [kind]
    questions = [quiz.worked_question(example, base) for example in chosen]
else:
    questions = [quiz.question(lesson, base + i, None if kind == "any" else kind) for i in range(BATCH)]
with deck_area:
    quiz_deck("quiz.deck", questions)
