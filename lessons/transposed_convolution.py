"""Lesson: transposed convolution ("deconvolution"), cell by cell."""

import numpy as np
import streamlit as st

from cnnlab.arithmetic import transposed_conv_output_size
from cnnlab.errors import LessonInputError
from cnnlab.matrices import matrix_text
from cnnlab.presets import transposed_presets
from cnnlab.steps import conv2d_steps, transposed_conv2d_steps, transposed_conv_as_conv
from ui.matrix_html import MatrixView, mask, progress_view
from ui.widgets import (
    int_input,
    legend,
    matrix_editor,
    preset_select,
    preset_verdict,
    show_error,
    show_matrices,
    step_controls,
    tr,
)

t = tr()
st.title(t("tconv.title"))
st.markdown(t("tconv.intro"))

presets = transposed_presets()


def apply_preset(p) -> None:
    st.session_state["tconv.x"], st.session_state["tconv.w"] = matrix_text(p.input), matrix_text(p.kernel)
    st.session_state["tconv.stride"], st.session_state["tconv.padding"] = p.stride, p.padding
    st.session_state["tconv.output_padding"] = 0
    st.session_state["tconv.scatter.step"] = st.session_state["tconv.direct.step"] = 1


preset = preset_select("tconv.preset", presets, apply_preset, first_visit_key="tconv.x")

c1, c2, c3 = st.columns([2, 2, 2])
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

out_h, out_w = steps[-1].output.shape
k = w.shape[0]
st.latex(
    rf"O = (I - 1)\cdot S + K - 2P + \mathit{{op}} = ({x.shape[0]} - 1)\cdot {stride} + {k} - 2\cdot {padding}"
    rf" + {output_padding} = {out_h}"
)
if preset is not None and preset.id.startswith("W11"):
    st.warning(t("tconv.w11_trap"))

tab_scatter, tab_direct, tab_trap = st.tabs([t("tconv.tab.scatter"), t("tconv.tab.direct"), t("tconv.tab.trap")])

with tab_scatter:
    st.markdown(t("tconv.scatter.intro"))
    legend("input", "kernel", "contribution", "output", "padding")
    full = steps[-1].canvas.shape
    cropped = np.ones(full, dtype=bool)
    cropped[padding : padding + out_h, padding : padding + out_w] = False

    def render_scatter(i: int) -> None:
        step = steps[i]
        block = np.zeros(full, dtype=bool)
        block[step.top : step.top + w.shape[0], step.left : step.left + w.shape[1]] = True
        show_matrices(
            MatrixView(
                x, t("conv.input"), "input", highlight=mask(x.shape, [(step.in_row, step.in_col)]), name="input"
            ),
            "·",
            MatrixView(w, t("conv.kernel"), "kernel", name="kernel"),
            "=",
            MatrixView(step.contribution, t("tconv.contribution"), "contribution", name="contribution"),
        )
        roles = np.where(cropped, "padding", "output")
        matrices = [
            MatrixView(step.canvas, t("tconv.canvas"), roles, highlight=block, name="canvas" if padding else "output")
        ]
        if padding:
            matrices += ["→", MatrixView(step.output, t("tconv.cropped"), "output", name="output")]
        show_matrices(*matrices)
        st.markdown(
            t(
                "tconv.scatter.step",
                row=step.in_row + 1,
                col=step.in_col + 1,
                value=f"{step.value:g}",
                top=step.top + 1,
                left=step.left + 1,
            )
        )
        if i == len(steps) - 1 and preset is not None:
            preset_verdict(preset.id, step.output, preset.expected)

    step_controls("tconv.scatter", len(steps), render_scatter)

with tab_direct:
    if w.shape[0] != w.shape[1]:
        show_error(LessonInputError("error.square_kernel"))
    else:
        direct = transposed_conv_as_conv(x, w, stride=stride, padding=padding, output_padding=output_padding)
        st.markdown(t("tconv.direct.intro", s=stride, zeros=stride - 1, k=k, p=padding, pad=direct.conv_padding))
        show_matrices(
            MatrixView(w, t("conv.kernel"), "kernel"), "→", MatrixView(direct.flipped, t("tconv.flipped"), "kernel")
        )
        legend("input", "inserted", "padding", "kernel", "output")
        roles = np.where(direct.border, "padding", np.where(direct.inserted, "inserted", "input"))
        direct_steps = conv2d_steps(direct.padded, direct.flipped)

        def render_direct(i: int) -> None:
            step = direct_steps[i]
            show_matrices(
                MatrixView(
                    direct.padded,
                    t("tconv.zero_stuffed"),
                    roles,
                    highlight=mask(direct.padded.shape, step.cells),
                    name="direct-input",
                ),
                "∗",
                MatrixView(direct.flipped, t("tconv.flipped"), "kernel"),
                "=",
                progress_view(step, t("conv.output"), name="direct-output"),
            )
            st.code(step.expression(), language=None, wrap_lines=True)

        step_controls("tconv.direct", len(direct_steps), render_direct)
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
