"""The stepper's trace (ui/trace.py), its builders, the GIF export and the PyTorch snippets."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from cnnlab.errors import LessonInputError
from cnnlab.i18n import translator
from cnnlab.presets import conv_presets, pooling_presets, rgb_example, transposed_presets
from cnnlab.snippets import (
    conv2d_code,
    conv_transpose2d_code,
    interpolate_code,
    pool2d_code,
    rgb_conv2d_code,
    run_snippet,
    unpool_code,
)
from cnnlab.steps import (
    MAX_STEPS,
    conv2d_steps,
    fmt,
    max_pool2d_steps,
    max_unpool2d_steps,
    multichannel_conv2d_steps,
    transposed_conv2d_steps,
    transposed_conv_as_conv,
)
from ui.frame_image import MAX_GIF_FRAMES, gif_steps, trace_gif
from ui.matrix_html import HIGHLIGHT, ROLE_COLOURS
from ui.trace import MAX_SIDE, Frame, Grid, encode, final_texts, payload_bytes, replay, signature, window_cells
from ui.traces import conv_trace, pool_trace, rgb_trace, scatter_trace, unpool_trace

EN, RO = translator("en"), translator("ro")
rng = np.random.default_rng(7)


def as_numbers(texts: np.ndarray) -> np.ndarray:
    return np.array([[float(v) if v else np.nan for v in row] for row in texts])


@pytest.mark.parametrize("case", range(30))
def test_every_replayed_conv_step_equals_the_engine(case):
    h, w, k = rng.integers(3, 9), rng.integers(3, 9), rng.integers(1, 4)
    stride, padding, dilation = int(rng.integers(1, 3)), int(rng.integers(0, 3)), int(rng.integers(1, 3))
    x, kernel = rng.integers(-5, 6, (h, w)).astype(float), rng.integers(-3, 4, (k, k)).astype(float)
    try:
        steps = conv2d_steps(x, kernel, stride=stride, padding=padding, dilation=dilation)
    except LessonInputError:
        return  # kernel larger than the padded input: refused, nothing to step through
    xp = np.pad(x, padding)
    trace = conv_trace(EN, steps, xp, "input", kernel, input_caption="x")
    for (i, texts, windows), step in zip(replay(trace), steps, strict=True):
        expected = [
            [fmt(v) if done else "" for v, done in zip(*rows, strict=True)]
            for rows in zip(step.output, step.filled, strict=True)
        ]
        assert texts[2].tolist() == expected  # computed cells as written, the rest blank
        assert windows[0] == set(step.cells) and windows[2] == {(step.out_row, step.out_col)}
        assert trace["steps"][i]["t"] == step.expression()
    torch_out = F.conv2d(
        torch.tensor(x)[None, None], torch.tensor(kernel)[None, None], stride=stride, padding=padding, dilation=dilation
    )[0, 0]
    assert final_texts(trace)[2].tolist() == [[fmt(v) for v in row] for row in torch_out.numpy()]


def test_windows_are_sent_as_rectangles_when_they_are_one():
    assert encode_window([(1, 2), (1, 4), (3, 2), (3, 4)]) == [0, 1, 2, 2, 2, 2, 2]  # dilated 2×2 window
    assert encode_window([(0, 0), (1, 1)]) == [0, [0, 0, 1, 1]]  # a diagonal is no rectangle
    for cells in ([(1, 2), (1, 4), (3, 2), (3, 4)], [(0, 0), (1, 1)], [(5, 5)]):
        assert window_cells([encode_window(cells)]) == {0: set(cells)}


def encode_window(cells):
    trace = encode([Grid("a", "a", np.zeros((6, 6)))], [[0]], [Frame(windows={0: cells})])
    return trace["steps"][0]["w"][0]


def test_only_changed_cells_are_sent():
    p = conv_presets()["W1"]
    trace = conv_trace(EN, conv2d_steps(p.input, p.kernel), p.input, "input", p.kernel, input_caption="x")
    assert all(len(step["s"]) == 1 for step in trace["steps"])  # one new output cell a step
    assert trace["grids"][0]["v"][0] == ["3", "3", "5", "1", "2", "3"]  # the input is sent once


def test_signature_ignores_the_language_but_not_the_numbers():
    p = conv_presets()["W1"]
    steps = conv2d_steps(p.input, p.kernel)
    en = conv_trace(EN, steps, p.input, "input", p.kernel, input_caption=EN("conv.input"))
    ro = conv_trace(RO, steps, p.input, "input", p.kernel, input_caption=RO("conv.input"))
    assert en["grids"][0]["c"] != ro["grids"][0]["c"] and signature(en) == signature(ro)
    other = conv2d_steps(p.input, p.kernel, stride=2)
    assert signature(conv_trace(EN, other, p.input, "input", p.kernel, input_caption="x")) != signature(en)


def test_scatter_trace_replays_every_transposed_step():
    for p in transposed_presets().values():
        steps = transposed_conv2d_steps(p.input, p.kernel, stride=p.stride, padding=p.padding)
        trace = scatter_trace(EN, steps, p.input, p.kernel, p.padding)
        output_grid = 4 if p.padding else 3
        for (_, texts, _), step in zip(replay(trace), steps, strict=True):
            np.testing.assert_array_equal(as_numbers(texts[output_grid]), step.output)
            np.testing.assert_array_equal(as_numbers(texts[2]), step.contribution)


def test_rgb_and_pool_traces_end_with_the_engine_result():
    x, w = rgb_example()
    steps = multichannel_conv2d_steps(x, w, bias=-8.0, activation="relu")
    trace = rgb_trace(EN, steps, x, w, ["R", "G", "B"], "relu")
    assert as_numbers(final_texts(trace)[-1]).tolist() == [[float(fmt(v)) for v in r] for r in steps[-1].output]
    assert trace["steps"][0]["o"] == {f"sum{c}": fmt(v) for c, v in enumerate(steps[0].channel_sums)}
    p = pooling_presets()["W5"]
    psteps = max_pool2d_steps(p.input, p.kernel_size, stride=p.stride)
    ptrace = pool_trace(EN, psteps, p.input, "input", "max")
    np.testing.assert_array_equal(as_numbers(final_texts(ptrace)[1]), p.expected)
    assert ptrace["grids"][0]["d"] == 1  # cells outside the window are faded


def test_too_many_steps_are_refused_before_any_frame_is_made():
    with pytest.raises(LessonInputError) as err:
        conv2d_steps(np.zeros((40, 40)), np.ones((1, 1)))
    assert err.value.key == "error.too_many_steps" and f"{MAX_STEPS:,}" in str(err.value)  # 1,024 in English
    # the case: 12×12 input and kernel, stride 6, output padding 5 -> 6,889 direct-view steps
    direct = transposed_conv_as_conv(np.ones((12, 12)), np.ones((12, 12)), stride=6, output_padding=5)
    with pytest.raises(LessonInputError):
        conv2d_steps(direct.padded, direct.flipped)
    expected = F.conv_transpose2d(
        torch.ones(1, 1, 12, 12, dtype=torch.float64),
        torch.ones(1, 1, 12, 12, dtype=torch.float64),
        stride=6,
        output_padding=5,
    )
    np.testing.assert_allclose(direct.output, expected[0, 0].numpy())


def test_a_matrix_too_large_to_read_is_refused():
    with pytest.raises(LessonInputError) as err:
        encode([Grid("big", "big", np.zeros((MAX_SIDE + 1, 2)))], [[0]], [])
    assert err.value.key == "error.too_big_to_draw"


def test_payload_of_the_largest_preset_is_small():
    largest = max(
        (
            conv_trace(
                EN,
                conv2d_steps(p.input, p.kernel, stride=p.stride, padding=p.padding),
                np.pad(p.input, p.padding),
                "input",
                p.kernel,
                input_caption="x",
            )
            for p in conv_presets().values()
        ),
        key=payload_bytes,
    )
    assert payload_bytes(largest) < 16_000


def test_gif_has_a_frame_per_step_in_the_apps_colours():
    p = conv_presets()["W1"]
    trace = conv_trace(EN, conv2d_steps(p.input, p.kernel), p.input, "input", p.kernel, input_caption="x")
    gif = Image.open(io.BytesIO(trace_gif(trace, "fast")))
    assert gif.n_frames == 16 and gif.info["duration"] == 400
    gif.seek(15)
    colours = {c for _, c in gif.convert("RGB").getcolors(1 << 16)}
    for role in ("input", "kernel", "output"):
        assert tuple(int(ROLE_COLOURS[role][0][i : i + 2], 16) for i in (1, 3, 5)) in colours
    assert tuple(int(HIGHLIGHT[i : i + 2], 16) for i in (1, 3, 5)) in colours


def test_long_traces_make_a_thinned_gif_that_ends_on_the_last_step():
    kept = gif_steps(1000)
    assert len(kept) <= MAX_GIF_FRAMES + 1 and kept[0] == 0 and kept[-1] == 999
    assert gif_steps(12) == list(range(12))


def random_matrix(h, w):
    return rng.integers(-4, 5, (h, w)).astype(float)


@pytest.mark.parametrize("case", range(10))
def test_snippets_compute_what_the_engine_computes(case):
    x, w = random_matrix(6, 5), random_matrix(3, 3)
    s, p, d = int(rng.integers(1, 3)), int(rng.integers(0, 2)), int(rng.integers(1, 3))
    np.testing.assert_allclose(
        run_snippet(conv2d_code(x, w, stride=s, padding=p, dilation=d)),
        conv2d_steps(x, w, stride=s, padding=p, dilation=d)[-1].output,
    )
    op = int(rng.integers(0, s))
    np.testing.assert_allclose(
        run_snippet(conv_transpose2d_code(x, w, stride=s, padding=p, output_padding=op)),
        transposed_conv2d_steps(x, w, stride=s, padding=p, output_padding=op)[-1].output,
    )
    np.testing.assert_allclose(
        run_snippet(pool2d_code(x, 2, stride=s, padding=1, mode="max")),
        max_pool2d_steps(x, 2, stride=s, padding=1)[-1].output,
    )


def test_rgb_unpool_and_interpolate_snippets():
    x, w = rgb_example()
    for act in ("relu", "sigmoid", "tanh", "none"):
        np.testing.assert_allclose(
            run_snippet(rgb_conv2d_code(x, w, bias=-8, activation=act)),
            multichannel_conv2d_steps(x, w, bias=-8, activation=act)[-1].output,
        )
    from cnnlab.presets import worked_examples

    w7 = worked_examples()["W7"]
    np.testing.assert_array_equal(run_snippet(unpool_code(w7["input"], w7["unpool_input"], 2)), w7["expected_unpool"])
    w8 = worked_examples()["W8"]
    np.testing.assert_array_equal(run_snippet(interpolate_code(w8["input"], (4, 4), mode="nearest")), w8["expected"])


def test_long_sums_are_shortened_around_an_ellipsis_and_keep_their_value():
    step = conv2d_steps(np.arange(36.0).reshape(6, 6), np.ones((6, 6)))[0]
    full, short = step.expression(), step.expression(max_terms=9)
    assert full.count("·") == 36 and short.count("·") == 9 and "… (27)" in short
    assert short.endswith(f"= {fmt(np.arange(36.0).sum())}") and full.endswith(short.split(" = ")[-1])


@pytest.mark.parametrize("case", range(10))
def test_unpool_steps_put_each_value_where_torch_puts_it(case):
    x = torch.tensor(rng.permutation(36).reshape(1, 1, 6, 6), dtype=torch.float64)
    pooled, indices = F.max_pool2d(x, 2, return_indices=True)
    values = rng.integers(1, 9, (3, 3)).astype(float)
    steps = max_unpool2d_steps(values, indices[0, 0].numpy(), 2)
    expected = F.max_unpool2d(torch.tensor(values)[None, None], indices, 2)[0, 0].numpy()
    np.testing.assert_array_equal(steps[-1].output, expected)
    trace = unpool_trace(EN, steps, values)
    for (_, texts, windows), step in zip(replay(trace), steps, strict=True):
        np.testing.assert_array_equal(as_numbers(texts[1]), step.output)
        assert windows[1] == {(step.out_row, step.out_col)}
