"""Lesson: convolution arithmetic, step by step."""

import streamlit as st

from cnnlab.arithmetic import (
    Layer,
    dense_vs_conv_weights,
    effective_kernel,
    explain_conv_output_size,
    input_features,
    layers_from_rows,
    measured_conv_output_shape,
    receptive_field,
    same_padding,
)
from cnnlab.errors import LessonInputError
from cnnlab.matrices import matrix_text
from cnnlab.presets import conv_presets, rgb_example
from cnnlab.snippets import conv2d_code, rgb_conv2d_code
from cnnlab.steps import conv2d_steps, multichannel_conv2d_steps, pad2d
from ui.matrix_html import padded_roles
from ui.selfcheck import self_check
from ui.stepper import stepper
from ui.traces import conv_trace, rgb_trace, verdict
from ui.widgets import (
    demo_layout,
    field_columns,
    int_input,
    intro,
    matrix_editor,
    num,
    num_format,
    preset_select,
    read_url_choice,
    show_error,
    tr,
    translated_key,
    url_choice,
    write_url_choice,
)

DEFAULT_STACK = [  # a small VGG-style start: two 3×3 convolutions, then a 2×2 pooling, twice
    {"kind": "conv", "kernel": 3, "stride": 1, "padding": 1, "dilation": 1, "channels": 64},
    {"kind": "conv", "kernel": 3, "stride": 1, "padding": 1, "dilation": 1, "channels": 64},
    {"kind": "pool", "kernel": 2, "stride": 2, "padding": 0, "dilation": 1, "channels": None},
    {"kind": "conv", "kernel": 3, "stride": 1, "padding": 1, "dilation": 1, "channels": 128},
    {"kind": "conv", "kernel": 3, "stride": 1, "padding": 1, "dilation": 1, "channels": 128},
    {"kind": "pool", "kernel": 2, "stride": 2, "padding": 0, "dilation": 1, "channels": None},
]

RGB_BIASES = [b / 2 for b in range(-20, 21)]  # -10, -9.5, …, 10
RGB_BIAS = -8.0

t = tr()
st.title(t("conv.title"))
intro(t("conv.intro"))

tab_size, tab_steps, tab_rgb, tab_rf = st.tabs(
    [t("conv.tab.size"), t("conv.tab.steps"), t("conv.tab.rgb"), t("conv.tab.rf")]
)


# --- Output size --------------------------------------------------------------------------
@st.fragment
def output_size_tab() -> None:
    """The size tab: its widgets rerun this tab alone, not the whole page."""
    st.markdown(t("size.intro"))
    dims = url_choice(
        st.radio,
        t("size.dims"),
        ["2d", "1d"],
        key="conv.size.dims",
        horizontal=True,
        format_func=lambda d: t(f"size.dims.{d}"),
    )
    mode = url_choice(
        st.radio,
        t("size.mode"),
        ["custom", "valid", "same"],
        key="conv.size.mode",
        horizontal=True,
        format_func=lambda m: t(f"size.mode.{m}"),
    )
    cols = st.columns(5)
    with cols[0]:
        height = int_input(t("size.input_h") if dims == "2d" else t("size.input"), "conv.size.h", 7, 1, 4096)
    with cols[1]:
        width = int_input(t("size.input_w"), "conv.size.w", 6, 1, 4096) if dims == "2d" else height
    with cols[2]:
        kernel = int_input(t("param.kernel"), "conv.size.k", 3, 1, 64)
    with cols[3]:
        stride = int_input(t("param.stride"), "conv.size.s", 2, 0, 64, t("size.stride_help"))
    with cols[4]:
        dilation = int_input(t("param.dilation"), "conv.size.d", 1, 1, 16)
    if mode == "custom":
        padding = int_input(t("param.padding"), "conv.size.p", 1, 0, 64)
    else:
        padding = 0 if mode == "valid" else same_padding(kernel, dilation)
        st.info(t(f"size.mode.{mode}.explain", p=padding))

    axes = [("H", height), ("W", width)] if dims == "2d" else [("M", height)]
    try:
        explained = [(axis, explain_conv_output_size(size, kernel, stride, padding, dilation)) for axis, size in axes]
    except LessonInputError as err:
        show_error(err)
    else:
        for axis, e in explained:
            k_text = str(kernel) if dilation == 1 else f"{effective_kernel(kernel, dilation)}"
            st.latex(
                rf"{axis}_{{out}} = \left\lfloor \frac{{{axis}_{{in}} - K + 2P}}{{S}} \right\rfloor + 1"
                rf" = \left\lfloor \frac{{{e.size} - {k_text} + 2\cdot{e.padding}}}{{{e.stride}}} \right\rfloor + 1"
                rf" = \left\lfloor \frac{{{e.numerator}}}{{{e.stride}}} \right\rfloor + 1 = {e.output}"
            )
            if dilation > 1:
                st.caption(t("size.dilated_kernel", k=kernel, d=dilation, span=effective_kernel(kernel, dilation)))
            if e.exact:
                st.success(t("size.exact", axis=axis, num=e.numerator, s=e.stride, out=e.output))
            else:
                st.warning(t("size.inexact", axis=axis, num=e.numerator, s=e.stride, count=e.remainder, out=e.output))
        out_h = explained[0][1].output
        out_w = explained[-1][1].output
        measured = measured_conv_output_shape(height, width, kernel, stride, padding, dilation)
        shape_text = f"{out_h} × {out_w}" if dims == "2d" else str(out_h)
        measured_text = f"{measured[0]} × {measured[1]}" if dims == "2d" else str(measured[0])
        st.markdown(t("size.torch_check", formula=shape_text, torch=measured_text))
        if mode == "same" and stride > 1:
            st.caption(t("size.same_strided"))
        if mode == "same" and effective_kernel(kernel, dilation) % 2 == 0:
            st.warning(t("size.same_even", k=effective_kernel(kernel, dilation), p=padding))


with tab_size:
    output_size_tab()


# --- Step through -------------------------------------------------------------------------
@st.fragment
def step_through_tab() -> None:
    """The steps tab: its widgets rerun this tab alone, not the whole page."""
    presets = conv_presets()

    def apply_preset(p) -> None:
        st.session_state["conv.x"], st.session_state["conv.w"] = matrix_text(p.input), matrix_text(p.kernel)
        st.session_state["conv.stride"], st.session_state["conv.padding"] = p.stride, p.padding
        st.session_state["conv.dilation"] = 1

    settings, result = demo_layout()
    with settings:
        intro(t("conv.steps.intro"))
        preset = preset_select("conv.preset", presets, apply_preset, first_visit_key="conv.x")
        c1, c2, c3 = field_columns([3, 2, 2])
        with c1:
            x = matrix_editor(t("conv.input"), "conv.x", presets["W1"].input)
        with c2:
            w = matrix_editor(t("conv.kernel"), "conv.w", presets["W1"].kernel)
        with c3:
            stride = int_input(t("param.stride"), "conv.stride", 1, 0, 8)
            padding = int_input(t("param.padding"), "conv.padding", 0, 0, 6)
            dilation = int_input(t("param.dilation"), "conv.dilation", 1, 1, 4)
    with result:
        if x is None or w is None:
            return
        try:
            steps = conv2d_steps(x, w, stride=stride, padding=padding, dilation=dilation)
        except LessonInputError as err:
            show_error(err)
            return
        xp = pad2d(x, padding)
        final = verdict(t, preset.id if preset else None, steps[-1].output, preset.expected if preset else None)
        stepper(
            "conv.steps",
            lambda: conv_trace(
                t,
                steps,
                xp,
                padded_roles(xp.shape, padding),
                w,
                input_caption=t("conv.padded_input") if padding else t("conv.input"),
                final=final,
            ),
            legend=("input", "padding", "kernel", "output"),
            code=lambda: conv2d_code(x, w, stride=stride, padding=padding, dilation=dilation, t=t),
        )
        if preset is not None and preset.note:
            st.caption(t(f"preset.{preset.id}.note"))


with tab_steps:
    step_through_tab()


# --- RGB convolution ----------------------------------------------------------------------
@st.fragment
def rgb_tab() -> None:
    """The rgb tab: its widgets rerun this tab alone, not the whole page."""
    rgb_x, rgb_w = rgb_example()
    settings, result = demo_layout()
    with settings:
        intro(t("rgb.intro"))
        c1, c2 = field_columns([1, 1])
        # a select_slider over the half steps, not a slider: a slider's printf format cannot write -7,5,
        # and the URL keeps the number (?conv.rgb.bias=-7.5) whatever the language
        read_url_choice("conv.rgb.bias", RGB_BIASES)
        st.session_state.setdefault("conv.rgb.bias", RGB_BIAS)
        bias = c1.select_slider(
            t("rgb.bias"), RGB_BIASES, key="conv.rgb.bias", format_func=num_format(), persist_state="session"
        )
        write_url_choice("conv.rgb.bias", bias, RGB_BIAS)
        with c2:
            activation = url_choice(
                st.selectbox,
                t("rgb.activation"),
                ["relu", "sigmoid", "tanh", "none"],
                key=translated_key("conv.rgb.act"),
                format_func=lambda a: t(f"activation.{a}"),
            )
    with result:
        rgb_steps = multichannel_conv2d_steps(rgb_x, rgb_w, bias=bias, padding=0, activation=activation)
        channel_names = [t("rgb.red"), t("rgb.green"), t("rgb.blue")]
        stepper(
            "conv.rgb",
            lambda: rgb_trace(t, rgb_steps, rgb_x, rgb_w, channel_names, activation),
            legend=("input", "kernel", "output"),
            code=lambda: rgb_conv2d_code(rgb_x, rgb_w, bias=bias, activation=activation, t=t),
        )


with tab_rgb:
    rgb_tab()


# --- Receptive field and weights ----------------------------------------------------------
@st.fragment
def receptive_field_tab() -> None:
    """The rf tab: its widgets rerun this tab alone, not the whole page."""
    st.markdown(t("rf.intro"))
    channels = int_input(t("rf.channels"), "conv.rf.channels", 64, 1, 4096)
    stacks = {
        t("rf.three_3x3"): [Layer(f"conv{i + 1} 3×3", 3, out_channels=channels) for i in range(3)],
        t("rf.one_7x7"): [Layer("conv 7×7", 7, out_channels=channels)],
    }
    cols = st.columns(2)
    for col, (name, layers) in zip(cols, stacks.items(), strict=True):
        rows = receptive_field(layers, in_channels=channels)
        col.subheader(name)
        col.table(
            {
                t("rf.layer"): [r.name for r in rows],
                t("rf.field"): [f"{r.receptive_field}×{r.receptive_field}" for r in rows],
                t("rf.params"): [num(r.parameters) for r in rows],
            }
        )
        col.metric(t("rf.total_params"), num(sum(r.parameters for r in rows)))
    st.caption(t("rf.why_small"))

    st.subheader(t("rf.stack.title"))
    st.markdown(t("rf.stack.intro"))
    c1, c2 = st.columns(2)
    with c1:
        input_size = int_input(t("rf.stack.input_size"), "conv.rf.size", 32, 1, 4096)
    with c2:
        input_channels = int_input(t("rf.stack.input_channels"), "conv.rf.in_channels", 3, 1, 4096)
    number = st.column_config.NumberColumn
    table = st.data_editor(
        DEFAULT_STACK,
        key="conv.rf.stack",
        num_rows="dynamic",
        width="stretch",
        placeholder="—",  # a pooling row has no channels of its own (it keeps its input's): not "None"
        column_config={
            "kind": st.column_config.SelectboxColumn(
                t("rf.stack.kind"),
                width="medium",  # sized for the translated names ('объединение по максимуму'), not the codes
                options=["conv", "pool"],
                format_func=lambda kind: t(f"rf.stack.kind.{kind}"),
                required=True,
                default="conv",
            ),
            # the notes' letters as headers, the words in their tooltips: six columns fit a projector in every language
            "kernel": number("K", help=t("param.kernel"), min_value=1, max_value=31, step=1, default=3),
            "stride": number("S", help=t("param.stride"), min_value=1, max_value=16, step=1, default=1),
            "padding": number("P", help=t("param.padding"), min_value=0, max_value=15, step=1, default=0),
            "dilation": number("D", help=t("param.dilation"), min_value=1, max_value=8, step=1, default=1),
            "channels": number("C", help=t("param.channels"), min_value=1, max_value=4096, step=1, default=64),
        },
    )
    try:
        stack = receptive_field(layers_from_rows(table), input_channels, input_size)
    except LessonInputError as err:
        show_error(err)
    else:
        if not stack:
            st.info(t("rf.stack.empty"))
        else:
            st.table(
                {
                    t("rf.layer"): [r.name for r in stack],
                    t("rf.output_size"): [f"{r.output_size}×{r.output_size}×{r.channels}" for r in stack],
                    t("rf.field"): [f"{r.receptive_field}×{r.receptive_field}" for r in stack],
                    t("rf.jump"): [num(r.jump) for r in stack],
                    t("rf.params"): [num(r.parameters) for r in stack],
                }
            )
            st.metric(t("rf.total_params"), num(sum(r.parameters for r in stack)))

    st.subheader(t("w17.title"))
    st.markdown(t("w17.intro"))
    hidden = int_input(t("w17.hidden"), "conv.w17.hidden", 100, 1, 100_000)
    counts = dense_vs_conv_weights(image=3, kernel=2, hidden=hidden)
    st.markdown(t("w17.dense", n=hidden, pixels=counts.image_pixels, count=counts.dense_weights))
    st.markdown(
        t(
            "w17.conv",
            n=hidden,
            k=counts.kernel_weights,
            outputs=counts.conv_outputs,
            count=counts.conv_then_dense_weights,
        )
    )
    st.markdown(t("w17.hd", count=input_features(1280, 720, 3)))


with tab_rf:
    receptive_field_tab()

self_check("convolution", "conv.selfcheck")
