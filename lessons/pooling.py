"""Lesson: pooling, unpooling and the ways back up."""

import numpy as np
import streamlit as st

from cnnlab.arithmetic import dense_head_weights
from cnnlab.errors import LessonInputError
from cnnlab.filters import pool_image
from cnnlab.images import to_gray
from cnnlab.matrices import matrix_text
from cnnlab.presets import pooling_presets, worked_examples
from cnnlab.snippets import HEADER, interpolate_code, pool2d_code, unpool_code
from cnnlab.steps import (
    avg_pool2d_steps,
    max_pool2d_steps,
    max_pool_indices,
    max_unpool2d,
    max_unpool2d_steps,
    pad2d,
    transposed_conv2d_steps,
)
from cnnlab.upsampling import upsample_bilinear, upsample_nearest
from ui.matrix_html import MatrixView, mask, padded_roles
from ui.plots import HEIGHT, map_figure
from ui.selfcheck import self_check
from ui.stepper import stepper
from ui.traces import pool_trace, unpool_trace, verdict
from ui.widgets import (
    chart,
    code_export,
    demo_layout,
    field_columns,
    image_picker,
    int_input,
    intro,
    matrix_editor,
    num,
    preset_select,
    preset_verdict,
    show_error,
    show_matrices,
    tr,
    url_choice,
)

POOLED_MARGIN = 50  # the figure's title and margins, in pixels

t = tr()
st.title(t("pool.title"))
intro(t("pool.intro"))
presets = pooling_presets()
tab_steps, tab_unpool, tab_up, tab_gap, tab_photo = st.tabs(
    [t("pool.tab.steps"), t("pool.tab.unpool"), t("pool.tab.up"), t("pool.tab.gap"), t("pool.tab.photo")]
)


@st.fragment
def pooling_steps_tab() -> None:
    """The steps tab: its widgets rerun this tab alone, not the whole page."""

    def apply_preset(p) -> None:
        st.session_state["pool.x"] = matrix_text(p.input)
        st.session_state["pool.k"], st.session_state["pool.s"] = p.kernel_size, p.stride
        st.session_state["pool.p"] = 0

    settings, result = demo_layout()
    with settings:
        preset = preset_select("pool.preset", presets, apply_preset, first_visit_key="pool.x")
        c1, c2 = field_columns([3, 2])
        with c1:
            x = matrix_editor(t("conv.input"), "pool.x", presets["W5"].input)
        with c2:
            mode = url_choice(
                st.radio,
                t("pool.mode"),
                ["max", "avg"],
                key="pool.mode",
                horizontal=True,
                format_func=lambda m: t(f"pool.mode.{m}"),
            )
            kernel = int_input(t("param.kernel"), "pool.k", 3, 1, 8)
            stride = int_input(t("param.stride"), "pool.s", 3, 0, 8)
            padding = int_input(t("param.padding"), "pool.p", 0, 0, 4)
    with result:
        if x is None:
            return
        trace = max_pool2d_steps if mode == "max" else avg_pool2d_steps
        try:
            steps = trace(x, kernel, stride=stride, padding=padding)
        except LessonInputError as err:
            show_error(err)
            return
        xp = pad2d(x, padding)
        expected = preset.expected if preset is not None and mode == "max" else None
        final = verdict(t, preset.id if preset else None, steps[-1].output, expected)
        stepper(
            "pool.steps",
            lambda: pool_trace(t, steps, xp, padded_roles(xp.shape, padding), mode, final),
            legend=("input", "padding", "output"),
            code=lambda: pool2d_code(x, kernel, stride=stride, padding=padding, mode=mode, t=t),
        )
        if preset is not None:
            st.caption(t(f"preset.{preset.id}.note"))


with tab_steps:
    pooling_steps_tab()


@st.fragment
def unpooling_tab() -> None:
    """The unpool tab: its widgets rerun this tab alone, not the whole page."""
    w7 = worked_examples()["W7"]
    st.markdown(t("unpool.intro"))
    x7 = np.array(w7["input"], dtype=float)
    pooled_steps = max_pool2d_steps(x7, 2, stride=2)
    indices = max_pool_indices(pooled_steps, width=4)
    sources = mask(x7.shape, [s.source for s in pooled_steps])
    show_matrices(
        MatrixView(x7, t("conv.input"), "input", highlight=sources, name="w7-input"),
        "→",
        MatrixView(pooled_steps[-1].output, t("unpool.pooled"), "output", name="w7-pooled"),
    )
    st.markdown(t("unpool.switches", indices=", ".join(str(i) for i in indices.ravel())))
    values = matrix_editor(t("unpool.values"), "unpool.values", np.array(w7["unpool_input"], dtype=float))
    if values is not None:
        try:
            unpool_steps = max_unpool2d_steps(values, indices, 2)
        except LessonInputError as err:
            show_error(err)
        else:
            final = verdict(t, "W7", unpool_steps[-1].output, w7["expected_unpool"])
            stepper(
                "unpool.steps",
                lambda: unpool_trace(t, unpool_steps, values, final),
                legend=("input", "output"),
                code=lambda: unpool_code(x7, values, 2, t=t),
            )


with tab_unpool:
    unpooling_tab()


@st.fragment
def upsampling_tab() -> None:
    """The up tab: its widgets rerun this tab alone, not the whole page."""
    st.markdown(t("up.intro"))
    w8 = worked_examples()["W8"]
    small = matrix_editor(t("conv.input"), "up.x", np.array(w8["input"], dtype=float))
    align = st.toggle(t("up.align_corners"), key="up.align", help=t("up.align_help"), persist_state="session")
    if small is not None and small.shape == (2, 2):
        w7 = worked_examples()["W7"]
        w7_indices = max_pool_indices(max_pool2d_steps(w7["input"], 2, stride=2), width=4)
        ones = np.ones((2, 2))
        ways = [
            (upsample_nearest(small, (4, 4)), t("up.nearest"), "up-nearest"),
            (upsample_bilinear(small, (4, 4), align), t("up.bilinear"), "up-bilinear"),
            (max_unpool2d(small, w7_indices, 2), t("up.unpool"), "up-unpool"),
            (transposed_conv2d_steps(small, ones, stride=2)[-1].output, t("up.transposed"), "up-transposed"),
        ]
        show_matrices(*[MatrixView(v, caption, "output", name=name) for v, caption, name in ways])
        preset_verdict("W8", ways[0][0], np.array(w8["expected"]))
        st.caption(t("up.compare"))
        code_export(
            interpolate_code(small, (4, 4), mode="nearest", t=t)
            + "\n"
            + interpolate_code(small, (4, 4), mode="bilinear", align_corners=align, t=t).replace(HEADER, "")
        )
    elif small is not None:
        st.warning(t("up.needs_2x2"))


with tab_up:
    upsampling_tab()


@st.fragment
def global_pooling_tab() -> None:
    """The gap tab: its widgets rerun this tab alone, not the whole page."""
    st.markdown(t("gap.intro"))
    fc = dense_head_weights(7, 7, 1024, 1024, bias=False)
    c1, c2 = st.columns(2)
    c1.metric(t("gap.fc"), num(fc))
    c2.metric(t("gap.gap"), "0")
    st.markdown(t("gap.explain", count=fc, millions=num(fc / 1e6, 2)))


with tab_gap:
    global_pooling_tab()


@st.fragment
def photo_tab() -> None:
    """The photo tab: its widgets rerun this tab alone, not the whole page."""
    st.markdown(t("pool.photo.intro"))
    loaded = image_picker("pool.image")
    if loaded is not None:
        c1, c2 = st.columns(2)
        k = c1.select_slider(t("param.kernel"), [2, 4, 8, 16], key="pool.photo.k", value=4)
        photo_mode = c2.radio(
            t("pool.mode"),
            ["max", "avg"],
            key="pool.photo.mode",
            horizontal=True,
            format_func=lambda m: t(f"pool.mode.{m}"),
        )
        gray = to_gray(loaded.image)
        try:
            pooled, device = pool_image(gray, k, photo_mode)
        except LessonInputError as err:
            show_error(err)
        else:
            h, w = gray.shape
            chart(c1, map_figure(gray, t("pool.photo.before", h=h, w=w), signed=False), key="pool.fig.before")
            # drawn at its true size relative to the input, so the lost resolution shows
            chart(
                c2,
                map_figure(
                    pooled,
                    t("pool.photo.after", h=pooled.shape[0], w=pooled.shape[1]),
                    signed=False,
                    height=POOLED_MARGIN + max(60, (HEIGHT - POOLED_MARGIN) * pooled.shape[0] // h),
                ),
                key="pool.fig.after",
            )
            st.caption(t("pool.photo.device", device=device))


with tab_photo:
    photo_tab()

self_check("pooling", "pool.selfcheck")
