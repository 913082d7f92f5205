"""Lesson: edge detection with convolution kernels (Sobel, Prewitt, Laplacian, ...)."""

import numpy as np
import streamlit as st

from cnnlab.errors import LessonInputError
from cnnlab.filters import KERNELS, SIGNED, filter_image, sobel
from cnnlab.images import to_gray
from cnnlab.presets import worked_examples
from cnnlab.snippets import conv2d_code
from cnnlab.steps import conv2d_steps
from ui.matrix_html import MatrixView
from ui.plots import image_figure, map_figure
from ui.selfcheck import self_check
from ui.stepper import stepper
from ui.traces import conv_trace, verdict
from ui.widgets import (
    chart,
    demo_layout,
    image_picker,
    intro,
    matrix_editor,
    show_error,
    show_matrices,
    tr,
    translated_key,
    url_choice,
)

t = tr()
st.title(t("edges.title"))
intro(t("edges.intro"))
tab_small, tab_photo = st.tabs([t("edges.tab.small"), t("edges.tab.photo")])


@st.fragment
def small_matrices_tab() -> None:
    """The small tab: its widgets rerun this tab alone, not the whole page."""
    w4 = worked_examples()["W4"]
    step_image = np.array(w4["input"], dtype=float)
    cases = {  # preset -> (input, kernel)
        "W4": (step_image, np.array(w4["kernel"], dtype=float)),
        "W6": (step_image.T.copy(), KERNELS["sobel_y"]),
        "W6T": (step_image, KERNELS["sobel_x"]),
    }
    settings, result = demo_layout()
    with settings:
        case = url_choice(
            st.selectbox,
            t("preset.label"),
            list(cases),
            key=translated_key("edges.preset"),
            format_func=lambda k: t(f"edges.preset.{k}"),
        )
        x, kernel = cases[case]
        st.markdown(t(f"edges.preset.{case}.explain"))
    with result:
        steps = conv2d_steps(x, kernel)
        final = verdict(t, "W4", steps[-1].output, w4["expected"]) if case == "W4" else None
        stepper(
            f"edges.{case}",
            lambda: conv_trace(
                t,
                steps,
                x,
                "input",
                kernel,
                input_caption=t("conv.input"),
                names=("edge-input", "edge-kernel", "edge-output"),
                final=final,
            ),
            legend=("input", "kernel", "output"),
            code=lambda: conv2d_code(x, kernel, t=t),
        )


with tab_small:
    small_matrices_tab()


@st.fragment
def photo_tab() -> None:
    """The photo tab: its widgets rerun this tab alone, not the whole page."""
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
                        return
                else:
                    kernel = KERNELS[choice]
                    show_matrices(MatrixView(kernel, t("conv.kernel"), "kernel", name="photo-kernel"))
                response, device = filter_image(gray, kernel)
                signed = choice in SIGNED or (choice == "custom" and bool((response < 0).any()))
        except LessonInputError as err:
            show_error(err)
            return
        c1, c2 = st.columns(2)
        chart(c1, image_figure(np.asarray(loaded.image), t("edges.original")), key="edges.fig.original")
        chart(c2, map_figure(response, t(f"filter.{choice}"), signed), key="edges.fig.response")
        if choice == "sobel_direction":
            st.info(t("edges.direction_why"))
        elif signed:
            st.info(t("edges.signed_why"))
        st.caption(t("edges.device", device=device, w=gray.shape[1], h=gray.shape[0]))


with tab_photo:
    photo_tab()

self_check("edges", "edges.selfcheck")
