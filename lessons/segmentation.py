"""Lesson: semantic segmentation with a U-Net: a class for every pixel."""

import streamlit as st

from cnnlab.errors import LessonInputError
from cnnlab.segmentation import PALETTE, class_areas, get_segmentation_model, overlay, segment, segmentation_models
from cnnlab.unet import level_shapes
from ui.plots import image_figure, map_figure
from ui.widgets import image_picker, tr

NET_VIEW_SIZE = 64  # the input side used to show the shapes in the U

t = tr()
st.title(t("seg.title"))
st.markdown(t("seg.intro"))
c_model, c_image = st.columns(2)
with c_model:
    name = st.selectbox(
        t("models.label"),
        segmentation_models(),
        key="seg.model",
        format_func=lambda n: t(f"model.{n}"),
        persist_state="session",
    )
with c_image:
    image = image_picker("seg.image", default_sample="generated_scene")

try:
    loaded = get_segmentation_model(name)
except LessonInputError as err:
    st.error(err.message(t))
    st.stop()

tab_result, tab_net = st.tabs([t("seg.tab.result"), t("seg.tab.net")])
with tab_result:
    if image is None:
        st.info(t("feat.need_image"))
    else:
        result = segment(image.image, name)
        names = [t(f"seg.class.{n}") for n in result.class_names]
        c1, c2 = st.columns(2)
        c1.plotly_chart(image_figure(overlay(image.image, result.classes), t("seg.overlay")), key="seg.fig.overlay")
        chips = " ".join(
            f"<span style='background:rgb{tuple(int(v) for v in PALETTE[k])};color:white;padding:2px 8px;"
            f"border-radius:4px'>{names[k]}</span>"
            for k in range(1, len(names))
        )
        c1.html(f"<div data-testid='seg-legend'>{chips}</div>")
        chosen = c2.selectbox(
            t("seg.probability_of"), list(range(len(names))), index=1, key="seg.class", format_func=names.__getitem__
        )
        c2.plotly_chart(
            map_figure(result.probabilities[chosen], t("seg.probability", name=names[chosen]), signed=False),
            key="seg.fig.probability",
        )
        areas = class_areas(result.classes, len(names))
        st.table({t("seg.col.class"): names, t("seg.col.area"): [f"{a:.1%}" for a in areas]})
        st.caption(
            t(
                "seg.timing",
                ms=f"{result.seconds * 1000:.0f}",
                device=result.device.upper(),
                w=result.working_size[0],
                h=result.working_size[1],
                W=image.image.width,
                H=image.image.height,
            )
        )
        if name.startswith("lab."):
            st.caption(t("seg.lab_note"))

with tab_net:
    st.markdown(t("seg.net.intro"))
    rows = level_shapes(loaded.model, NET_VIEW_SIZE, NET_VIEW_SIZE)
    st.table(
        {
            t("seg.col.stage"): [t(f"seg.stage.{r.stage}", level=r.level) for r in rows],
            t("seg.col.shape"): [" × ".join(map(str, r.shape)) for r in rows],
            t("seg.col.skip"): [t("seg.skip", level=r.level) if r.skip_joins else "" for r in rows],
        }
    )
    params = sum(p.numel() for p in loaded.model.parameters())
    st.caption(t("seg.net.params", params=f"{params:,}", depth=loaded.model.depth, size=NET_VIEW_SIZE))
