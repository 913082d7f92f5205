"""Widgets shared by every page: translation, styling, step controls, matrix editor.

This module and the pages are the only Streamlit importers; cnnlab stays headless.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np
import streamlit as st

from cnnlab.errors import LessonInputError
from cnnlab.i18n import DEFAULT_LANGUAGE, decimal_symbol, number, percent, significant, translator
from cnnlab.images import FORMATS, ImageInputError, LoadedImage, load_image, sample_images
from cnnlab.matrices import matrix_text, parse_matrix
from ui.localise import localised_figure, plotly_locale
from ui.matrix_html import MatrixView, row_html, style

MAX_MATRIX_CHARS = 2000  # 12 × 12 numbers with room to spare; bounds what one edit can send


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


def language() -> str:
    """This session's language code."""
    return st.session_state.get("lang", DEFAULT_LANGUAGE)


def decimal() -> str:
    """This session's decimal separator: '.' in English, ',' in ro, pl, uk and ru."""
    return decimal_symbol(language())


def sig(value: float, digits: int = 3) -> str:
    """A measured value with `digits` significant digits in this session's language: 0.0123 · 0,0123."""
    return significant(value, language(), digits)


def num(value: float, digits: int | None = None) -> str:
    """A number in this session's language: 61,100,840 · 61.100.840 · 61 100 840; 0.11 · 0,11."""
    return number(value, st.session_state.get("lang", DEFAULT_LANGUAGE), digits)


def num_format(digits: int | None = None) -> Callable[[float], str]:
    """num() for a widget's format_func, with this run's language bound now (Streamlit may call a
    format_func outside the run, e.g. in AppTest). A text is already a label and passes unchanged
    (AppTest's select_slider maps a label to its option through format_func)."""
    lang = language()
    return lambda value: value if isinstance(value, str) else number(value, lang, digits)


def millions(value: float, digits: int = 1) -> str:
    """A count in millions, the language's way: 61.1M · 61,1 mil. · 61,1 mln · 61,1 млн."""
    return tr()("unit.millions", n=num(value / 1e6, digits))


def pct(value: float, digits: int = 0) -> str:
    """A share in this session's language (95%, 95 %)."""
    return percent(value, st.session_state.get("lang", DEFAULT_LANGUAGE), digits)


def lecture() -> bool:
    """Is this session in the lecture (projector) layout?"""
    return bool(st.session_state.get("lecture", False))


LECTURE_CSS = """
<style>
/* Projector layout: every rem-sized text (captions, buttons, tables, legends, markdown) grows by 1/4,
   and the page starts near the top so a step-through's controls and result share one screen. */
html {font-size: 20px;}
[data-testid="stMainBlockContainer"] {padding-top: 3.4rem; padding-bottom: 1rem;}
[data-testid="stMainBlockContainer"] h1 {font-size: 2rem; padding-top: 0;}
</style>
"""


def inject_style() -> None:
    st.html(style(lecture()) + (LECTURE_CSS if lecture() else ""))


def intro(text: str) -> None:
    """A page's or tab's opening paragraph; folded away in the lecture layout, where the lecturer says it."""
    if lecture():
        with st.expander(tr()("lecture.about"), icon=":material/info:"):
            st.markdown(text)
    else:
        st.markdown(text)


def demo_layout() -> tuple:
    """(settings, result) containers of a demo: side by side in the lecture layout, so that on a
    1280×720 projector the settings, the step controls and the result share one screen; one above
    the other otherwise."""
    if lecture():
        return tuple(st.columns([1, 2.8], gap="small"))
    return st.container(), st.container()


def field_columns(spec: list[float]) -> list:
    """Columns for a demo's inputs; stacked in the lecture layout, where the settings column is narrow."""
    if lecture():
        return [st.container() for _ in spec]
    return st.columns(spec)


def data_table(columns: dict[str, list], key: str) -> None:
    """A table of results: sortable and scrollable normally; in the lecture layout an HTML table, whose
    text grows with the rest of the page (st.dataframe draws on a canvas at a fixed font size)."""
    if lecture():
        st.table(columns)
    else:
        st.dataframe(columns, hide_index=True, key=key)


def code_export(code: str) -> None:
    """A PyTorch snippet (cnnlab.snippets) that reproduces what the page shows, folded under its title."""
    t = tr()
    with st.expander(t("export.code_title"), icon=":material/code:"):
        st.caption(t("export.code"))
        st.code(code, language="python")


def chart(where, fig, key: str) -> None:
    """A Plotly chart with lecture-sized fonts when the layout asks, and a PNG download in its toolbar."""
    if lecture():
        fig.update_layout(font=dict(size=18), title_font_size=22)
    localised_figure(fig, language())
    where.plotly_chart(
        fig,
        key=key,
        config={
            "displaylogo": False,
            "toImageButtonOptions": {"format": "png", "scale": 2, "filename": key},
            **plotly_locale(language()),  # the toolbar's tooltips in the page's language
        },
    )


def show_matrices(*items: MatrixView | str) -> None:
    st.html(row_html(*items, decimal=decimal()))


def matrix_editor(label: str, key: str, default: np.ndarray, help_text: str | None = None) -> np.ndarray | None:
    """A text area of numbers; returns the (H, W) matrix, or None after showing why it is not one."""
    t = tr()
    if key not in st.session_state:
        st.session_state[key] = matrix_text(default, decimal())
    text = st.text_area(
        label,
        key=key,
        height=max(150, 40 + 24 * (len(str(st.session_state[key]).splitlines()) + 1)),  # every row visible
        max_chars=MAX_MATRIX_CHARS,
        help=help_text or t("matrix.help"),
        persist_state="session",
        bind="query-params",
    )
    try:
        return parse_matrix(text)
    except LessonInputError as err:
        st.error(err.message(t))
        return None


def show_error(err: LessonInputError) -> None:
    """An impossible setting, explained on the page in the session's language."""
    st.error(err.message(tr()), icon=":material/error:")


def int_input(label: str, key: str, default: int, min_value: int, max_value: int, help_text: str | None = None) -> int:
    """A whole-number input whose value survives page switches and lives in the URL (?key=value)."""
    return int(
        st.number_input(
            label,
            min_value=min_value,
            max_value=max_value,
            value=default,
            step=1,
            key=key,
            help=help_text,
            persist_state="session",
            bind="query-params",
        )
    )


@st.cache_data(max_entries=64, ttl=30 * 60, show_spinner=False)  # bounded: at most 64 pictures of 1 MP
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


def read_url_choice(key: str, options: list) -> None:
    """Before a keyed choice widget: on the session's first run, take its value from ?key= in the URL.

    Streamlit's bind="query-params" writes a choice's displayed (translated) label into the URL, so a
    link would break on a language switch; choices go in the URL by their code instead.
    """
    if key not in st.session_state:
        wanted = st.query_params.get(key)
        match = next((o for o in options if str(o) == wanted), None)
        if match is not None:
            st.session_state[key] = match


def write_url_choice(key: str, value, default) -> None:
    """After a keyed choice widget: ?key=<code> in the URL, or nothing when it is the default."""
    if value == default:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != str(value):
        st.query_params[key] = str(value)


def url_choice(widget: Callable, label: str, options: list, key: str, **kwargs):
    """A selectbox or radio whose choice lives in the URL by its code; the first option is the default."""
    read_url_choice(key, options)
    value = widget(label, options, key=key, persist_state="session", **kwargs)
    write_url_choice(key, value, options[0])
    return value


def preset_select(key: str, presets: dict, apply: Callable[[object], None], first_visit_key: str):
    """A select box over the notes' presets plus free play; choosing one calls apply(preset).

    On the first visit (first_visit_key not yet in the session) the first preset is applied,
    unless the URL carries the matrices (a copied link): then the link's values stand.
    Returns the chosen preset, or None in free play.
    """
    t = tr()

    def load() -> None:
        chosen = st.session_state[key]
        if chosen in presets:
            apply(presets[chosen])

    url_choice(
        st.selectbox,
        t("preset.label"),
        [*presets, "custom"],
        key=translated_key(key),
        on_change=load,
        format_func=lambda k: t(f"preset.{k}") if k != "custom" else t("preset.custom"),
    )
    if first_visit_key not in st.session_state and first_visit_key not in st.query_params:
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
