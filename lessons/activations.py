"""Lesson: activation functions, their derivatives, and what they do to a feature map."""

import numpy as np
import streamlit as st

from cnnlab.activations import FUNCTIONS, RANGES, activate, curve
from cnnlab.errors import LessonInputError
from cnnlab.filters import KERNELS, filter_image
from cnnlab.images import to_gray
from ui.plots import curves_figure, histogram_figure, map_figure
from ui.selfcheck import self_check
from ui.widgets import chart, image_picker, intro, num, pct, show_error, sig, tr, translated_key

NAMES = [n for n in FUNCTIONS if n != "none"]

t = tr()
st.title(t("act.title"))
intro(t("act.intro"))
tab_curves, tab_map, tab_notes = st.tabs([t("act.tab.curves"), t("act.tab.map"), t("act.tab.notes")])


def range_text(name: str) -> str:
    r = RANGES[name]
    low = "−∞" if np.isinf(r.low) else num(r.low).replace("-", "−")
    high = "∞" if np.isinf(r.high) else num(r.high)
    return t("act.interval", open="[" if r.low_closed else "(", low=low, high=high, close="]" if r.high_closed else ")")


@st.fragment
def curves_tab() -> None:
    """The curves tab: its widgets rerun this tab alone, not the whole page."""
    chosen = st.multiselect(
        t("act.functions"),
        NAMES,
        default=["relu", "sigmoid", "tanh"],
        key="act.chosen",
        format_func=lambda n: t(f"activation.{n}"),
        persist_state="session",
    )
    x = np.linspace(-5, 5, 401)
    values = {t(f"activation.{n}"): curve(n, x) for n in chosen}
    c1, c2 = st.columns(2)
    chart(c1, curves_figure(x, {k: v[0] for k, v in values.items()}, t("act.values")), key="act.fig.values")
    chart(c2, curves_figure(x, {k: v[1] for k, v in values.items()}, t("act.derivatives")), key="act.fig.derivatives")
    st.table(
        {
            t("act.function"): [t(f"activation.{n}") for n in NAMES],
            t("act.range"): [range_text(n) for n in NAMES],
            t("act.formula"): [t(f"act.formula.{n}") for n in NAMES],
        }
    )


with tab_curves:
    curves_tab()


@st.fragment
def feature_map_tab() -> None:
    """The map tab: its widgets rerun this tab alone, not the whole page."""
    st.markdown(t("act.map.intro"))
    loaded = image_picker("act.image")
    if loaded is not None:
        c1, c2 = st.columns(2)
        kernel_name = c1.selectbox(
            t("edges.filter"),
            list(KERNELS),
            key=translated_key("act.kernel"),
            persist_state="session",
            format_func=lambda k: t(f"filter.{k}"),
        )
        name = c2.selectbox(
            t("rgb.activation"),
            NAMES,
            key=translated_key("act.function"),
            persist_state="session",
            format_func=lambda n: t(f"activation.{n}"),
        )
        try:
            feature, device = filter_image(to_gray(loaded.image), KERNELS[kernel_name])
        except LessonInputError as err:  # e.g. a picture one pixel high, smaller than the kernel
            show_error(err)
            return
        after = activate(name, feature)
        chart(c1, map_figure(feature, t("act.before"), signed=True), key="act.fig.before")
        chart(
            c2,
            map_figure(after, t("act.after", name=t(f"activation.{name}")), signed=bool((after < 0).any())),
            key="act.fig.after",
        )
        chart(
            st,
            histogram_figure(
                {t("act.before"): feature, t("act.after", name=t(f"activation.{name}")): after}, t("act.histogram")
            ),
            key="act.fig.hist",
        )
        st.markdown(
            t(
                "act.zeros",
                before=pct(float(np.mean(feature == 0))),
                share=pct(float(np.mean(after == 0))),
                name=t(f"activation.{name}"),
            )
        )
        st.caption(t("edges.device", device=device, h=feature.shape[0], w=feature.shape[1]))


with tab_map:
    feature_map_tab()


@st.fragment
def notes_tab() -> None:
    """The notes tab: its widgets rerun this tab alone, not the whole page."""
    st.markdown(t("act.notes.intro"))
    st.success(t("act.notes.relu"))
    st.success(
        t(
            "act.notes.sigmoid",
            low=sig(activate("sigmoid", [-30.0])[0], 2),  # 9.4·10⁻¹⁴ · 9,4·10⁻¹⁴
            high=num(activate("sigmoid", [30.0])[0], 6),
        )
    )
    st.warning(t("act.notes.tanh", low=num(activate("tanh", [-5.0])[0], 4), high=num(activate("tanh", [5.0])[0], 4)))


with tab_notes:
    notes_tab()

self_check("activations", "act.selfcheck")
