"""A cnnlab.quiz Question as HTML and text, in a session's language (no Streamlit import: testable alone).

Shared by the self-check section under each lesson (ui/selfcheck.py) and the projector's quiz mode
(ui/quizdeck.py). Every text a catalog or a student supplies is escaped here.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable

import numpy as np

from cnnlab import quiz
from cnnlab.arithmetic import layers_from_rows
from cnnlab.i18n import decimal_symbol, number
from ui.matrix_html import MatrixView, row_html

LETTERS = "ABCDEFGH"
INPUT_ROLES = {"input": "input", "kernel": "kernel", "values": "output"}  # the app's colours for each input
BOX_COLOURS = ("#1c7ed6", "#e8590c", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599")

QUIZ_CSS = """
.cl-qtable {border-collapse:collapse; font-variant-numeric:tabular-nums; font-size:1rem;}
.cl-qtable th, .cl-qtable td {border:1px solid #adb5bd; padding:0.15em 0.6em; text-align:center; color:#111;}
.cl-qtable th {background:#f1f3f5; font-weight:600;}
.cl-qtable td {background:#ffffff;}
.cl-qboxes img {background:#ffffff;}
.cl-qsteps {margin:0.2rem 0 0 0; padding-left:1.6em;}
.cl-qsteps li {margin:0.15rem 0;}
.cl-qchoices {margin:0.2rem 0; padding-left:1.8em;}
"""


def text(item: quiz.Text, t: Callable[..., str]) -> str:
    """A prompt, choice or step in the session's language, as plain (unescaped) text."""
    return quiz.message(item, t)


def answer_text(q: quiz.Question, t: Callable[..., str], lang: str) -> str:
    """The right answer written out ('576,000', '0.47', 'B: (−1, 1)', 'row 2, column 3', '7 × 7 × 30');
    '' for a matrix, which is drawn instead (answer_html)."""
    a = q.answer
    if q.answer_type == "int":
        return number(a, lang)
    if q.answer_type == "float":
        return number(a, lang, 2)
    if q.answer_type == "choice":
        letter = LETTERS[a]
        chosen = q.choices[a]
        return f"{letter}: {text(chosen, t)}" if _is_text(chosen) else letter
    if q.answer_type == "indices":
        return ", ".join(str(i) for i in a)
    if q.answer_type == "cell":
        return t("selfcheck.cell", row=a[0], col=a[1])
    if q.answer_type == "shape":
        return " × ".join(str(v) for v in a)
    return ""


def answer_html(q: quiz.Question, t: Callable[..., str], lang: str, name: str, caption: str | None = None) -> str:
    """The right answer: a matrix in the output colour (captioned 'The answer' unless told), or the answer_text."""
    if q.answer_type == "matrix":
        label = t("selfcheck.answer_matrix") if caption is None else caption
        return row_html(MatrixView(np.array(q.answer, float), label, "output", name=name), decimal=decimal_symbol(lang))
    return f'<div class="cl-qanswer">{html.escape(answer_text(q, t, lang))}</div>'


def solution_html(q: quiz.Question, t: Callable[..., str], test_id: str = "selfcheck-solution") -> str:
    """The worked solution as a numbered list."""
    items = "".join(f"<li>{html.escape(text(step, t))}</li>" for step in q.solution)
    return f'<ol class="cl-qsteps" data-testid="{html.escape(test_id)}">{items}</ol>'


def _is_text(choice) -> bool:
    return isinstance(choice, tuple) and len(choice) == 2 and isinstance(choice[0], str)


def choice_label(q: quiz.Question, index: int, t: Callable[..., str]) -> str:
    """'A', or 'A: (−1, 1)' for a choice that is a text rather than a matrix."""
    chosen = q.choices[index]
    return f"{LETTERS[index]}: {text(chosen, t)}" if _is_text(chosen) else LETTERS[index]


def choices_html(q: quiz.Question, t: Callable[..., str], name: str, lang: str = "en") -> str:
    """Matrix choices side by side, captioned 'Option A' ...; text choices as a lettered list."""
    if not q.choices:
        return ""
    if all(_is_text(c) for c in q.choices):
        items = "".join(f"<li>{html.escape(text(c, t))}</li>" for c in q.choices)
        return f'<ol type="A" class="cl-qchoices">{items}</ol>'
    views = [
        MatrixView(np.array(c, float), t("selfcheck.option", letter=LETTERS[i]), "kernel", name=f"{name}-{LETTERS[i]}")
        for i, c in enumerate(q.choices)
    ]
    return row_html(*views, decimal=decimal_symbol(lang))


def inputs_html(q: quiz.Question, t: Callable[..., str], name: str, lang: str = "en") -> str:
    """What the question shows beside its prompt: matrices, a box table with a drawing, a layer table."""
    parts, views = [], []
    for key, value in q.inputs.items():
        caption = t(f"quiz.input.{key}")
        if key in INPUT_ROLES:
            views.append(MatrixView(np.array(value, float), caption, INPUT_ROLES[key], name=f"{name}-{key}"))
        elif key == "boxes":
            parts.append(_boxes_html(value, q.inputs.get("scores"), caption, t, lang))
        elif key == "layers":
            parts.append(_layers_html(value, caption, t))
    if views:
        parts.insert(0, row_html(*views, decimal=decimal_symbol(lang)))
    return "".join(parts)


def _table(caption: str, header: list[str], rows: list[list[str]], test_id: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f'<div class="cl-matrix" data-testid="{test_id}"><div class="cl-caption">{html.escape(caption)}</div>'
        f'<table class="cl-qtable"><tr>{head}</tr>{body}</table></div>'
    )


def _boxes_html(boxes, scores, caption: str, t: Callable[..., str], lang: str) -> str:
    header = [t("selfcheck.col.box"), "x1", "y1", "x2", "y2"] + ([t("selfcheck.col.score")] if scores else [])
    rows = []
    for i, box in enumerate(boxes):
        row = [str(i + 1), *(number(v, lang) for v in box)]
        if scores:
            row.append(number(scores[i], lang, 2))
        rows.append(row)
    return f'<div class="cl-row">{_table(caption, header, rows, "quiz-boxes")}{boxes_svg(boxes)}</div>'


def boxes_svg(boxes, scale: int = 22) -> str:
    """The boxes (xyxy, whole pixels) drawn on a grid, y downwards as in a picture, each with its number;
    x along the top and y down the left are numbered every 2 pixels."""
    size = int(max(max(b[2], b[3]) for b in boxes)) + 1
    margin = 18  # room for the axis numbers
    side = margin + size * scale + 2

    def at(v: float) -> float:
        return margin + 1 + v * scale

    lines = []
    for k in range(size + 1):
        lines.append(f'<line x1="{at(k)}" y1="{margin}" x2="{at(k)}" y2="{side - 1}" stroke="#e9ecef"/>')
        lines.append(f'<line x1="{margin}" y1="{at(k)}" x2="{side - 1}" y2="{at(k)}" stroke="#e9ecef"/>')
        if k % 2 == 0:
            lines.append(f'<text class="ax" x="{at(k)}" y="13" text-anchor="middle">{k}</text>')
            lines.append(f'<text class="ax" x="{margin - 3}" y="{at(k) + 4}" text-anchor="end">{k}</text>')
    shapes = []
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        colour = BOX_COLOURS[i % len(BOX_COLOURS)]
        x, y, w, h = at(x1), at(y1), (x2 - x1) * scale, (y2 - y1) * scale
        shapes.append(
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{colour}" fill-opacity="0.12" '
            f'stroke="{colour}" stroke-width="2.5"/>'
            f'<text x="{x + 4}" y="{y + 14}" fill="{colour}">{i + 1}</text>'
        )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}" viewBox="0 0 {side} {side}">'
        "<style>text {font:700 13px sans-serif;} .ax {font:400 10px sans-serif; fill:#868e96;}</style>"
        f"{''.join(lines)}{''.join(shapes)}</svg>"
    )
    # an image, not inline SVG: st.html's sanitiser drops <svg> but keeps a data: image
    data = base64.b64encode(svg.encode()).decode()
    image = f'<img alt="" width="{side}" height="{side}" src="data:image/svg+xml;base64,{data}">'
    return f'<div class="cl-matrix cl-qboxes">{image}</div>'


def _layers_html(rows, caption: str, t: Callable[..., str]) -> str:
    names = [layer.name for layer in layers_from_rows(list(rows))]
    header = [t("rf.layer"), t("param.kernel"), t("param.stride"), t("param.padding"), t("param.dilation")]
    body = [
        [name, str(r["kernel"]), str(r["stride"]), str(r["padding"]), str(r["dilation"])]
        for name, r in zip(names, rows, strict=True)
    ]
    return _table(caption, header, body, "quiz-layers")


def question_html(q: quiz.Question, t: Callable[..., str], name: str, lang: str = "en") -> str:
    """Inputs and choices of a question, for a page that draws the prompt itself."""
    return inputs_html(q, t, name, lang) + choices_html(q, t, name, lang)
