"""The one stepper of the app: a Streamlit component (v2, inline, no iframe) that replays a trace.

The page sends the trace once (ui/trace.py); stepping, playing, the speed and jumping run in
the browser and send nothing to the server. Keyboard when it has focus: → next, ← back,
Space play/pause, Home first, End last. The current step is written into the URL
(?<key>=<step>) with history.replaceState, so a copied link reopens the same step.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from cnnlab.errors import LessonInputError
from ui.frame_image import MAX_GIF_FRAMES, SPEEDS, gif_steps, trace_gif
from ui.localise import localised_trace
from ui.matrix_html import MATRIX_CSS
from ui.trace import signature
from ui.widgets import language, show_error, tr

STEPPER_CSS = """
.stp {--cl-font:1.2rem; --stp-text:0.9rem; outline:none; padding:0.3rem 0.2rem;
  border-radius:0.5rem; font-family:var(--st-font, "Source Sans Pro", sans-serif); color:var(--st-text-color, #111);}
.stp-lecture {scroll-margin-top:72px;}
.stp:focus-visible, .stp:focus {box-shadow:0 0 0 2px var(--st-primary-color, #ff4b4b);}
.stp-bar {display:flex; flex-wrap:wrap; gap:0.35rem; align-items:center; margin-bottom:0.4rem;
  font-size:var(--stp-text);}
.stp-btn {font:inherit; padding:0.2em 0.7em; border-radius:0.4em; cursor:pointer; min-height:2em;
  border:1px solid var(--st-border-color, #ccc); background:var(--st-secondary-background-color, #f0f2f6);
  color:inherit;}
.stp-btn:disabled {opacity:0.4; cursor:default;}
.stp-play {background:var(--st-primary-color, #ff4b4b); color:#fff; border-color:transparent; min-width:6.5em;}
.stp-speed {display:inline-flex; gap:0.15rem; align-items:center; margin-left:0.4rem;}
.stp-label {margin-right:0.25rem; opacity:0.8;}
.stp-on {outline:2px solid var(--st-primary-color, #ff4b4b);}
.stp-slider {flex:1 1 5rem; min-width:4rem; accent-color:var(--st-primary-color, #ff4b4b);}
.stp-position {font-variant-numeric:tabular-nums; font-weight:600; min-width:7em;}
.stp-tools {display:inline-flex; gap:0.15rem;}
.stp-body {overflow-x:auto;}
.cl-stack {display:flex; flex-direction:column;} .cl-stack > .cl-row {margin:0.1rem 0;}
.stp-note {font-size:var(--stp-text); margin:0.2rem 0;}
.stp-line {font-size:calc(var(--stp-text) * 0.95); white-space:pre-wrap; word-break:break-word; margin:0.2rem 0;
  padding:0.4em 0.6em; background:var(--st-secondary-background-color, #f0f2f6); border-radius:0.4em;
  font-family:var(--st-code-font, monospace);}
.stp-final:empty {display:none;}
.stp-final {font-size:var(--stp-text); padding:0.5em 0.8em; border-radius:0.4em; margin-top:0.3rem;}
.stp-success {background:#d3f9d8; color:#0b5e1d;} .stp-info {background:#d0ebff; color:#0b3d66;}
.cl-picture-svg {display:block; width:calc(var(--cl-font) * 18); max-width:100%; height:auto;}
.bx {fill:none; vector-effect:non-scaling-stroke; stroke-width:2px;} .bx-off {display:none;}
.bx-candidate {stroke:#4dabf7; stroke-width:1.5px; opacity:0.8;}
.bx-taken {stroke:#e03131; stroke-width:4px;} .bx-kept {stroke:#2f9e44; stroke-width:3px;}
.bx-suppressed {stroke:#868e96; stroke-dasharray:6 4; stroke-width:2px; opacity:0.9;}
.bx-object {stroke:#f59f00; stroke-width:3px;} .bx-anchor {stroke:#7048e8; stroke-width:1.5px;}
.bx-tag {font:600 12px sans-serif; paint-order:stroke; stroke:#fff; stroke-width:3px;}
.bx-tag-taken {fill:#e03131;} .bx-tag-kept {fill:#2f9e44;}
.bx-tag-suppressed {fill:#495057;} .bx-tag-object {fill:#e67700;}
"""

# Predict mode (ui/stepper_predict.js): the switch and score in the bar, the answer box, the hidden cell.
PREDICT_CSS = """
.stp-predict-box {display:inline-flex; gap:0.35rem; align-items:center;}
.stp-predict.stp-on {background:var(--st-primary-color, #ff4b4b); color:#fff; border-color:transparent; outline:none;}
.stp-score {font-variant-numeric:tabular-nums; font-weight:600; white-space:nowrap;}
.stp-ask {display:flex; flex-wrap:wrap; gap:0.4rem; align-items:center; font-size:var(--stp-text); margin:0.2rem 0;}
.stp-ask, .stp-ask ~ .stp-line {scroll-margin-bottom:0.5rem;}
.stp-answer {font:inherit; width:7em; padding:0.2em 0.45em; border-radius:0.4em; color:inherit;
  border:2px solid var(--st-primary-color, #ff4b4b); background:var(--st-background-color, #fff);}
.stp-answer:disabled {border-color:var(--st-border-color, #ccc); opacity:1;}
.stp-verdict:empty {display:none;}
.stp-verdict {font-weight:600; padding:0.15em 0.6em; border-radius:0.4em;}
.stp-verdict-right {background:#d3f9d8; color:#0b5e1d;} .stp-verdict-wrong {background:#ffe3e3; color:#a51111;}
.stp-verdict-bad {color:#a51111;}
.cl-matrix td.cl-ask {background:#fff3bf; font-weight:700;}
.cl-matrix td.cl-pick {cursor:pointer;} .cl-matrix td.cl-pick:hover {background:#fff3bf;}
.cl-matrix td.cl-miss {outline:3px dashed #a51111; outline-offset:-4px;}
"""

_component = st.components.v2.component(
    "cnnlab_stepper",
    css=MATRIX_CSS + STEPPER_CSS + PREDICT_CSS,
    # one ES module: predict mode's functions first, then the stepper that calls them
    js="\n".join((Path(__file__).parent / f).read_text(encoding="utf-8") for f in ("stepper_predict.js", "stepper.js")),
    isolate_styles=True,
)


def stepper_labels() -> dict[str, str]:
    """The stepper's words in this session's language."""
    t = tr()
    return {
        "aria": t("steps.aria"),
        "first": t("steps.first"),
        "prev": t("steps.prev"),
        "play": t("steps.play"),
        "pause": t("steps.pause"),
        "next": t("steps.next"),
        "last": t("steps.last"),
        "speed": t("steps.speed"),
        "speed_slow": t("steps.speed.slow"),
        "speed_normal": t("steps.speed.normal"),
        "speed_fast": t("steps.speed.fast"),
        "jump": t("steps.jump"),
        "position": t("steps.position", current="{current}", total="{total}"),
        "copy": t("steps.copy_link"),
        "copied": t("steps.copied"),
        "png": t("steps.png"),
        **predict_labels(),
    }


def predict_labels() -> dict[str, str]:
    """The words of predict mode ({value}, {right} and {answered} are filled in by the browser)."""
    t = tr()
    words = ("predict", "predict_help", "predict_prompt", "answer_hint", "check")
    words += ("right_cell", "wrong_cell", "not_number", "play_predict")
    return {
        **{k: t(f"steps.{k}") for k in words},
        "right": t("steps.right", value="{value}"),
        "wrong": t("steps.wrong", value="{value}"),
        "score": t("steps.score", right="{right}", answered="{answered}"),
    }


def stepper(
    key: str, build: Callable[[], dict], legend: tuple[str, ...] = (), code: Callable[[], str] | None = None
) -> dict | None:
    """Mount the stepper for the trace build() returns (ui/trace.encode), with its exports; returns the trace.

    `key` names the stepper in the URL and must be unique on the page; code() gives the PyTorch
    snippet that reproduces the result. A trace too long or too large to step through is refused
    with a translated message instead (returns None).
    """
    t = tr()
    try:
        built = build()
    except LessonInputError as err:
        show_error(err)
        return None
    trace = localised_trace(built, language())  # '0,5' in ro, pl, uk, ru; the signature stays the numbers'
    _component(
        key=key,
        data={
            "name": key,
            "trace": trace,
            "sig": signature(built),
            "labels": stepper_labels(),
            "legend": [[role, t(f"legend.{role}")] for role in legend],
            "lecture": bool(st.session_state.get("lecture", False)),
            "speeds": SPEEDS,
        },
    )
    exports(key, trace, code() if code else None)
    return trace


def exports(key: str, trace: dict, code: str | None) -> None:
    """The step-through as an animated GIF at lecture size (made on click) and the PyTorch code."""
    t = tr()
    with st.expander(t("export.title"), icon=":material/download:"):
        # the speed above the columns, in the expander's full width: three words in Russian do not fit a third
        speed = st.segmented_control(
            t("export.gif_speed"),
            list(SPEEDS),
            default="normal",
            key=f"{key}.gif_speed",
            format_func=lambda s: t(f"steps.speed.{s}"),
        )
        left, right = st.columns([1, 2])
        left.download_button(
            t("export.gif"),
            data=lambda: trace_gif(trace, speed or "normal"),
            file_name=f"{key}.gif",
            mime="image/gif",
            on_click="ignore",
            icon=":material/gif_box:",
            key=f"{key}.gif",
        )
        if len(trace["steps"]) > MAX_GIF_FRAMES:
            left.caption(t("export.gif_thinned", count=len(trace["steps"]), frames=len(gif_steps(len(trace["steps"])))))
        left.caption(t("export.png_hint"))
        if code:
            right.caption(t("export.code"))
            right.code(code, language="python")
