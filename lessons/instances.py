"""Lesson: instance segmentation with Mask R-CNN: a box, a class, a score and a mask for every object."""

import streamlit as st

from cnnlab.segmentation import draw_instances, segmentation_models
from ui import inference
from ui.models import class_labeller, inference_caption, model_picker, shared_segmentation_model
from ui.plots import image_figure
from ui.selfcheck import self_check
from ui.widgets import chart, data_table, image_picker, intro, num, num_format, tr

THRESHOLDS = [round(0.05 * i, 2) for i in range(21)]  # 0, 0.05, …, 1
t = tr()
st.title(t("inst.title"))
intro(t("inst.intro"))
c_model, c_image = st.columns(2)
with c_model:
    loaded = model_picker("inst.model", segmentation_models("instance"), shared_segmentation_model, "lab.maskrcnn")
    # select_slider, not slider: a slider's printf format cannot write 0,50 (ro, pl, uk, ru)
    score_threshold = st.select_slider(
        t("inst.score"),
        THRESHOLDS[1:-1],
        0.5,
        format_func=num_format(2),
        key="inst.score",
        help=t("inst.score_help"),
    )
    mask_threshold = st.select_slider(
        t("inst.mask"),
        THRESHOLDS[2:-2],
        0.5,
        format_func=num_format(2),
        key="inst.mask",
        help=t("inst.mask_help"),
    )
with c_image:
    image = image_picker("inst.image", default_sample="generated_scene")
lab = loaded.entry.lab_file is not None


label_text = class_labeller(loaded.name)


if image is None:
    st.info(t("feat.need_image"))
else:
    picture = inference.drawn_picture(image.image)
    result = inference.detection(image.digest, loaded.name, mask_threshold, picture).above(score_threshold)
    names = [label_text(i.label) for i in result.instances]
    drawn = draw_instances(picture, result.instances, len(loaded.class_names), names, lambda s: num(s, 2))
    chart(st, image_figure(drawn, t("inst.figure", count=len(result.instances)), height=660), key="inst.fig")
    if result.instances:
        data_table(
            {
                "#": list(range(1, len(result.instances) + 1)),
                t("inst.col.label"): names,
                t("inst.col.score"): [num(i.score, 3) for i in result.instances],
                t("inst.col.box"): [", ".join(num(v, 0) for v in i.box) for i in result.instances],
                t("inst.col.area"): [num(int(i.mask.sum())) for i in result.instances],
            },
            key="inst.table",
        )
    else:
        st.info(t("inst.none", threshold=score_threshold))
    inference_caption("inst.timing", result, picture.size)
    if lab:
        st.caption(t("inst.lab_note"))
st.markdown(t("inst.how"))

self_check("instances", "inst.selfcheck")
