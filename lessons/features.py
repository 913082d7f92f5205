"""Lesson: what a trained CNN has learned (filters) and what it sees in a picture (feature maps, Grad-CAM)."""

import numpy as np
import streamlit as st

from cnnlab.arithmetic import explain_conv_output_size
from cnnlab.features import (
    architecture_table,
    channels_by_mean,
    feature_layers,
    first_layer_filters_rgb,
    kernels_for_input_channel,
    mosaic,
    scaled_tiles,
)
from cnnlab.models import list_models
from ui import inference
from ui.models import class_labeller, model_picker, shared_model
from ui.plots import bars_figure, map_figure, overlay_figure, rgb_grid_figure, tiles_figure
from ui.selfcheck import self_check
from ui.widgets import chart, data_table, image_picker, intro, millions, num, sig, tr, translated_key

MAX_TILES = 64  # feature maps in the grid: the most active ones

t = tr()
st.title(t("feat.title"))
intro(t("feat.intro"))
pick_model, pick_image = st.columns(2)
with pick_model:
    loaded = model_picker("feat.model", list_models(), shared_model, "lab.shapes")
with pick_image:
    image = image_picker("feat.image", default_sample="generated_shape")
name, model = loaded.name, loaded.model
layers = {layer.name: layer for layer in feature_layers(model)}
class_label = class_labeller(name)
table = architecture_table(name)
shapes = {row.layer: row.output_shape for row in table}
st.caption(t("feat.device", device=loaded.device.type.upper(), size=loaded.entry.input_size))

tab_filters, tab_maps, tab_predict, tab_table = st.tabs(
    [t("feat.tab.filters"), t("feat.tab.maps"), t("feat.tab.predict"), t("feat.tab.table")]
)


def layer_label(layer_name: str) -> str:
    label = layers[layer_name].label
    return f"{label} · {' × '.join(map(str, shapes[label]))}"


def conv_names() -> list[str]:
    return [n for n, layer in layers.items() if layer.kind == "conv"]


with tab_filters:
    rgb = first_layer_filters_rgb(model)
    count, k = rgb.shape[0], rgb.shape[1]
    st.markdown(t("feat.filters.first", count=count, k=k))
    chart(
        st,
        rgb_grid_figure(mosaic(rgb, columns=8), t("feat.filters.first_title", count=count, k=k)),
        key="feat.fig.first",
    )
    c1, c2 = st.columns(2)
    deeper = c1.selectbox(
        t("feat.filters.layer"), conv_names()[1:], key=translated_key(f"feat.deeper.{name}"), format_func=layer_label
    )
    conv = model.get_submodule(deeper)
    channel = int(
        c2.number_input(
            t("feat.filters.channel", n=conv.in_channels),
            0,
            conv.in_channels - 1,
            0,
            key=f"feat.in_channel.{name}.{deeper}",
        )
    )
    kernels = kernels_for_input_channel(model, deeper, channel)[:MAX_TILES]
    st.markdown(t("feat.filters.deeper", layer=layers[deeper].label, shown=len(kernels), count=conv.out_channels))
    chart(
        st,
        tiles_figure(mosaic(kernels, columns=16), t("feat.filters.deeper_title", channel=channel), signed=True),
        key="feat.fig.deeper",
    )

with tab_maps:
    if image is None:
        st.info(t("feat.need_image"))
    else:
        layer = layers[
            st.selectbox(
                t("feat.maps.layer"), list(layers), key=translated_key(f"feat.layer.{name}"), format_func=layer_label
            )
        ]
        fmap = inference.feature_map(image.digest, name, layer.name, image.image)
        order = channels_by_mean(fmap)
        shown = order[:MAX_TILES]
        st.markdown(t("feat.maps.grid", shown=len(shown), count=fmap.shape[0], layer=layer.label))
        c1, c2 = st.columns([3, 2])
        chart(
            c1,
            tiles_figure(mosaic(scaled_tiles(fmap, shown), columns=8), t("feat.maps.grid_title"), signed=False),
            key="feat.fig.grid",
        )
        means = fmap.mean(dim=(1, 2))
        pick = c2.selectbox(
            t("feat.maps.enlarge"),
            shown,
            key=translated_key(f"feat.enlarge.{name}.{layer.name}"),
            format_func=lambda c: t("feat.maps.channel", rank=shown.index(c) + 1, channel=c, mean=sig(float(means[c]))),
        )
        chart(
            c2,
            map_figure(fmap[pick].numpy(), t("feat.maps.one", channel=pick), signed=bool((fmap[pick] < 0).any())),
            key="feat.fig.one",
        )
        if layer.kind == "conv":
            st.info(t("feat.maps.conv_signed"))
        with st.expander(t("feat.maps.shapes")):
            st.table(
                {
                    t("feat.col.layer"): [la.label for la in layers.values()],
                    t("feat.col.output"): [" × ".join(map(str, shapes[la.label])) for la in layers.values()],
                }
            )

with tab_predict:
    if image is None:
        st.info(t("feat.need_image"))
    else:
        predictions = inference.predictions(image.digest, name, 5, image.image)
        c1, c2 = st.columns(2)
        chart(
            c1,
            bars_figure(
                [class_label(p.category) for p in predictions], [p.probability for p in predictions], t("feat.top5")
            ),
            key="feat.fig.top5",
        )
        if name == "lab.shapes":
            c1.caption(t("feat.lab_classes"))
        convs = conv_names()
        cam_layer = c2.selectbox(
            t("feat.cam.layer"),
            convs,
            index=len(convs) - 1,
            key=translated_key(f"feat.cam_layer.{name}"),
            format_func=layer_label,
        )
        target = c2.selectbox(
            t("feat.cam.class"),
            [None, *range(len(loaded.categories))],
            key=translated_key(f"feat.cam_class.{name}"),
            format_func=lambda i: t("feat.cam.top") if i is None else class_label(loaded.categories[i]),
        )
        cam, used = inference.class_activation(image.digest, name, cam_layer, target, image.image)
        view = np.asarray(loaded.view(image.image))
        chart(
            c2,
            overlay_figure(
                view,
                cam,
                t("feat.cam.title", category=class_label(loaded.categories[used]), layer=layers[cam_layer].label),
            ),
            key="feat.fig.cam",
        )
        st.markdown(t("feat.cam.explain"))

with tab_table:
    data_table(
        {
            t("feat.col.layer"): [r.layer for r in table],
            t("feat.col.kernel"): [r.kernel for r in table],
            t("feat.col.stride"): [r.stride for r in table],
            t("feat.col.padding"): [r.padding for r in table],
            t("feat.col.output"): [" × ".join(map(str, r.output_shape)) for r in table],
            t("feat.col.params"): [num(r.parameters) for r in table],
            t("feat.col.flops"): [num(r.flops) for r in table],
        },
        key="feat.table",
    )
    total_params, total_flops = sum(r.parameters for r in table), sum(r.flops for r in table)
    st.markdown(t("feat.table.totals", count=total_params, flops=num(total_flops / 1e9, 2)))
    st.subheader(t("feat.w16.title"))
    totals = {
        n: sum(r.parameters for r in architecture_table(n))
        for n in ("alexnet.imagenet", "vgg16.imagenet", "vgg19.imagenet")
    }
    st.table(
        {
            t("feat.w16.model"): [t(f"model.{n}") for n in totals],
            t("feat.w16.counted"): [f"{num(v)} ≈ {millions(v)}" for v in totals.values()],
            t("feat.w16.notes"): [millions(v, 0) for v in (60e6, 138e6, 143e6)],
        }
    )
    st.caption(t("feat.w16.fact", fact=t("w16.fact.0")))
    padded = explain_conv_output_size(224, 11, 4, 2)
    original = explain_conv_output_size(227, 11, 4, 0)
    st.markdown(
        t(
            "feat.alexnet_conv1",
            padded_num=padded.numerator,
            padded_rest=padded.remainder,
            padded_out=padded.output,
            original_num=original.numerator,
            original_out=original.output,
        )
    )

self_check("features", "feat.selfcheck")
