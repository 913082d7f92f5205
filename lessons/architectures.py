"""Lesson: classic architectures and the arithmetic behind their design (W14, W15, W16, W18)."""

import dataclasses

import streamlit as st

from cnnlab.architectures import C3_TABLE, bottleneck_comparison, lenet5_table, yolo_output_shape
from cnnlab.arithmetic import dense_head_weights
from cnnlab.presets import worked_examples
from ui.selfcheck import self_check
from ui.widgets import int_input, intro, millions, num, tr

t = tr()
examples = worked_examples()
st.title(t("arch.title"))
intro(t("arch.intro"))
tab_lenet, tab_bottleneck, tab_gap, tab_yolo = st.tabs(
    [t("arch.tab.lenet"), t("arch.tab.bottleneck"), t("arch.tab.gap"), t("arch.tab.yolo")]
)


def cell(value) -> str:
    """A table cell: a count written the language's way, a text as it is."""
    return num(value) if isinstance(value, int) else str(value)


def verdict(preset_id: str, matches: bool) -> None:
    if matches:
        st.success(t("preset.matches", id=preset_id))
    else:
        st.info(t("preset.edited", id=preset_id))


with tab_lenet:
    st.markdown(t("arch.lenet.intro"))
    rows = lenet5_table()
    columns = ["layer", "kernels", "output", "connections", "parameters"]
    st.table(  # counts grouped the language's way: 122 304 · 122.304 · 122,304
        {t(f"arch.lenet.col.{c}"): [cell(getattr(r, c)) for r in rows] for c in columns}
    )
    verdict("W15", [list(dataclasses.astuple(r)) for r in rows] == examples["W15"]["rows"])
    st.markdown(t("arch.lenet.c3"))
    st.table(
        {
            "S2 \\ C3": [t("arch.lenet.s2_map", i=i) for i in range(6)],
            **{str(j): ["✕" if i in inputs else "" for i in range(6)] for j, inputs in enumerate(C3_TABLE)},
        }
    )
    st.markdown(t("arch.lenet.c3_count"))

with tab_bottleneck:
    b = bottleneck_comparison()
    st.markdown(t("arch.bottleneck.intro", h=b.output_shape[1], c=480, out=b.output_shape[0]))
    c1, c2 = st.columns(2)
    with c1:
        st.subheader(t("arch.bottleneck.direct"))
        st.metric(t("arch.params"), num(b.direct_params))
        st.metric(t("arch.ops"), f"{num(b.direct_ops)} ≈ {millions(b.direct_ops)}")
        # the notes' arithmetic (W14), its numbers written the language's way
        st.code(f"5·5·48·480 = {num(b.direct_params)}\n(14·14·48)·(5·5·480) = {millions(b.direct_ops)}", language=None)
    with c2:
        st.subheader(t("arch.bottleneck.reduced"))
        st.metric(t("arch.params"), num(b.bottleneck_params), help=f"{num(b.reduce_params)} + {num(b.conv_params)}")
        st.metric(
            t("arch.ops"),
            f"{num(b.bottleneck_ops)} ≈ {millions(b.bottleneck_ops)}",
            help=f"{millions(b.reduce_ops)} + {millions(b.conv_ops)}",
        )
        st.code(
            f"1·1·16·480 + 5·5·48·16 = {num(b.bottleneck_params)}\n"
            f"(14·14·16)·(1·1·480) + (14·14·48)·(5·5·16)\n"
            f"= {millions(b.reduce_ops)} + {millions(b.conv_ops)} = {millions(b.bottleneck_ops)}",
            language=None,
        )
    verdict(
        "W14",
        (b.direct_params, b.bottleneck_params, round(b.direct_ops / 1e6, 1), round(b.bottleneck_ops / 1e6, 1))
        == (576_000, 26_880, 112.9, 5.3),
    )
    st.markdown(t("arch.bottleneck.ratio", times=num(b.direct_ops / b.bottleneck_ops, 0)))

with tab_gap:
    dense = dense_head_weights(7, 7, 1024, 1024, bias=False)
    st.markdown(t("arch.gap.intro"))
    c1, c2 = st.columns(2)
    c1.metric(t("arch.gap.dense"), num(dense), help="7 · 7 · 1024 · 1024")
    c2.metric(t("arch.gap.pool"), "0")
    st.page_link("lessons/pooling.py", label=t("nav.pooling"), icon=":material/arrow_forward:")
    st.caption(t("arch.gap.notes", fact=t("w16.fact.2"), millions=num(dense / 1e6, 2)))

with tab_yolo:
    st.markdown(t("arch.yolo.intro"))
    c1, c2, c3 = st.columns(3)
    with c1:
        grid = int_input("S", "arch.yolo.S", 7, 1, 64, t("arch.yolo.S"))
    with c2:
        boxes = int_input("B", "arch.yolo.B", 2, 1, 16, t("arch.yolo.B"))
    with c3:
        classes = int_input("C", "arch.yolo.C", 20, 1, 1000, t("arch.yolo.C"))
    shape = yolo_output_shape(grid, boxes, classes)
    st.markdown(t("arch.yolo.result", S=grid, B=boxes, C=classes, count=shape[2], shape=" × ".join(map(str, shape))))
    verdict("W18", (grid, boxes, classes) == (7, 2, 20) and shape == (7, 7, 30))

self_check("architectures", "arch.selfcheck")
