"""Widgets shared by every page: translation, styling, step controls, matrix editor.

This module and the pages are the only Streamlit importers; cnnlab stays headless.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np
import streamlit as st

from cnnlab.errors import LessonInputError
from cnnlab.i18n import DEFAULT_LANGUAGE, translator
from cnnlab.images import FORMATS, ImageInputError, LoadedImage, load_image, sample_images
from cnnlab.matrices import matrix_text, parse_matrix
from ui.matrix_html import MatrixView, legend_html, row_html, style

MAX_MATRIX_CHARS = 2000  # 12 × 12 numbers with room to spare; bounds what one edit can send
SPEEDS = {"slow": 1.6, "normal": 0.9, "fast": 0.4}  # seconds per animation step


def tr() -> Callable[..., str]:
    """This session's translator (the language lives in st.session_state, never globally)."""
    return translator(st.session_state.get("lang", DEFAULT_LANGUAGE))


RELABEL = "_translated_selectboxes"


def translated_key(key: str) -> str:
    """Mark the selectbox `key` as showing translated labels; returns key.

    Streamlit keeps a keyed selectbox's displayed text when only its format_func output changes
    (streamlit#13788), so after a language switch it would still show the old language.
    relabel_selectboxes() re-assigns the values of the boxes marked in the last run, which makes
    the browser draw them again.
    """
    st.session_state.setdefault(RELABEL, set()).add(key)
    return key


def relabel_selectboxes() -> None:
    """on_change of the language selectbox: redraw the translated selectboxes of the page."""
    for key in st.session_state.get(RELABEL, ()):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def forget_translated_selectboxes() -> None:
    """At the start of each run, before the page: only the boxes this run draws get marked."""
    st.session_state[RELABEL] = set()


def inject_style() -> None:
    st.html(style(st.session_state.get("lecture_mode", False)))


def show_matrices(*items: MatrixView | str) -> None:
    st.html(row_html(*items))


def legend(*roles: str) -> None:
    t = tr()
    st.html(legend_html({role: t(f"legend.{role}") for role in roles}))


def matrix_editor(label: str, key: str, default: np.ndarray, help_text: str | None = None) -> np.ndarray | None:
    """A text area of numbers; returns the (H, W) matrix, or None after showing why it is not one."""
    t = tr()
    if key not in st.session_state:
        st.session_state[key] = matrix_text(default)
    text = st.text_area(
        label,
        key=key,
        height=150,
        max_chars=MAX_MATRIX_CHARS,
        help=help_text or t("matrix.help"),
        persist_state="session",
    )
    try:
        return parse_matrix(text)
    except LessonInputError as err:
        st.error(err.message(t))
        return None


def step_controls(key: str, n_steps: int, render: Callable[[int], None]) -> None:
    """Previous / next / play / speed / jump controls over `n_steps` frames; render(i) draws frame i.

    Playing reruns only this fragment every few tenths of a second, so the animation runs
    in the browser without redrawing the rest of the page.
    """
    t = tr()
    index_key, playing_key, speed_key = f"{key}.step", f"{key}.playing", f"{key}.speed"
    st.session_state.setdefault(index_key, 1)
    st.session_state.setdefault(playing_key, False)
    st.session_state.setdefault(speed_key, "normal")
    if not 1 <= st.session_state[index_key] <= n_steps:
        st.session_state[index_key] = min(max(st.session_state[index_key], 1), n_steps)

    def go(to: int) -> None:
        st.session_state[index_key] = min(max(to, 1), n_steps)

    def toggle_play() -> None:
        playing = not st.session_state[playing_key]
        if playing and st.session_state[index_key] >= n_steps:
            st.session_state[index_key] = 1
        st.session_state[playing_key] = playing

    playing = st.session_state[playing_key]
    interval = SPEEDS[st.session_state[speed_key]] if playing else None

    @st.fragment(run_every=interval)
    def frame() -> None:
        if st.session_state[playing_key]:
            if st.session_state[index_key] >= n_steps:
                st.session_state[playing_key] = False
                st.rerun(scope="app")
            elif st.session_state.get(f"{key}.ticked"):
                st.session_state[index_key] += 1
            st.session_state[f"{key}.ticked"] = True
        else:
            st.session_state[f"{key}.ticked"] = False
        cols = st.columns([1, 1, 1.2, 1, 1, 1.8], vertical_alignment="bottom")
        current = st.session_state[index_key]
        buttons = [("first", ":material/first_page:", 1), ("prev", ":material/chevron_left:", current - 1)]
        for col, (name, icon, target) in zip(cols[:2], buttons, strict=True):
            col.button(
                t(f"steps.{name}"),
                key=f"btn.{key}.{name}",
                icon=icon,
                on_click=go,
                args=(target,),
                disabled=current == 1,
                width="stretch",
            )
        if cols[2].button(
            t("steps.pause") if playing else t("steps.play"),
            key=f"btn.{key}.play",
            icon=":material/pause:" if playing else ":material/play_arrow:",
            type="primary",
            width="stretch",
            disabled=n_steps == 1,
        ):
            toggle_play()
            st.rerun(scope="app")  # the fragment's timer is set by the full run
        buttons = [("next", ":material/chevron_right:", current + 1), ("last", ":material/last_page:", n_steps)]
        for col, (name, icon, target) in zip(cols[3:5], buttons, strict=True):
            col.button(
                t(f"steps.{name}"),
                key=f"btn.{key}.{name}",
                icon=icon,
                on_click=go,
                args=(target,),
                disabled=current == n_steps,
                width="stretch",
            )
        cols[5].select_slider(
            t("steps.speed"),
            options=list(SPEEDS),
            key=speed_key,
            format_func=lambda s: t(f"steps.speed.{s}"),
            persist_state="session",
        )
        if n_steps > 1:
            st.slider(t("steps.jump"), 1, n_steps, key=index_key, persist_state="session")
        st.caption(t("steps.position", current=st.session_state[index_key], total=n_steps))
        render(st.session_state[index_key] - 1)

    frame()


def show_error(err: LessonInputError) -> None:
    """An impossible setting, explained on the page in the session's language."""
    st.error(err.message(tr()), icon=":material/error:")


def int_input(label: str, key: str, default: int, min_value: int, max_value: int, help_text: str | None = None) -> int:
    """A whole-number input whose value survives page switches (see keep_widget_state)."""
    st.session_state.setdefault(key, default)
    return int(
        st.number_input(
            label, min_value=min_value, max_value=max_value, step=1, key=key, help=help_text, persist_state="session"
        )
    )


@st.cache_data(max_entries=64, show_spinner=False)
def _decode(data: bytes) -> LoadedImage:
    return load_image(data)


UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]


def image_picker(key: str, default_sample: str | None = None) -> LoadedImage | None:
    """Sample, upload or camera snapshot -> a safely decoded RGB image, or None after saying why.

    The file name and EXIF text are never shown: only what was done to the picture.
    """
    t = tr()
    sources = ["sample", "upload", "camera"]
    source = st.segmented_control(
        t("picker.source"),
        sources,
        key=f"{key}.source",
        default="sample",
        format_func=lambda s: t(f"picker.{s}"),
        persist_state="session",
    )
    if source == "upload":
        upload = st.file_uploader(
            t("picker.upload_label"),
            type=UPLOAD_TYPES,
            key=f"{key}.upload",
            help=t("picker.upload_help", formats=", ".join(FORMATS)),
        )
        data = upload.getvalue() if upload is not None else None
    elif source == "camera":
        shot = st.camera_input(t("picker.camera_label"), key=f"{key}.camera")
        data = shot.getvalue() if shot is not None else None
    else:
        samples = sample_images()
        names = list(samples)
        name = st.selectbox(
            t("picker.sample_label"),
            names,
            index=names.index(default_sample) if default_sample in samples else 0,
            key=translated_key(f"{key}.sample"),
            format_func=lambda n: t(f"sample.{n}"),
            persist_state="session",
        )
        data = samples[name].read_bytes()
    if data is None:
        st.info(t("picker.waiting"))
        return None
    try:
        loaded = _decode(data)
    except ImageInputError as err:
        st.error(err.message(t), icon=":material/broken_image:")
        return None
    for note_key, values in loaded.notes:
        st.caption(t(note_key, **values))
    return loaded


def preset_select(key: str, presets: dict, apply: Callable[[object], None], first_visit_key: str):
    """A select box over the notes' presets plus free play; choosing one calls apply(preset).

    On the first visit (first_visit_key not yet in the session) the first preset is applied.
    Returns the chosen preset, or None in free play.
    """
    t = tr()

    def load() -> None:
        chosen = st.session_state[key]
        if chosen in presets:
            apply(presets[chosen])

    st.selectbox(
        t("preset.label"),
        [*presets, "custom"],
        key=translated_key(key),
        persist_state="session",
        on_change=load,
        format_func=lambda k: t(f"preset.{k}") if k != "custom" else t("preset.custom"),
    )
    if first_visit_key not in st.session_state:
        load()
    return presets.get(st.session_state[key])


def preset_verdict(preset_id: str, output: np.ndarray, expected: np.ndarray) -> None:
    """Say whether the result on screen is exactly the one in the notes."""
    t = tr()
    if np.array_equal(output, expected):
        st.success(t("preset.matches", id=preset_id))
    else:
        st.info(t("preset.edited", id=preset_id))


def colour_chips(items: list[tuple[str, tuple[int, int, int]]], test_id: str, empty: str) -> None:
    """A legend: each name on its colour, in black or white, whichever reads better."""

    def chip(name: str, rgb: tuple[int, int, int]) -> str:
        ink = "black" if 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 150 else "white"
        return (
            f"<span style='background:rgb{tuple(rgb)};color:{ink};padding:2px 8px;border-radius:4px;"
            f"margin-right:4px'>{html.escape(name)}</span>"
        )

    st.html(f"<div data-testid='{test_id}'>{' '.join(chip(n, c) for n, c in items) or html.escape(empty)}</div>")
