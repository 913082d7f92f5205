"""Lesson: object detection from the inside — sliding windows, IoU, NMS, anchors, a real Mask R-CNN's stages,
RoI pooling vs RoIAlign, YOLO's grid, softmax and cross-entropy."""

import numpy as np
import streamlit as st

from cnnlab.architectures import yolo_output_shape
from cnnlab.detection import (
    anchor_levels,
    box_overlap,
    matched_anchors,
    nms_example,
    nms_steps,
    roi_align_steps,
    roi_pool_steps,
    sliding_windows,
    softmax_steps,
    yolo_cell,
    yolo_cells,
)
from cnnlab.detection_snippets import nms_code, roi_code, softmax_code
from cnnlab.errors import LessonInputError
from cnnlab.i18n import significant
from cnnlab.models import list_models
from cnnlab.segmentation import segmentation_models
from ui import inference
from ui.detection_plots import BoxLayer, boxes_figure, feature_box_figure, grid_lines, points
from ui.detection_traces import nms_trace, roi_align_trace, roi_pool_trace, softmax_trace
from ui.models import class_labeller, model_picker, shared_model, shared_segmentation_model
from ui.plots import map_figure
from ui.selfcheck import self_check
from ui.stepper import stepper
from ui.widgets import (
    chart,
    data_table,
    image_picker,
    intro,
    language,
    matrix_editor,
    num,
    pct,
    show_error,
    tr,
    translated_key,
    url_choice,
)

WINDOWS = (32, 64, 128, 256)  # window sides a sliding-window detector tries, in pixels
ROI_FEATURE = np.array(  # a small feature map whose values make every bin's maximum and mean easy to check
    [
        [1, 3, 2, 0, 4, 1, 2, 0],
        [0, 5, 1, 2, 6, 3, 1, 2],
        [2, 1, 7, 3, 2, 8, 0, 1],
        [4, 2, 3, 9, 1, 2, 5, 3],
        [1, 6, 2, 1, 3, 4, 2, 7],
        [3, 0, 4, 2, 5, 1, 6, 2],
        [2, 3, 1, 6, 0, 2, 3, 4],
        [0, 1, 2, 3, 4, 5, 6, 7],
    ],
    dtype=float,
)
ROI_BOX = (1.3, 0.6, 5.7, 4.9)  # fractional corners: rounding them is what RoIAlign avoids

t = tr()
st.title(t("det.title"))
intro(t("det.intro"))
c_model, c_image = st.columns(2)
with c_model:
    loaded = model_picker("det.model", segmentation_models("instance"), shared_segmentation_model, "lab.maskrcnn")
with c_image:
    image = image_picker("det.image", default_sample="generated_scene")
label_text = class_labeller(loaded.name)
stages = None
if image is not None:
    picture = inference.drawn_picture(image.image)
    try:
        stages = inference.detector_stages(image.digest, loaded.name, picture)
    except LessonInputError as err:
        show_error(err)
    rgb = np.asarray(picture.convert("RGB"))

tabs = st.tabs(
    [
        t("det.tab.windows"),
        t("det.tab.iou"),
        t("det.tab.nms"),
        t("det.tab.anchors"),
        t("det.tab.inside"),
        t("det.tab.roi"),
        t("det.tab.yolo"),
        t("det.tab.softmax"),
    ]
)


def written(value: float) -> str:
    """A measured number in a sentence: three significant digits, the page's language's way."""
    return significant(value, language())


def tex(value: float, digits: int | None = None) -> str:
    """A number in the page's language inside LaTeX, where a bare comma would add a space."""
    return num(value, digits).replace(",", "{,}")


def need_picture() -> bool:
    if stages is None:
        st.info(t("feat.need_image"))
        return True
    return False


@st.fragment
def windows_tab() -> None:
    st.markdown(t("det.windows.intro"))
    if need_picture():
        return
    overlap = st.select_slider(
        t("det.windows.overlap"), [0.0, 0.25, 0.5, 0.75], value=0.5, key="det.windows.overlap", format_func=pct
    )
    width, height = picture.size
    scales = sliding_windows((width, height), WINDOWS, overlap)
    total = sum(s.count for s in scales)
    data_table(
        {
            t("det.windows.col.window"): [f"{s.window} × {s.window}" for s in scales],
            t("det.windows.col.stride"): [num(s.stride) for s in scales],
            t("det.windows.col.positions"): [f"{s.positions[0]} × {s.positions[1]}" for s in scales],
            t("det.windows.col.forwards"): [num(s.count) for s in scales],
        },
        key="det.windows.table",
    )
    c1, c2 = st.columns(2)
    c1.metric(t("det.windows.total"), num(total))
    c2.metric(t("det.windows.detector"), "1")
    st.markdown(
        t(
            "det.windows.cost",
            total=num(total),
            ms=num(stages.seconds * 1000, 0),
            w=width,
            h=height,
            scales=len(scales),
        )
    )
    if scales:
        shown = scales[min(1, len(scales) - 1)]
        xs = np.arange(shown.positions[1]) * shown.stride
        ys = np.arange(shown.positions[0]) * shown.stride
        grid = np.array([[x, y, x + shown.window, y + shown.window] for y in ys for x in xs], dtype=float)
        layers = [BoxLayer(grid, "#4dabf7", t("det.windows.legend", window=shown.window), 1, opacity=0.6)]
        layers.append(BoxLayer(grid[:1], "#e03131", t("det.windows.first"), 3))
        chart(st, boxes_figure(rgb, layers, t("det.windows.figure", window=shown.window)), key="det.windows.fig")


with tabs[0]:
    windows_tab()


@st.fragment
def iou_tab() -> None:
    st.markdown(t("det.iou.intro"))
    left, right = st.columns([1, 2])
    with left:
        boxes = []
        for name, default in (("a", (20, 20, 120, 100)), ("b", (60, 50, 170, 130))):
            st.markdown(t(f"det.iou.box_{name}"))
            cols = st.columns(4)
            boxes.append(
                [
                    cols[k].number_input(
                        label, 0, 200, default[k], 1, key=f"det.iou.{name}{label}", persist_state="session"
                    )
                    for k, label in enumerate(("x1", "y1", "x2", "y2"))
                ]
            )
    a, b = np.array(boxes, dtype=float)
    if a[2] <= a[0] or a[3] <= a[1] or b[2] <= b[0] or b[3] <= b[1]:
        left.error(t("det.iou.empty_box"), icon=":material/error:")
        return
    o = box_overlap(a, b)
    canvas = np.full((150, 200, 3), 248, dtype=np.uint8)
    layers = [
        BoxLayer(a[None], "#1c7ed6", "A", 3, ["A"]),
        BoxLayer(b[None], "#f08c00", "B", 3, ["B"]),
    ]
    if o.intersection_box:
        layers.append(BoxLayer(np.array([o.intersection_box]), "#e03131", t("det.iou.intersection"), 2, dash="dot"))
    with right:
        chart(st, boxes_figure(canvas, layers, t("det.iou.figure"), height=380), key="det.iou.fig")
    st.latex(
        rf"\mathrm{{IoU}} = \frac{{|A \cap B|}}{{|A| + |B| - |A \cap B|}} = \frac{{{tex(o.intersection)}}}"
        rf"{{{tex(o.area_a)} + {tex(o.area_b)} - {tex(o.intersection)}}} = \frac{{{tex(o.intersection)}}}"
        rf"{{{tex(o.union)}}} = {tex(o.iou, 3)}"
    )
    st.caption(t("det.iou.rule"))


with tabs[1]:
    iou_tab()


@st.fragment
def nms_tab() -> None:
    st.markdown(t("det.nms.intro"))
    source = url_choice(
        st.radio,
        t("det.nms.source"),
        ["detector", "example"],
        key="det.nms.source",
        horizontal=True,
        format_func=lambda s: t(f"det.nms.source.{s}"),
    )
    c1, c2 = st.columns(2)
    threshold = c1.select_slider(
        t("det.nms.threshold"),
        [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
        value=0.5,
        key="det.nms.threshold",
        format_func=lambda v: num(v, 1),
    )
    if source == "example":
        example = nms_example()
        shown_picture, boxes, scores = example.picture, example.boxes, example.scores
        caption = t("det.nms.example_caption")
    else:
        if need_picture():
            return
        candidates = {label: stages.head_candidates(label) for label in range(1, len(stages.class_names))}
        found = [label for label, (boxes, _) in candidates.items() if len(boxes)]
        if not found:
            st.info(t("det.nms.no_proposals"))
            return
        label = c2.selectbox(
            t("det.nms.class"),
            sorted(found, key=lambda k: -len(candidates[k][0])),
            key=translated_key("det.nms.class"),
            format_func=lambda k: t(
                "det.nms.class_option", name=label_text(stages.class_names[k]), count=len(candidates[k][0])
            ),
        )
        top = c2.slider(t("det.nms.top"), 2, 30, 15, key="det.nms.top")
        boxes, scores = (v[:top] for v in candidates[label])
        shown_picture = picture
        caption = t("det.nms.detector_caption", count=len(boxes), name=label_text(stages.class_names[label]))
    steps = nms_steps(boxes, scores, threshold)
    stepper(
        "det.nms",
        lambda: nms_trace(t, shown_picture, boxes, scores, steps, threshold, caption, lambda v: num(v, 4), written),
        code=lambda: nms_code(boxes, scores, threshold),
    )
    st.caption(t("det.nms.legend"))
    st.info(t("det.nms.overfeat"))


with tabs[2]:
    nms_tab()


@st.fragment
def anchors_tab() -> None:
    st.markdown(t("det.anchors.intro"))
    if need_picture():
        return
    levels = anchor_levels(stages, loaded)
    data_table(
        {
            t("det.anchors.col.level"): [lv.name for lv in levels],
            t("det.anchors.col.feature"): [f"{lv.feature_size[0]} × {lv.feature_size[1]}" for lv in levels],
            t("det.anchors.col.stride"): [f"{lv.stride[0]} × {lv.stride[1]}" for lv in levels],
            t("det.anchors.col.sizes"): [", ".join(str(s) for s in lv.sizes) for lv in levels],
            t("det.anchors.col.ratios"): [", ".join(num(r, 1) for r in lv.aspect_ratios) for lv in levels],
            t("det.anchors.col.count"): [num(len(lv.boxes)) for lv in levels],
        },
        key="det.anchors.table",
    )
    st.markdown(t("det.anchors.total", count=num(sum(len(lv.boxes) for lv in levels)), levels=len(levels)))
    names = [lv.name for lv in levels]
    level_name = (
        st.segmented_control(t("det.anchors.level"), names, default=names[0], key="det.anchors.level") or names[0]
    )
    level = levels[names.index(level_name)]
    k = level.per_location
    h, w = level.feature_size
    centre = ((h // 2) * w + w // 2) * k  # the anchors of the map's middle location
    layers = [BoxLayer(level.boxes[centre : centre + k], "#7048e8", t("det.anchors.at_centre", count=k), 1.5)]
    objects = stages.boxes[stages.scores >= 0.5]
    if len(objects):
        matches = matched_anchors(level.boxes, objects)
        matched = np.concatenate([level.boxes[m[:3]] for m in matches])
        layers.append(BoxLayer(objects, "#f59f00", t("det.anchors.objects"), 3))
        layers.append(BoxLayer(matched, "#2f9e44", t("det.anchors.matched"), 2, dash="dot"))
        counts = ", ".join(str(len(m)) for m in matches)
    chart(st, boxes_figure(rgb, layers, t("det.anchors.figure", level=level.name)), key="det.anchors.fig")
    if len(objects):
        st.caption(t("det.anchors.match_note", counts=counts))
    else:
        st.caption(t("det.anchors.no_objects"))


with tabs[3]:
    anchors_tab()


@st.fragment
def inside_tab() -> None:
    st.markdown(t("det.inside.intro"))
    if need_picture():
        return
    before, after = stages.before_nms, stages.after_nms
    top = st.slider(t("det.inside.top"), 5, 300, 50, 5, key="det.inside.top")
    c1, c2 = st.columns(2)
    chart(
        c1,
        boxes_figure(
            rgb,
            [BoxLayer(before.boxes[:top], "#4dabf7", "", 1.2, opacity=0.8)],
            t("det.inside.before", shown=min(top, len(before.boxes)), total=len(before.boxes)),
            height=420,
        ),
        key="det.inside.before",
    )
    chart(
        c2,
        boxes_figure(
            rgb,
            [BoxLayer(after.boxes[:top], "#2f9e44", "", 1.5)],
            t("det.inside.after", shown=min(top, len(after.boxes)), total=len(after.boxes)),
            height=420,
        ),
        key="det.inside.after",
    )
    st.markdown(t("det.inside.heads"))
    classes = stages.class_scores[:8]
    names = [label_text(c) for c in stages.class_names]
    best = classes[:, 1:].argmax(axis=1) + 1 if classes.shape[1] > 1 else np.zeros(len(classes), dtype=int)
    data_table(
        {
            "#": list(range(1, len(classes) + 1)),
            t("det.inside.col.objectness"): [num(v, 3) for v in after.objectness[:8]],
            t("det.inside.col.background"): [pct(v, 1) for v in classes[:, 0]],
            t("det.inside.col.best"): [names[i] for i in best],
            t("det.inside.col.best_p"): [pct(classes[r, i], 1) for r, i in enumerate(best)],
        },
        key="det.inside.table",
    )
    found = [
        f"{label_text(stages.class_names[label])} {num(score, 2)}"
        for label, score in zip(stages.labels, stages.scores, strict=True)
    ]
    chart(
        st,
        boxes_figure(
            rgb,
            [BoxLayer(stages.boxes, "#e03131", "", 3, found)],
            t("det.inside.final", count=len(stages.boxes)),
        ),
        key="det.inside.final",
    )
    if len(stages.masks):
        st.markdown(t("det.inside.masks", side=stages.masks.shape[-1]))
        columns = st.columns(min(4, len(stages.masks)))
        for k, (mask, text) in enumerate(list(zip(stages.masks, found, strict=True))[:8]):
            chart(
                columns[k % len(columns)],
                map_figure(mask, f"{k + 1}: {text}", signed=False, height=240),
                key=f"det.inside.mask{k}",
            )
    st.caption(
        t(
            "det.inside.timing",
            ms=num(stages.seconds * 1000, 0),
            device=stages.device.upper(),
            w=stages.working_size[0],
            h=stages.working_size[1],
        )
    )


with tabs[4]:
    inside_tab()


@st.fragment
def roi_tab() -> None:
    st.markdown(t("det.roi.intro"))
    left, right = st.columns([1, 1])
    with left:
        feature = matrix_editor(t("det.roi.feature"), "det.roi.feature", ROI_FEATURE)
        cols = st.columns(4)
        box = [
            cols[k].number_input(
                label, -2.0, 20.0, ROI_BOX[k], 0.1, key=f"det.roi.{label}", format="%.1f", persist_state="session"
            )
            for k, label in enumerate(("x1", "y1", "x2", "y2"))
        ]
        c1, c2 = st.columns(2)
        size = c1.number_input(t("det.roi.size"), 1, 4, 2, key="det.roi.size", persist_state="session")
        ratio = c2.number_input(t("det.roi.ratio"), 1, 4, 2, key="det.roi.ratio", persist_state="session")
        aligned = st.toggle(t("det.roi.aligned"), True, key="det.roi.aligned", help=t("det.roi.aligned_help"))
    if feature is None:
        return
    try:
        pool = roi_pool_steps(feature, box, int(size))
        align = roi_align_steps(feature, box, int(size), sampling_ratio=int(ratio), aligned=aligned)
    except LessonInputError as err:
        show_error(err)
        return
    x1, y1, x2, y2 = pool[0].roi
    samples = [(p.y, p.x) for s in align for p in s.points]
    with right:
        chart(
            st,
            feature_box_figure(
                feature,
                t("det.roi.figure"),
                align[0].roi,
                (x1, y1, x2, y2),
                samples,
                (t("det.roi.legend.box"), t("det.roi.legend.pooled"), t("det.roi.legend.samples")),
            ),
            key="det.roi.fig",
        )
    st.markdown(t("det.roi.quantised", x1=x1 + 1, y1=y1 + 1, x2=x2 + 1, y2=y2 + 1))
    tab_pool, tab_align = st.tabs([t("det.roi.tab.pool"), t("det.roi.tab.align")])
    with tab_pool:
        stepper(
            "det.roi.pool",
            lambda: roi_pool_trace(t, feature, pool),
            legend=("input", "output"),
            code=lambda: roi_code(feature, box, int(size), int(ratio), aligned),
        )
    with tab_align:
        stepper(
            "det.roi.align",
            lambda: roi_align_trace(t, feature, align),
            legend=("input", "output"),
            code=lambda: roi_code(feature, box, int(size), int(ratio), aligned),
        )
    st.info(t("det.roi.why"))


with tabs[5]:
    roi_tab()


@st.fragment
def yolo_tab() -> None:
    st.markdown(t("det.yolo.intro"))
    c1, c2, c3 = st.columns(3)
    grid = c1.number_input(t("det.yolo.grid"), 1, 19, 7, key="det.yolo.grid", persist_state="session")
    per_cell = c2.number_input(t("det.yolo.boxes"), 1, 5, 2, key="det.yolo.boxes", persist_state="session")
    classes = c3.number_input(t("det.yolo.classes"), 1, 100, 20, key="det.yolo.classes", persist_state="session")
    shape = yolo_output_shape(int(grid), int(per_cell), int(classes))
    st.latex(
        rf"S \times S \times (5B + C) = {grid} \times {grid} \times (5 \cdot {per_cell} + {classes})"
        rf" = {shape[0]} \times {shape[1]} \times {shape[2]}"
    )
    if (grid, per_cell, classes) == (7, 2, 20):
        st.success(t("det.yolo.w18"))
    if need_picture():
        return
    keep = stages.scores >= 0.5
    objects, labels = stages.boxes[keep], stages.labels[keep]
    width, height = picture.size
    cells = yolo_cells(objects, (width, height), int(grid))
    cell_boxes = np.array(
        [[c * width / grid, r * height / grid, (c + 1) * width / grid, (r + 1) * height / grid] for r, c in cells]
    ).reshape(-1, 4)
    names = [label_text(stages.class_names[label]) for label in labels]
    fig = boxes_figure(
        rgb,
        [
            BoxLayer(cell_boxes, "#e03131", t("det.yolo.responsible"), 3),
            BoxLayer(objects, "#f59f00", t("det.yolo.objects"), 2, names),
        ],
        t("det.yolo.figure", grid=grid),
    )
    grid_lines(fig, width, height, int(grid))
    if len(objects):
        points(
            fig,
            (objects[:, 0] + objects[:, 2]) / 2,
            (objects[:, 1] + objects[:, 3]) / 2,
            "#e03131",
            t("det.yolo.centres"),
        )
    chart(st, fig, key="det.yolo.fig")
    if not len(objects):
        st.caption(t("det.yolo.no_objects"))
        return
    lab_classes = len(stages.class_names) - 1
    choice = st.selectbox(
        t("det.yolo.which"),
        list(range(len(objects))),
        key=translated_key("det.yolo.which"),
        format_func=lambda i: f"{i + 1}: {names[i]}",
    )
    target = yolo_cell(objects[choice], int(labels[choice]) - 1, (width, height), int(grid), int(per_cell), lab_classes)
    slots = []
    for b in range(int(per_cell)):
        slots += [f"x{b + 1}", f"y{b + 1}", f"w{b + 1}", f"h{b + 1}", f"conf{b + 1}"]
    slots += [label_text(c) for c in stages.class_names[1:]]
    row, col = target.cell
    st.markdown(
        t(
            "det.yolo.cell",
            row=row + 1,
            col=col + 1,
            count=len(target.vector),
            per_cell=per_cell,
            classes=lab_classes,
            x=num(target.offset[0], 2),
            y=num(target.offset[1], 2),
            w=num(target.size[0], 2),
            h=num(target.size[1], 2),
        )
    )
    data_table(
        {t("det.yolo.col.slot"): slots, t("det.yolo.col.value"): [num(v, 2) for v in target.vector]},
        key="det.yolo.table",
    )


with tabs[6]:
    yolo_tab()


@st.fragment
def softmax_tab() -> None:
    st.markdown(t("det.sm.intro"))
    if need_picture():
        return
    classifier = model_picker("det.sm.model", list_models(), shared_model, "lab.shapes")
    logits = inference.class_logits(image.digest, classifier.name, image.image)
    labeller = class_labeller(classifier.name)
    names = [labeller(c) for c in classifier.categories]
    order = list(np.argsort(-logits, kind="stable"))
    target = st.selectbox(
        t("det.sm.target"),
        order[:50],
        key=translated_key(f"det.sm.target.{classifier.name}"),
        format_func=lambda i: names[i],
    )
    result = softmax_steps(logits, int(target))
    shown = order[:8] if target in order[:8] else order[:7] + [target]
    stepper(
        "det.softmax",
        lambda: softmax_trace(t, result, names, [int(i) for i in shown], written),
        legend=("input", "output"),
        code=lambda: softmax_code(logits, int(target)),
    )
    st.latex(r"p_i = \frac{e^{z_i}}{\sum_j e^{z_j}}, \qquad L = -\log p_y")
    st.caption(t("det.sm.note"))


with tabs[7]:
    softmax_tab()


self_check("detection", "det.selfcheck")
