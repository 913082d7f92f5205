"""Predict mode's data: every step-through builder names the cell each step asks, with the value it writes.

The browser side (hiding, checking, the score) is tested in tests/browser/test_browser_predict.py.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.errors import LessonInputError
from cnnlab.i18n import catalog, languages, translator
from cnnlab.presets import pooling_presets, rgb_example, transposed_presets
from cnnlab.steps import (
    avg_pool2d_steps,
    conv2d_steps,
    fmt,
    max_pool2d_steps,
    max_unpool2d_steps,
    multichannel_conv2d_steps,
    transposed_conv2d_steps,
)
from tests.pagehelpers import open_page, steppers
from ui.frame_image import trace_gif
from ui.trace import Frame, Grid, encode, final_texts, replay
from ui.traces import conv_trace, pool_trace, rgb_trace, scatter_trace, unpool_trace

EN = translator("en")
rng = np.random.default_rng(14)


def asked_texts(trace: dict):
    """Per step: its prediction and the texts its cells show once the step is done (as the browser replays)."""
    for index, texts, _ in replay(trace):
        p = trace["steps"][index]["p"]
        yield index, p, [texts[g][r, c] for g, r, c in p["c"]]


def written(trace: dict, index: int) -> dict:
    """(grid, row, col) -> text for the cells step `index` changes."""
    return {(g, r, c): text for g, r, c, text in trace["steps"][index]["s"]}


def sum_of_products(line: str) -> float:
    """The value of 'a·b + c·d + … = v' computed from its products (every product shown)."""
    left = line.split(" = ")[0]
    return sum(float(x) * float(w) for x, w in (term.split("·") for term in left.split(" + ")))


def assert_value_predictions(trace: dict, output_grid: int):
    for index, p, shown in asked_texts(trace):
        assert p.get("k", "value") == "value"
        assert all(text == fmt(p["v"]) for text in shown), (index, p, shown)  # the number the cell shows
        g, r, c = p["c"][0]
        assert g == output_grid
        assert written(trace, index).get((g, r, c), shown[0]) == fmt(p["v"])  # written at this step (or kept)


@pytest.mark.parametrize("case", range(20))
def test_conv_steps_ask_the_cell_they_compute(case):
    h, w, k = rng.integers(3, 8), rng.integers(3, 8), rng.integers(1, 4)
    stride, padding = int(rng.integers(1, 3)), int(rng.integers(0, 2))
    x, kernel = rng.uniform(-3, 3, (h, w)).round(2), rng.integers(-2, 3, (k, k)).astype(float)
    try:
        steps = conv2d_steps(x, kernel, stride=stride, padding=padding, bias=float(rng.integers(-1, 2)) / 4)
    except LessonInputError:
        return
    trace = conv_trace(EN, steps, np.pad(x, padding), "input", kernel, input_caption="x")
    assert_value_predictions(trace, output_grid=2)
    for step, encoded in zip(steps, trace["steps"], strict=True):
        assert encoded["p"]["c"] == [[2, step.out_row, step.out_col]]
        assert encoded["p"]["v"] == pytest.approx(step.value)
        assert "t" not in encoded["p"] and encoded["t"] == step.expression(max_terms=27)  # revealed: the step's line
    torch_out = F.conv2d(
        torch.tensor(x)[None, None], torch.tensor(kernel)[None, None], stride=stride, padding=padding
    ) + float(steps[0].bias)
    asked = {(s["p"]["c"][0][1], s["p"]["c"][0][2]): s["p"]["v"] for s in trace["steps"]}
    np.testing.assert_allclose([asked[rc] for rc in np.ndindex(torch_out.shape[2:])], torch_out.numpy().ravel())


def test_rgb_and_pool_steps_ask_the_cell_they_compute():
    x, w = rgb_example()
    for activation in ("relu", "sigmoid"):
        steps = multichannel_conv2d_steps(x, w, bias=-8.0, activation=activation)
        trace = rgb_trace(EN, steps, x, w, ["R", "G", "B"], activation)
        assert_value_predictions(trace, output_grid=6)
        assert [s["p"]["v"] for s in trace["steps"]] == pytest.approx([s.value for s in steps])
    p = pooling_presets()["W5"]
    for mode, make in (("max", max_pool2d_steps), ("avg", avg_pool2d_steps)):
        steps = make(p.input, p.kernel_size, stride=p.stride)
        trace = pool_trace(EN, steps, p.input, "input", mode)
        assert_value_predictions(trace, output_grid=1)
        assert [s["p"]["v"] for s in trace["steps"]] == pytest.approx([s.value for s in steps])


@pytest.mark.parametrize("case", range(25))
def test_scatter_steps_ask_a_cell_they_finish_with_its_products(case):
    h, w, k = rng.integers(1, 5), rng.integers(1, 5), rng.integers(1, 4)
    stride, padding = int(rng.integers(1, 4)), int(rng.integers(0, 2))
    x, kernel = rng.integers(-3, 4, (h, w)).astype(float), rng.integers(-2, 3, (k, k)).astype(float)
    try:
        steps = transposed_conv2d_steps(x, kernel, stride=stride, padding=padding)
    except LessonInputError:
        return  # the output would have no cell
    trace = scatter_trace(EN, steps, x, kernel, padding)
    canvas, last = 3, final_texts(trace)
    expected = F.conv_transpose2d(torch.tensor(x)[None, None], torch.tensor(kernel)[None, None], stride=stride)[0, 0]
    for index, p, shown in asked_texts(trace):
        g, r, c = p["c"][0]
        step = steps[index]
        assert g == canvas and step.top <= r < step.top + k and step.left <= c < step.left + k  # in this step's copy
        assert all(text == fmt(p["v"]) for text in shown)
        assert last[canvas][r, c] == fmt(p["v"]) and p["v"] == pytest.approx(expected[r, c].item())  # final here
        assert sum_of_products(p["t"]) == pytest.approx(p["v"]) and p["t"].endswith(f"= {fmt(p['v'])}")
        assert p["t"].count("·") == sum(  # one product per input cell whose copy covers (r, c)
            1 for s in steps if s.top <= r < s.top + k and s.left <= c < s.left + k
        )
        cropped = padding <= r < padding + step.output.shape[0] and padding <= c < padding + step.output.shape[1]
        assert p["c"][1:] == ([[4, r - padding, c - padding]] if padding and cropped else [])


def test_scatter_prefers_a_cell_that_sums_several_products():
    p = transposed_presets()["W9"]  # 2×2 input, 3×3 kernel, stride 1: the last copy finishes a 4-product cell
    steps = transposed_conv2d_steps(p.input, p.kernel, stride=p.stride, padding=p.padding)
    lines = [s["p"]["t"] for s in scatter_trace(EN, steps, p.input, p.kernel, p.padding)["steps"]]
    assert [line.count("·") for line in lines] == [1, 2, 2, 4]
    w11 = transposed_presets()["W11"]  # kernel [[0, 1], [2, 3]], stride 2: no overlap, a non-zero cell is asked
    steps = transposed_conv2d_steps(w11.input, w11.kernel, stride=w11.stride)
    asked = [s["p"]["v"] for s in scatter_trace(EN, steps, w11.input, w11.kernel, 0)["steps"]]
    assert all(v != 0 for v, s in zip(asked, steps, strict=True) if s.value != 0)


@pytest.mark.parametrize("case", range(5))
def test_unpool_steps_ask_where_the_value_goes(case):
    x = torch.tensor(rng.permutation(16).reshape(1, 1, 4, 4), dtype=torch.float64)
    _, indices = F.max_pool2d(x, 2, return_indices=True)
    values = rng.integers(1, 9, (2, 2)).astype(float)
    steps = max_unpool2d_steps(values, indices[0, 0].numpy(), 2)
    trace = unpool_trace(EN, steps, values)
    for (index, texts, _), step in zip(replay(trace), steps, strict=True):
        p = trace["steps"][index]["p"]
        assert p["k"] == "where" and p["c"] == [[1, step.out_row, step.out_col]] and "v" not in p
        assert texts[1][step.out_row, step.out_col] == fmt(step.value)
        assert p["q"] == EN("unpool.predict", value=fmt(step.value), index=step.flat_index)


def test_the_gif_export_ignores_predict_mode():
    p = pooling_presets()["W5"]
    trace = pool_trace(EN, max_pool2d_steps(p.input, p.kernel_size, stride=p.stride), p.input, "input", "max")
    plain = {**trace, "steps": [{k: v for k, v in step.items() if k != "p"} for step in trace["steps"]]}
    assert trace_gif(trace, "fast") == trace_gif(plain, "fast")  # every value drawn, no "?"


def test_a_step_without_a_prediction_sends_none():
    trace = encode([Grid("a", "a", np.zeros((2, 2)))], [[0]], [Frame(values={0: np.ones((2, 2))})])
    assert "p" not in trace["steps"][0]


def test_predict_words_exist_with_their_placeholders_in_every_language():
    for lang in languages():
        words = catalog(lang)
        assert "{value}" in words["steps.right"] and "{value}" in words["steps.wrong"], lang
        assert re.search(r"\{right\}.*\{answered\}", words["steps.score"]), lang
        assert "{value}" in words["unpool.predict"] and "{index}" in words["unpool.predict"], lang


@pytest.mark.parametrize("page", ["convolution", "pooling", "transposed_convolution", "edges"])
def test_every_step_through_of_a_page_can_be_predicted(page):
    at = open_page(f"lessons/{page}.py", "pl")
    assert not at.exception
    sent = steppers(at)
    assert sent, "the page shows a step-through"
    for name, data in sent.items():
        assert all("p" in step for step in data["trace"]["steps"]), name
        labels = data["labels"]
        assert labels["predict"] == catalog("pl")["steps.predict"]
        assert "{value}" in labels["right"] and "{right}" in labels["score"] and "{answered}" in labels["score"]
