"""Lesson: semantic segmentation with a U-Net (or FCN / DeepLabV3): a class for every pixel."""

import streamlit as st

from cnnlab.i18n import date_text
from cnnlab.measured import paper_unet_timings
from cnnlab.segmentation import class_areas, colour_mask, overlay, palette, segmentation_models
from cnnlab.unet import UNet, level_shapes
from ui import inference
from ui.models import class_labeller, inference_caption, model_picker, shared_segmentation_model
from ui.plots import image_figure, map_figure
from ui.selfcheck import self_check
from ui.widgets import chart, colour_chips, image_picker, intro, language, millions, num, pct, tr, translated_key

NET_VIEW_SIZE = 64  # the input side used to show the shapes in the U

t = tr()
st.title(t("seg.title"))
intro(t("seg.intro"))
c_model, c_image = st.columns(2)
with c_model:
    loaded = model_picker("seg.model", segmentation_models("semantic"), shared_segmentation_model, "lab.unet")
with c_image:
    image = image_picker("seg.image", default_sample="generated_scene")
lab = loaded.entry.lab_file is not None


label_of = class_labeller(loaded.name)


def class_name(index: int) -> str:
    return label_of(loaded.class_names[index])


tab_result, tab_net = st.tabs([t("seg.tab.result"), t("seg.tab.net")])
with tab_result:
    if image is None:
        st.info(t("feat.need_image"))
    else:
        picture_used = inference.drawn_picture(image.image)
        result = inference.segmentation(image.digest, loaded.name, picture_used)
        colours = palette(len(loaded.class_names))
        areas = class_areas(result.classes, len(loaded.class_names))
        present = [k for k in range(1, len(areas)) if areas[k] > 0]
        c1, c2 = st.columns(2)
        view = c1.segmented_control(
            t("seg.view"),
            ["overlay", "mask"],
            default="overlay",
            key="seg.view",
            format_func=lambda v: t(f"seg.view.{v}"),
            persist_state="session",
        )
        if view == "mask":
            picture = colour_mask(result.classes, len(loaded.class_names))
        else:
            picture = overlay(picture_used, result.classes)
        chart(c1, image_figure(picture, t("seg.overlay")), key="seg.fig.overlay")
        with c1:
            colour_chips(
                [(class_name(k), tuple(int(v) for v in colours[k])) for k in present], "seg-legend", t("seg.nothing")
            )
        chosen = c2.selectbox(
            t("seg.probability_of"),
            list(range(len(loaded.class_names))),
            index=present[0] if present else 0,
            key=translated_key(f"seg.class.{loaded.name}"),
            format_func=class_name,
        )
        chart(
            c2,
            map_figure(result.probabilities[chosen], t("seg.probability", name=class_name(chosen)), signed=False),
            key="seg.fig.probability",
        )
        shown = [0, *present]
        st.table(
            {t("seg.col.class"): [class_name(k) for k in shown], t("seg.col.area"): [pct(areas[k], 1) for k in shown]}
        )
        inference_caption("seg.timing", result, picture_used.size)
        if lab:
            st.caption(t("seg.lab_note"))


def speed_of_the_notes_unet() -> None:
    """W19: the notes' GPU and CPU times of a 93M-parameter U-Net beside those measured by the benchmark."""
    st.subheader(t("seg.w19.title"))
    st.markdown(t("seg.w19.notes"))
    timings = paper_unet_timings()
    cpu, gpu = timings.get("cpu"), timings.get("cuda")
    c1, c2, c3 = st.columns(3)
    c1.metric(t("seg.w19.notes_speedup"), f"{num(410 / 15, 0)}×")
    for column, timing, device in ((c2, cpu, "CPU"), (c3, gpu, "GPU")):
        if timing is None:
            column.metric(t("seg.w19.here", device=device), "—")
        else:
            column.metric(t("seg.w19.here", device=device), t("seg.w19.ms", ms=num(timing.ms, 0)))
            machine = timing.machine
            if timing.threads:
                machine = t("seg.w19.threads", machine=machine, count=timing.threads)
            when = date_text(timing.date, language())
            column.caption(t("seg.w19.measured", machine=machine, date=when, millions=millions(timing.params)))
    if cpu and gpu:
        st.markdown(t("seg.w19.speedup", speedup=num(cpu.ms / gpu.ms, 0)))
    else:
        st.caption(t("seg.w19.no_gpu", command="python -m benchmarks.segmentation --paper-unet --record"))


with tab_net:
    if isinstance(loaded.model, UNet):
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
        st.caption(t("seg.net.params", count=params, depth=loaded.model.depth, size=NET_VIEW_SIZE))
    else:
        st.markdown(t("seg.net.fcn", count=sum(p.numel() for p in loaded.model.parameters())))
    speed_of_the_notes_unet()

self_check("segmentation", "seg.selfcheck")
