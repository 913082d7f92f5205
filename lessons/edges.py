"""Lesson: edge detection with convolution kernels (Sobel, Prewitt, Laplacian, ...)."""

import numpy as np
import streamlit as st

from cnnlab.errors import LessonInputError
from cnnlab.filters import KERNELS, SIGNED, filter_image, sobel
from cnnlab.images import to_gray
from cnnlab.presets import worked_examples
from cnnlab.steps import conv2d_steps
from ui.matrix_html import MatrixView, mask, progress_view
from ui.plots import image_figure, map_figure
from ui.widgets import (
    image_picker,
    legend,
    matrix_editor,
    preset_verdict,
    show_error,
    show_matrices,
    step_controls,
    tr,
    translated_key,
)

t = tr()
st.title(t("edges.title"))
st.markdown(t("edges.intro"))
tab_small, tab_photo = st.tabs([t("edges.tab.small"), t("edges.tab.photo")])

with tab_small:
    w4 = worked_examples()["W4"]
    step_image = np.array(w4["input"], dtype=float)
    cases = {  # preset -> (input, kernel)
        "W4": (step_image, np.array(w4["kernel"], dtype=float)),
        "W6": (step_image.T.copy(), KERNELS["sobel_y"]),
        "W6T": (step_image, KERNELS["sobel_x"]),
    }
    case = st.selectbox(
        t("preset.label"),
        list(cases),
        key=translated_key("edges.preset"),
        persist_state="session",
        format_func=lambda k: t(f"edges.preset.{k}"),
    )
    x, kernel = cases[case]
    steps = conv2d_steps(x, kernel)
    legend("input", "kernel", "output")

    def render(i: int) -> None:
        step = steps[i]
        show_matrices(
            MatrixView(x, t("conv.input"), "input", highlight=mask(x.shape, step.cells), name="edge-input"),
            "∗",
            MatrixView(kernel, t("conv.kernel"), "kernel", name="edge-kernel"),
            "=",
            progress_view(step, t("conv.output"), name="edge-output"),
        )
        st.code(step.expression(), language=None, wrap_lines=True)
        if i == len(steps) - 1 and case == "W4":
            preset_verdict("W4", step.output, w4["expected"])

    step_controls(f"edges.{case}", len(steps), render)
    st.markdown(t(f"edges.preset.{case}.explain"))

with tab_photo:
    loaded = image_picker("edges.image")
    if loaded is not None:
        gray = to_gray(loaded.image)
        choices = ["sobel_magnitude", "sobel_direction", *KERNELS, "custom"]
        choice = st.selectbox(
            t("edges.filter"),
            choices,
            key=translated_key("edges.filter"),
            persist_state="session",
            format_func=lambda k: t(f"filter.{k}"),
        )
        try:
            if choice in ("sobel_magnitude", "sobel_direction"):
                result = sobel(gray)
                response = result.magnitude if choice == "sobel_magnitude" else result.direction
                signed, device = choice == "sobel_direction", result.device
                show_matrices(
                    MatrixView(KERNELS["sobel_x"], "Gx", "kernel"), MatrixView(KERNELS["sobel_y"], "Gy", "kernel")
                )
            else:
                if choice == "custom":
                    kernel = matrix_editor(t("conv.kernel"), "edges.custom", KERNELS["laplacian"])
                    if kernel is None:
                        st.stop()
                else:
                    kernel = KERNELS[choice]
                    show_matrices(MatrixView(kernel, t("conv.kernel"), "kernel", name="photo-kernel"))
                response, device = filter_image(gray, kernel)
                signed = choice in SIGNED or (choice == "custom" and bool((response < 0).any()))
        except LessonInputError as err:
            show_error(err)
            st.stop()
        c1, c2 = st.columns(2)
        c1.plotly_chart(image_figure(np.asarray(loaded.image), t("edges.original")), key="edges.fig.original")
        c2.plotly_chart(map_figure(response, t(f"filter.{choice}"), signed), key="edges.fig.response")
        if signed:
            st.info(t("edges.signed_why"))
        st.caption(t("edges.device", device=device, h=gray.shape[0], w=gray.shape[1]))
