"""Lesson: transposed convolution ("deconvolution"), cell by cell."""

import numpy as np
import streamlit as st

from cnnlab.arithmetic import transposed_conv_output_size
from cnnlab.errors import LessonInputError
from cnnlab.matrices import matrix_text
from cnnlab.presets import transposed_presets
from cnnlab.snippets import conv_transpose2d_code
from cnnlab.steps import conv2d_steps, transposed_conv2d_steps, transposed_conv_as_conv
from ui.matrix_html import MatrixView
from ui.selfcheck import self_check
from ui.stepper import stepper
from ui.traces import conv_trace, scatter_trace, verdict
from ui.widgets import (
    demo_layout,
    field_columns,
    int_input,
    intro,
    matrix_editor,
    preset_select,
    show_error,
    show_matrices,
    tr,
)

t = tr()
st.title(t("tconv.title"))
intro(t("tconv.intro"))

presets = transposed_presets()


def apply_preset(p) -> None:
    st.session_state["tconv.x"], st.session_state["tconv.w"] = matrix_text(p.input), matrix_text(p.kernel)
    st.session_state["tconv.stride"], st.session_state["tconv.padding"] = p.stride, p.padding
    st.session_state["tconv.output_padding"] = 0


settings, result = demo_layout()
with settings:
    preset = preset_select("tconv.preset", presets, apply_preset, first_visit_key="tconv.x")
    c1, c2, c3 = field_columns([2, 2, 2])
    with c1:
        x = matrix_editor(t("conv.input"), "tconv.x", presets["W9"].input)
    with c2:
        w = matrix_editor(t("conv.kernel"), "tconv.w", presets["W9"].kernel)
    with c3:
        stride = int_input(t("param.stride"), "tconv.stride", 1, 0, 6)
        padding = int_input(t("param.padding"), "tconv.padding", 0, 0, 6)
        output_padding = int_input(
            t("param.output_padding"), "tconv.output_padding", 0, 0, 5, t("tconv.output_padding_help")
        )
    if x is None or w is None:
        st.stop()
    try:
        steps = transposed_conv2d_steps(x, w, stride=stride, padding=padding, output_padding=output_padding)
    except LessonInputError as err:
        show_error(err)
        st.stop()

with result:
    out_h, out_w = steps[-1].output.shape
    k = w.shape[0]
    st.latex(
        rf"O = (I - 1)\cdot S + K - 2P + \mathit{{op}} = ({x.shape[0]} - 1)\cdot {stride} + {k} - 2\cdot {padding}"
        rf" + {output_padding} = {out_h}"
    )
    if preset is not None and preset.id.startswith("W11") and (stride, padding) == (preset.stride, preset.padding):
        st.warning(t("tconv.w11_trap"))
    tab_scatter, tab_direct, tab_trap = st.tabs([t("tconv.tab.scatter"), t("tconv.tab.direct"), t("tconv.tab.trap")])

    with tab_scatter:
        intro(t("tconv.scatter.intro"))
        final = verdict(t, preset.id if preset else None, steps[-1].output, preset.expected if preset else None)
        stepper(
            "tconv.scatter",
            lambda: scatter_trace(t, steps, x, w, padding, final),
            legend=("input", "kernel", "contribution", "output", "padding"),
            code=lambda: conv_transpose2d_code(
                x, w, stride=stride, padding=padding, output_padding=output_padding, t=t
            ),
        )

    with tab_direct:
        if w.shape[0] != w.shape[1]:
            show_error(LessonInputError("error.square_kernel"))
        else:
            direct = transposed_conv_as_conv(x, w, stride=stride, padding=padding, output_padding=output_padding)
            st.markdown(t("tconv.direct.intro", s=stride, count=stride - 1, k=k, p=padding, pad=direct.conv_padding))
            show_matrices(
                MatrixView(w, t("conv.kernel"), "kernel"), "→", MatrixView(direct.flipped, t("tconv.flipped"), "kernel")
            )
            roles = np.where(direct.border, "padding", np.where(direct.inserted, "inserted", "input"))
            stepper(
                "tconv.direct",
                lambda: conv_trace(
                    t,
                    conv2d_steps(direct.padded, direct.flipped),
                    direct.padded,
                    roles,
                    direct.flipped,
                    input_caption=t("tconv.zero_stuffed"),
                    kernel_caption=t("tconv.flipped"),
                    names=("direct-input", "direct-kernel", "direct-output"),
                ),
                legend=("input", "inserted", "padding", "kernel", "output"),
                code=lambda: conv_transpose2d_code(
                    x, w, stride=stride, padding=padding, output_padding=output_padding, t=t
                ),
            )
            st.info(t("tconv.misnomer"))

    with tab_trap:
        st.markdown(t("tconv.trap.intro"))
        w11, w11_p1 = presets["W11"], presets["W11+P1"]
        views = []
        for p in (w11, w11_p1):
            out = transposed_conv2d_steps(p.input, p.kernel, stride=p.stride, padding=p.padding)[-1].output
            size = transposed_conv_output_size(p.input.shape[0], p.kernel.shape[0], p.stride, p.padding)
            views.append(
                MatrixView(
                    out, t("tconv.trap.result", s=p.stride, p=p.padding, o=size), "output", name=f"trap-p{p.padding}"
                )
            )
        show_matrices(
            MatrixView(w11.input, t("conv.input"), "input"), MatrixView(w11.kernel, t("conv.kernel"), "kernel"), *views
        )
        st.markdown(t("tconv.trap.explain"))

self_check("transposed_convolution", "tconv.selfcheck")
