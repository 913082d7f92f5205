"""cnnlab.quiz: every kind's answer against torch on many seeds, determinism, check(), catalog keys."""

import dataclasses
import functools
import json
import random
import string

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision.ops

from cnnlab import quiz
from cnnlab.assets import ASSETS
from cnnlab.errors import LessonInputError
from cnnlab.presets import worked_examples

SEEDS = range(100)
LESSONS = quiz.lessons()
ALL_KINDS = [(lesson, kind) for lesson, kinds in LESSONS.items() for kind in kinds]
GENERATED = [(lesson, kind) for lesson, kind in ALL_KINDS if lesson != "worked"]
ENGLISH = json.loads((ASSETS / "i18n" / "en.json").read_text(encoding="utf-8"))
QUIZ_TEXTS = {key: text for key, text in ENGLISH.items() if key.startswith("quiz.")}


def questions(lesson: str, kind: str, seeds=SEEDS) -> list[quiz.Question]:
    return [quiz.question(lesson, seed, kind) for seed in seeds]


def tensor(m) -> torch.Tensor:
    """A Matrix as a (1, 1, H, W) float64 tensor."""
    return torch.tensor(m, dtype=torch.float64)[None, None]


def cell(out: torch.Tensor, values: dict) -> float:
    return float(out[0, 0, values["row"] - 1, values["col"] - 1])


def side(layer: torch.nn.Module, size: int) -> int:
    out = layer(torch.zeros(1, 1, size, size))
    assert out.shape[-1] == out.shape[-2]
    return out.shape[-1]


# --- the contract -------------------------------------------------------------------------------


def test_lessons_and_kinds():
    assert set(LESSONS) == {
        "convolution",
        "transposed_convolution",
        "pooling",
        "edges",
        "activations",
        "detection",
        "architectures",
        "features",
        "segmentation",
        "instances",
        "training",
        "worked",
    }
    assert LESSONS["convolution"] == ["output_size", "cell", "receptive_field", "parameters", "dense_vs_conv"]
    assert "W13" not in LESSONS["worked"] and "W19" not in LESSONS["worked"]  # nothing to compute there
    with pytest.raises(ValueError):
        quiz.question("nonsense", 0)
    with pytest.raises(ValueError):
        quiz.question("pooling", 0, "nonsense")


@pytest.mark.parametrize("lesson,kind", ALL_KINDS)
def test_same_seed_same_question_whatever_the_global_rng(lesson, kind):
    for seed in range(20):
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        first = quiz.question(lesson, seed, kind)
        random.seed(seed + 1)
        np.random.seed(seed + 1)
        assert quiz.question(lesson, seed, kind) == first
        assert first.lesson == lesson and first.kind == kind and first.seed == seed
        assert first.answer_type in quiz.ANSWER_TYPES
        assert first.solution, "every question has a worked solution"
        assert quiz.check(first, first.answer)
        with pytest.raises(dataclasses.FrozenInstanceError):
            first.answer = None


@pytest.mark.parametrize("lesson,kind", GENERATED)
def test_different_seeds_give_different_questions(lesson, kind):
    distinct = {repr(q.prompt) + repr(q.inputs) + repr(q.choices) for q in questions(lesson, kind, range(30))}
    assert len(distinct) >= 4


def test_without_a_kind_the_seed_picks_one():
    for lesson, kinds in LESSONS.items():
        picked = [quiz.question(lesson, seed) for seed in range(60)]
        assert [q.kind for q in picked] == [quiz.question(lesson, seed).kind for seed in range(60)]
        assert {q.kind for q in picked} == set(kinds) or len(kinds) > 10  # 60 seeds cover the short lists
        assert all(q == quiz.question(lesson, q.seed, q.kind) for q in picked)


def test_worked_question_is_the_worked_lesson():
    assert quiz.worked_question("W1") == quiz.question("worked", 0, "W1")
    assert quiz.worked_question("W12", 5) == quiz.question("worked", 5, "W12")


# --- convolution --------------------------------------------------------------------------------


def test_conv_output_size_is_torchs():
    inexact = padded = dilated = 0
    for q in questions("convolution", "output_size"):
        v = q.prompt[1]
        layer = torch.nn.Conv2d(1, 1, v["kernel"], v["stride"], v["padding"], v["dilation"])
        assert q.answer == side(layer, v["size"]) >= 2
        inexact += any(step[0] == "quiz.step.inexact" for step in q.solution)
        padded += v["padding"] > 0
        dilated += v["dilation"] > 1
    assert min(inexact, padded, dilated) >= 10  # the harder cases come up often


def test_conv_cell_is_torchs():
    for q in questions("convolution", "cell"):
        v = q.prompt[1]
        x, w = np.array(q.inputs["input"]), np.array(q.inputs["kernel"])
        assert 3 <= x.shape[0] <= 6 and 2 <= w.shape[0] <= 3 and x.min() >= 0 and x.max() <= 9
        out = F.conv2d(tensor(x), tensor(w), stride=v["stride"], padding=v["padding"])
        assert min(out.shape[-2:]) >= 2
        assert q.answer == cell(out, v)


def test_receptive_field_is_the_span_of_torchs_gradient():
    for q in questions("convolution", "receptive_field"):
        modules = []
        for row in q.inputs["layers"]:
            k, s, d = row["kernel"], row["stride"], row["dilation"]
            if row["kind"] == "conv":
                conv = torch.nn.Conv1d(1, 1, k, s, dilation=d, bias=False, dtype=torch.float64)
                torch.nn.init.ones_(conv.weight)
                modules.append(conv)
            else:
                modules.append(torch.nn.AvgPool1d(k, s))
        x = torch.zeros(1, 1, q.answer + 40, dtype=torch.float64, requires_grad=True)
        torch.nn.Sequential(*modules)(x)[0, 0, 0].backward()
        seen = torch.nonzero(x.grad[0, 0]).flatten()
        assert 2 <= len(q.inputs["layers"]) <= 4
        assert q.answer == int(seen[-1] - seen[0]) + 1


def test_parameters_are_torchs():
    for q in questions("convolution", "parameters"):
        v = q.prompt[1]
        bias = not q.prompt[0].endswith("no_bias")
        layer = torch.nn.Conv2d(v["in_channels"], v["out_channels"], v["kernel"], bias=bias)
        assert q.answer == sum(p.numel() for p in layer.parameters())


def dense_vs_conv_weights(v: dict, ask: str) -> int:
    image, channels, hidden = v["image"], v["channels"], v["hidden"]
    if ask == "dense":
        return sum(p.numel() for p in torch.nn.Linear(image * image * channels, hidden).parameters())
    kernel = v["kernel"]
    conv = torch.nn.Conv2d(channels, 1, kernel, bias=False)
    outputs = conv(torch.zeros(1, channels, image, image)).numel()
    return conv.weight.numel() + sum(p.numel() for p in torch.nn.Linear(outputs, hidden).parameters())


def test_dense_vs_conv_weights_are_torchs():
    asked = set()
    for q in questions("convolution", "dense_vs_conv"):
        ask = q.prompt[0].rsplit(".", 1)[-1]
        asked.add(ask)
        assert q.answer == dense_vs_conv_weights(q.prompt[1], ask)
    assert asked == {"dense", "conv"}


# --- transposed convolution ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "lesson,kind", [("transposed_convolution", "output_size"), ("segmentation", "transposed_output_size")]
)
def test_transposed_output_size_is_torchs(lesson, kind):
    for q in questions(lesson, kind):
        v = q.prompt[1]
        layer = torch.nn.ConvTranspose2d(1, 1, v["kernel"], v["stride"], v["padding"], v["output_padding"])
        assert q.answer == side(layer, v["size"]) >= 2


def test_transposed_cell_is_torchs():
    for q in questions("transposed_convolution", "cell"):
        v = q.prompt[1]
        out = F.conv_transpose2d(
            tensor(q.inputs["input"]), tensor(q.inputs["kernel"]), stride=v["stride"], padding=v["padding"]
        )
        assert q.answer == cell(out, v)
        assert any(step[0] == "quiz.step.transposed_copy" for step in q.solution)  # some copy covers it


# --- pooling ------------------------------------------------------------------------------------


def test_pool_output_size_is_torchs():
    for q in questions("pooling", "output_size"):
        v = q.prompt[1]
        assert q.answer == side(torch.nn.MaxPool2d(v["kernel"], v["stride"], v["padding"]), v["size"]) >= 2


@pytest.mark.parametrize("kind,pool", [("max_cell", F.max_pool2d), ("avg_cell", F.avg_pool2d)])
def test_pool_cell_is_torchs(kind, pool):
    for q in questions("pooling", kind):
        v = q.prompt[1]
        out = pool(tensor(q.inputs["input"]), v["kernel"], v["stride"])
        assert q.answer == pytest.approx(cell(out, v), abs=1e-12)
        assert q.answer_type == ("int" if kind == "max_cell" else "float")


def test_unpool_cell_is_torchs():
    for q in questions("pooling", "unpool"):
        v = q.prompt[1]
        x, values, k = tensor(q.inputs["input"]), tensor(q.inputs["values"]), v["kernel"]
        pooled, indices = F.max_pool2d(x, k, k, return_indices=True)
        windows = F.unfold(x, k, stride=k)[0]  # (k·k, windows)
        assert ((windows == windows.max(0).values).sum(0) == 1).all(), "a tie would make the position ambiguous"
        marker = torch.zeros_like(values)
        marker[0, 0, v["row"] - 1, v["col"] - 1] = 1
        out = F.max_unpool2d(marker, indices, k, k, output_size=x.shape[-2:])
        row, col = (int(i) + 1 for i in torch.nonzero(out[0, 0])[0])
        assert q.answer == (row, col)


# --- edges and activations ----------------------------------------------------------------------

EDGE = torch.zeros(8, 8, dtype=torch.float64)
EDGE[:4] = 1.0  # bright above, dark below: a horizontal edge
EDGE_IMAGES = {"horizontal": EDGE, "vertical": EDGE.T, "flat": torch.full((8, 8), 0.5, dtype=torch.float64)}


def finds(kernel, direction: str) -> bool:
    response = {
        name: F.conv2d(image[None, None], tensor(kernel)).abs().max().item() for name, image in EDGE_IMAGES.items()
    }
    other = "vertical" if direction == "horizontal" else "horizontal"
    return response[direction] > 0.5 and response[other] < 1e-9 and response["flat"] < 1e-9


def is_sobel(kernel) -> bool:
    return sorted(np.abs(np.array(kernel)).flatten()) == [0, 0, 0, 1, 1, 1, 1, 2, 2]


def test_sobel_choice_is_the_kernel_that_finds_the_asked_edges():
    directions = set()
    for q in [*questions("edges", "sobel"), *questions("worked", "W6", range(20))]:
        direction = (
            "horizontal"
            if q.prompt[0] in ("quiz.worked.sobel.prompt", "quiz.edges.sobel.prompt.horizontal")
            else "vertical"
        )
        directions.add(direction)
        assert len(set(q.choices)) == len(q.choices) == 4
        assert [finds(k, direction) for k in q.choices] == [i == q.answer for i in range(4)]
        assert is_sobel(q.choices[q.answer])
    assert directions == {"horizontal", "vertical"}


TORCH_ACTIVATIONS = {
    "relu": torch.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "gelu": F.gelu,
    "silu": F.silu,
}


def fits(f, interval: dict) -> bool:
    """Whether torch's function takes exactly the values of the interval (sampled, within 0.002)."""
    wide = f(torch.linspace(-15, 15, 30001, dtype=torch.float64))
    near = f(torch.linspace(-3, 3, 6001, dtype=torch.float64))
    far_low, far_high = f(torch.tensor([-1e4, 1e4], dtype=torch.float64)).tolist()
    if interval["low"] == "−∞":
        low_ok = far_low < -100
    else:
        reached = near.min().item() - interval["low"] < 0.002
        low_ok = far_low > -100 and abs(wide.min().item() - interval["low"]) < 0.002
        low_ok = low_ok and reached == (interval["left"] == "[")
    if interval["high"] == "∞":
        high_ok = far_high > 100
    else:
        reached = interval["high"] - near.max().item() < 0.002
        high_ok = far_high < 100 and abs(wide.max().item() - interval["high"]) < 0.002
        high_ok = high_ok and reached == (interval["right"] == "]")
    return low_ok and high_ok


def test_activation_range_is_the_one_torch_takes():
    asked = set()
    for q in questions("activations", "range"):
        name = q.prompt[1]["function"].removeprefix("activation.")
        asked.add(name)
        assert len(set(map(repr, q.choices))) == len(q.choices) == 4
        assert [fits(TORCH_ACTIVATIONS[name], c[1]) for c in q.choices] == [i == q.answer for i in range(4)]
    assert asked == set(TORCH_ACTIVATIONS)


# --- detection ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lesson", ["detection", "instances"])
def test_iou_is_torchvisions(lesson):
    for q in questions(lesson, "iou"):
        boxes = torch.tensor(q.inputs["boxes"], dtype=torch.float64)
        iou = torchvision.ops.box_iou(boxes[:1], boxes[1:])[0, 0].item()
        assert 0 < iou < 1 and q.answer == pytest.approx(iou, abs=1e-12)
        assert q.answer_type == "float" and q.tolerance == 0.01


@pytest.mark.parametrize("lesson", ["detection", "instances"])
def test_nms_keeps_what_torchvision_keeps(lesson):
    for q in questions(lesson, "nms"):
        boxes = torch.tensor(q.inputs["boxes"], dtype=torch.float64)
        scores = torch.tensor(q.inputs["scores"], dtype=torch.float64)
        threshold = q.prompt[1]["threshold"]
        kept = torchvision.ops.nms(boxes, scores, threshold)
        assert q.answer == tuple(sorted(int(i) + 1 for i in kept))
        assert 1 <= len(q.answer) < len(boxes)  # something is suppressed
        assert len(set(q.inputs["scores"])) == len(boxes)  # no tie decides the order
        ious = torchvision.ops.box_iou(boxes, boxes)[~torch.eye(len(boxes), dtype=torch.bool)]
        assert ((ious - threshold).abs() >= 0.05).all()  # an IoU estimated to 2 decimals decides the same


# --- architectures, feature maps, segmentation --------------------------------------------------


def test_bottleneck_weights_are_torchs():
    asked = set()
    for q in questions("architectures", "bottleneck"):
        v, ask = q.prompt[1], q.prompt[0].rsplit(".", 1)[-1]
        asked.add(ask)
        k, c, out = v["kernel"], v["channels"], v["out_channels"]
        with torch.device("meta"):
            if ask == "direct":
                layers = [torch.nn.Conv2d(c, out, k, padding=k // 2, bias=False)]
            else:
                r = v["reduced"]
                layers = [torch.nn.Conv2d(c, r, 1, bias=False), torch.nn.Conv2d(r, out, k, padding=k // 2, bias=False)]
            y = torch.nn.Sequential(*layers)(torch.zeros(1, c, v["size"], v["size"]))
        assert y.shape[-1] == v["size"]  # padded: the map keeps its size, as the prompt says
        assert q.answer == sum(layer.weight.numel() for layer in layers)
    assert asked == {"direct", "bottleneck"}


def test_dense_head_parameters_are_torchs():
    for q in questions("architectures", "gap"):
        v = q.prompt[1]
        size, channels, outputs = v["size"], int(v["channels"]), int(v["outputs"])
        with torch.device("meta"):
            head = torch.nn.Linear(size * size * channels, outputs)
            after_gap = torch.nn.Linear(channels, outputs)
        assert q.answer == sum(p.numel() for p in head.parameters())
        assert q.solution[-1][1]["parameters"] == sum(p.numel() for p in after_gap.parameters())


def test_yolo_shape_is_the_reshaped_output_of_its_last_layer():
    for q in questions("architectures", "yolo"):
        v = q.prompt[1]
        s, b, c = v["grid"], v["boxes"], v["classes"]
        with torch.device("meta"):
            out = torch.nn.Linear(16, s * s * (5 * b + c))(torch.zeros(1, 16)).reshape(s, s, -1)
        assert q.answer == tuple(out.shape)


def test_lenet_layers_are_the_notes():
    notes = {row[0]: row[4] for row in worked_examples()["W15"]["rows"]}
    for q in questions("architectures", "lenet", range(30)):
        assert q.answer == notes[q.prompt[1]["layer"]]


@functools.cache
def torchvision_layers(network: str, size: int) -> dict[str, tuple]:
    """'conv2' -> (module, input shape (C, H, W), output shape) of torchvision's network, counted here."""
    build = {"AlexNet": torchvision.models.alexnet, "VGG16": torchvision.models.vgg16}[network]
    with torch.device("meta"):
        features = build().features
        x = torch.zeros(1, 3, size, size)
        layers, counts = {}, {"conv": 0, "pool": 0}
        for module in features:
            y = module(x)
            kind = {torch.nn.Conv2d: "conv", torch.nn.MaxPool2d: "pool"}.get(type(module))
            if kind:
                counts[kind] += 1
                layers[f"{kind}{counts[kind]}"] = (module, tuple(x.shape[1:]), tuple(y.shape[1:]))
            x = y
    return layers


def test_layer_shapes_are_torchvisions():
    pools = 0
    for q in questions("features", "layer_shape"):
        v = q.prompt[1]
        module, shape_in, shape_out = torchvision_layers(v["network"], v["image"])[v["layer"]]
        assert (v["channels"], v["height"], v["height"]) == shape_in
        assert (v["kernel"], v["stride"], v["padding"]) == tuple(
            p[0] if isinstance(p, tuple) else p for p in (module.kernel_size, module.stride, module.padding)
        )
        assert q.answer == shape_out
        pools += isinstance(module, torch.nn.MaxPool2d)
    assert 10 <= pools <= 90


def test_layer_parameters_are_torchvisions():
    for q in questions("features", "layer_parameters"):
        v = q.prompt[1]
        module, _, _ = torchvision_layers(v["network"], 224)[v["layer"]]  # parameters do not depend on the size
        assert (v["channels"], v["out_channels"], v["kernel"]) == (
            module.in_channels,
            module.out_channels,
            module.kernel_size[0],
        )
        assert q.answer == sum(p.numel() for p in module.parameters())


@functools.cache
def unet_shapes(depth: int, width: int, size: int) -> dict[tuple[str, int], tuple[int, ...]]:
    """('down' | 'up', level) -> (C, H, W) after that block of cnnlab's UNet, caught by forward hooks."""
    from cnnlab.unet import UNet

    seen = {}

    def keep(stage: str, level: int):
        return lambda module, inputs, output: seen.__setitem__((stage, level), tuple(output.shape[1:]))

    with torch.device("meta"):
        model = UNet(3, 2, depth, width)
        for level, block in enumerate(model.down):
            block.register_forward_hook(keep("down", level))
        for k, merge in enumerate(model.merge):
            merge.register_forward_hook(keep("up", depth - 1 - k))
        model(torch.zeros(1, 3, size, size))
    return seen


def test_unet_level_shapes_are_the_networks():
    stages = set()
    for q in questions("segmentation", "unet_level"):
        v, stage = q.prompt[1], q.prompt[0].rsplit(".", 1)[-1]
        stages.add(stage)
        shapes = unet_shapes(v["depth"], v["width"], v["size"])
        assert q.answer == shapes[("up" if stage == "up" else "down", v["level"])]
        assert (stage == "bottom") == (v["level"] == v["depth"])
    assert stages == {"down", "bottom", "up"}


# --- the notes' worked examples -----------------------------------------------------------------


def test_worked_matrices_are_torchs_and_the_notes():
    ex = worked_examples()
    for example_id in ("W1", "W2", "W3", "W4"):
        e, q = ex[example_id], quiz.worked_question(example_id)
        out = F.conv2d(tensor(e["input"]), tensor(e["kernel"]), stride=e["stride"], padding=e["padding"])
        assert q.answer == tuple(map(tuple, out[0, 0].int().tolist())) == tuple(map(tuple, e["expected"]))
    for example_id in ("W9", "W10", "W11"):
        e, q = ex[example_id], quiz.worked_question(example_id)
        out = F.conv_transpose2d(tensor(e["input"]), tensor(e["kernel"]), stride=e["stride"], padding=e["padding"])
        assert q.answer == tuple(map(tuple, out[0, 0].int().tolist())) == tuple(map(tuple, e["expected"]))
    e = ex["W5"]
    out = F.max_pool2d(tensor(e["input"]), e["kernel_size"], e["stride"])
    assert quiz.worked_question("W5").answer == tuple(map(tuple, out[0, 0].int().tolist()))
    assert quiz.worked_question("W5").answer == tuple(map(tuple, e["expected"]))
    e = ex["W7"]
    _, indices = F.max_pool2d(tensor(e["input"]), 2, 2, return_indices=True)
    out = F.max_unpool2d(tensor(e["unpool_input"]), indices, 2, 2)
    assert quiz.worked_question("W7").answer == tuple(map(tuple, out[0, 0].int().tolist()))
    assert quiz.worked_question("W7").answer == tuple(map(tuple, e["expected_unpool"]))
    out = F.interpolate(tensor(ex["W8"]["input"]), scale_factor=2, mode="nearest")
    assert quiz.worked_question("W8").answer == tuple(map(tuple, out[0, 0].int().tolist()))
    assert quiz.worked_question("W8").answer == tuple(map(tuple, ex["W8"]["expected"]))
    assert any(step[0] == "quiz.step.transposed_trap" for step in quiz.worked_question("W11").solution)


def test_worked_numbers_are_torchs_and_the_notes():
    for q in questions("worked", "W12", range(30)):
        v = q.prompt[1]
        assert (v["kernel"], v["stride"], v["padding"]) == (3, 2, 1)
        conv = torch.nn.Conv1d(1, 1, 3, 2, 1)
        assert q.answer == conv(torch.zeros(1, 1, v["size"])).shape[-1]
    asked = {}
    for q in questions("worked", "W14", range(20)):
        asked[q.prompt[0].rsplit(".", 1)[-1]] = q.answer
    direct = torch.nn.Conv2d(480, 48, 5, bias=False).weight.numel()
    reduced = torch.nn.Conv2d(480, 16, 1, bias=False).weight.numel() + torch.nn.Conv2d(16, 48, 5).weight.numel()
    assert asked == {"direct": direct, "bottleneck": reduced} == {"direct": 576_000, "bottleneck": 26_880}
    notes = {row[0]: row[4] for row in worked_examples()["W15"]["rows"]}
    layers = {}
    for q in questions("worked", "W15", range(60)):
        layers[q.prompt[1]["layer"]] = q.answer
    assert layers == notes  # C3's 1516 included: the sparse connection table
    parts = {q.prompt[0]: q.answer for q in questions("worked", "W16", range(20))}
    with torch.device("meta"):
        alexnet = torch.nn.Conv2d(3, 96, 11, 4, 2)(torch.zeros(1, 3, 224, 224)).shape[-1]
        fc = torch.nn.Linear(7 * 7 * 1024, 1024, bias=False).weight.numel()
    assert parts == {"quiz.worked.alexnet.prompt": alexnet, "quiz.worked.gap.prompt": fc}
    assert alexnet == 55 and fc == 51_380_224
    for q in questions("worked", "W17", range(30)):
        ask, v = q.prompt[0].rsplit(".", 1)[-1], q.prompt[1]
        assert (v["image"], v["channels"], v.get("kernel", 2)) == (3, 1, 2)
        n = v["hidden"]
        assert q.answer == dense_vs_conv_weights(v, ask) == (10 * n if ask == "dense" else 5 * n + 4)
    yolo = quiz.worked_question("W18")
    assert yolo.answer == (7, 7, 30) and "7x7x30" in worked_examples()["W18"]["facts"][0]


# --- check() ------------------------------------------------------------------------------------


def wrong_answers(q: quiz.Question) -> list:
    a = q.answer
    if q.answer_type in ("int", "float"):
        return [a + 1, a - 1, a + 0.05, str(a + 1), None, "", "abc", [a], float("nan")]
    if q.answer_type == "matrix":
        m = np.array(a)
        wrong = [m[:-1].tolist(), m[:, :-1].tolist(), (m + 1).tolist(), m.flatten().tolist(), "abc", 5, [[]]]
        changed = m.copy()
        changed[-1, -1] += 1
        wrong.append(changed.tolist())
        if not np.array_equal(m, m.T):
            wrong.append(m.T.tolist())
        return wrong
    if q.answer_type == "choice":
        return [i for i in range(len(q.choices)) if i != a] + [len(q.choices), -1, None, "x", 0.5]
    if q.answer_type == "cell":
        wrong = [(a[0] + 1, a[1]), (a[0], a[1] - 1), (a[0] - 1, a[1] - 1), (a[0],), (*a, 1), None, "r1c1"]
        return wrong + ([(a[1], a[0])] if a[0] != a[1] else [])
    if q.answer_type == "indices":
        others = [i for i in range(1, 7) if i not in a]
        return [a[:-1], (*a, others[0]), tuple(i - 1 for i in a), (*a, a[0]), " ".join(map(str, a)) + "0", None, 1.5]
    if q.answer_type == "shape":
        return [(*a[:-1], a[-1] + 1), a[:-1], (*a, 1), "7x7", "axbxc", 7]
    raise AssertionError(q.answer_type)


@pytest.mark.parametrize("lesson,kind", ALL_KINDS)
def test_check_accepts_the_answer_and_rejects_wrong_ones(lesson, kind):
    for q in questions(lesson, kind, range(20)):
        assert quiz.check(q, q.answer)
        for wrong in wrong_answers(q):
            assert not quiz.check(q, wrong), (q, wrong)


def test_check_reads_answers_as_typed():
    q = quiz.question("convolution", 0, "output_size")
    assert quiz.check(q, q.answer) and quiz.check(q, float(q.answer)) and quiz.check(q, f" {q.answer} ")
    assert not quiz.check(q, q.answer + 0.5) and not quiz.check(q, True)
    avg = next(q for q in questions("pooling", "avg_cell") if not float(q.answer).is_integer())
    assert quiz.check(avg, round(avg.answer, 2)) and quiz.check(avg, f"{avg.answer:.2f}".replace(".", ","))
    assert not quiz.check(avg, round(avg.answer, 2) + 0.02)
    unpool = quiz.question("pooling", 0, "unpool")
    assert quiz.check(unpool, list(unpool.answer)) and quiz.check(unpool, np.array(unpool.answer))
    w1 = quiz.worked_question("W1")
    assert quiz.check(w1, np.array(w1.answer)) and quiz.check(w1, [[str(v) for v in row] for row in w1.answer])
    yolo = quiz.worked_question("W18")
    assert all(quiz.check(yolo, typed) for typed in ("7x7x30", "7 × 7 × 30", "7, 7, 30", [7, 7, 30]))
    nms = dataclasses.replace(q, answer=(1, 3), answer_type="indices")  # the detection kinds' type
    assert quiz.check(nms, [3, 1]) and quiz.check(nms, (1, 3)) and quiz.check(nms, "3, 1")
    assert not any(quiz.check(nms, typed) for typed in ([1], [1, 2, 3], [1, 3, 3], [0, 2], "13", None))


def test_thousands_separators_of_every_language_are_read():
    q = dataclasses.replace(quiz.question("convolution", 0, "output_size"), answer=61_100_840)
    for typed in ("61100840", "61,100,840", "61.100.840", "61 100 840", "61\u00a0100\u00a0840", "61\u202f100\u202f840"):
        assert quiz.check(q, typed) and quiz.read_answer(q, typed) == 61_100_840, typed
    for typed in ("61,100.840", "6,1100,840", "61,10,0840"):  # mixed or misplaced separators: not a grouping
        assert not quiz.check(q, typed), typed


def read_error(q: quiz.Question, typed) -> str | None:
    try:
        quiz.read_answer(q, typed)
    except LessonInputError as err:
        assert placeholders(ENGLISH[err.key]) == set(err.values)
        return err.key
    return None


def test_read_answer_reads_what_students_type_and_explains_the_rest():
    size = quiz.question("convolution", 0, "output_size")  # int
    assert quiz.read_answer(size, " 7 ") == 7 and quiz.read_answer(size, "7.0") == 7
    assert read_error(size, "") == read_error(size, "   ") == read_error(size, None) == "quiz.error.empty"
    assert read_error(size, "seven") == read_error(size, "inf") == read_error(size, "nan") == "quiz.error.number"
    assert read_error(size, "7.5") == read_error(size, "7,5") == "quiz.error.whole"
    avg = next(q for q in questions("pooling", "avg_cell") if not float(q.answer).is_integer())  # float
    assert quiz.read_answer(avg, "2,75") == quiz.read_answer(avg, "2.75") == 2.75
    assert quiz.read_answer(avg, "−1,5") == -1.5
    assert read_error(avg, "2.7.5") == "quiz.error.number"
    nms = quiz.question("detection", 0, "nms")  # indices
    assert quiz.read_answer(nms, "3, 1") == (3, 1) and quiz.read_answer(nms, "1 3;4") == (1, 3, 4)
    assert read_error(nms, "one, three") == read_error(nms, ",") == read_error(nms, "1.5") == "quiz.error.indices"
    yolo = quiz.worked_question("W18")  # shape
    assert quiz.read_answer(yolo, "7 × 7 × 30") == quiz.read_answer(yolo, "7x7x30") == (7, 7, 30)
    assert read_error(yolo, "big") == read_error(yolo, "× ×") == "quiz.error.shape"
    w1 = quiz.worked_question("W1")  # matrix: the lesson pages' matrix reader and its messages
    assert quiz.check(w1, quiz.read_answer(w1, "\n".join(" ".join(map(str, r)) for r in w1.answer)))
    assert read_error(w1, "1 2\n3") == "matrix.error.ragged" and read_error(w1, "1 x") == "matrix.error.not_number"
    sobel = quiz.question("edges", 0, "sobel")  # choice
    assert read_error(sobel, None) == "quiz.error.choice" and quiz.read_answer(sobel, 2) == 2
    unpool = quiz.question("pooling", 0, "unpool")  # cell
    assert read_error(unpool, (None, 2)) == "quiz.error.empty" and quiz.read_answer(unpool, (1, 2)) == (1, 2)


def test_nothing_typed_raises_anything_but_a_message():
    rng = random.Random(0)
    alphabet = "0123456789 ,.;:-−+×xX*eEinfa\u00a0\u202f'\n\t[]()_é中"
    samples = {q.answer_type: q for lesson, kind in ALL_KINDS for q in questions(lesson, kind, range(2))}
    assert set(samples) == set(quiz.ANSWER_TYPES)  # every kind of answer is tried
    typed = [
        "9" * 400,
        "1e309",
        "-0",
        "0x10",
        "1_000",
        "½",
        "٣",
        *("".join(rng.choices(alphabet, k=rng.randint(1, 30))) for _ in range(400)),
    ]
    for q in samples.values():
        if q.answer_type in ("choice", "cell"):
            continue  # chosen from bounded widgets, never typed
        for text in typed:
            try:
                value = quiz.read_answer(q, text)
            except LessonInputError as err:
                assert err.key in ENGLISH, err.key
            else:
                assert isinstance(quiz.check(q, value), bool)
            assert isinstance(quiz.check(q, text), bool)


def test_every_worked_example_is_asked_on_a_lesson_page():
    on_pages = [example for lesson in LESSONS for example in quiz.worked_for(lesson)]
    assert set(on_pages) == set(LESSONS["worked"])
    assert all(lesson in LESSONS for lesson in quiz.WORKED_BY_LESSON)


# --- texts --------------------------------------------------------------------------------------


def placeholders(text: str | dict) -> set[str]:
    """The fields of a catalog entry; of each plural form ({"one": ..., "other": ...}) alike."""
    forms = text.values() if isinstance(text, dict) else [text]
    found = [{field for _, field, _, _ in string.Formatter().parse(form) if field} for form in forms]
    assert all(f == found[0] for f in found), text
    return found[0]


def texts(q: quiz.Question) -> list[quiz.Text]:
    items = [q.prompt, *q.solution, *(c for c in q.choices if isinstance(c[0], str))]
    items += [(f"quiz.input.{name}", {}) for name in q.inputs]
    items += [(v, {}) for _, values in list(items) for v in values.values() if isinstance(v, quiz.Key)]
    return items


@pytest.mark.parametrize("lesson,kind", ALL_KINDS)
def test_every_text_is_in_the_catalog_with_exactly_its_placeholders(lesson, kind):
    for q in questions(lesson, kind, range(50)):
        for key, values in texts(q):
            assert key in ENGLISH, key
            assert placeholders(ENGLISH[key]) == set(values), key
            assert all(isinstance(v, int | float | str) and not isinstance(v, bool) for v in values.values()), key


def test_message_fills_in_and_translates_nested_keys():
    def t(key, **values):
        return ENGLISH[key].format(**values)

    q = next(q for q in questions("activations", "range") if q.prompt[1]["function"] == "activation.tanh")
    assert quiz.message(q.prompt, t) == "Which values can tanh take? Pick its range."
    assert quiz.message(q.choices[q.answer], t) == "(-1, 1)"
    assert all(quiz.message(step, t) for step in q.solution)


def labels() -> list[quiz.Text]:
    return [quiz.kind_label(lesson, kind) for lesson, kind in ALL_KINDS] + [quiz.lesson_label(n) for n in LESSONS]


def test_every_kind_and_lesson_has_a_label():
    for key, values in labels():
        assert key in ENGLISH and placeholders(ENGLISH[key]) == set(values), key
    shared = [quiz.kind_label(lesson, "output_size")[0] for lesson, kinds in LESSONS.items() if "output_size" in kinds]
    assert len(shared) == len(set(shared)) == 3  # "output size" of which operation: each lesson says
    assert quiz.kind_label("worked", "W7") == ("quiz.kind.worked", {"id": "W7"})


READ_ERRORS = {"quiz.error.empty", "quiz.error.choice", "quiz.error.number", "quiz.error.whole"}
READ_ERRORS |= {"quiz.error.indices", "quiz.error.shape"}


def test_the_catalog_has_no_unused_quiz_keys():
    used = {key for lesson, kind in ALL_KINDS for q in questions(lesson, kind, range(50)) for key, _ in texts(q)}
    used |= {key for key, _ in labels()} | READ_ERRORS
    unreached = {"quiz.step.activation_high.reached"}  # for a function with a largest value: none in the table yet
    assert set(QUIZ_TEXTS) - used == unreached


@pytest.mark.parametrize("seed", range(60))
def test_training_questions_follow_the_engine(seed):
    import math

    from cnnlab.training import BATCH, MAX_STEPS, error_reduction

    q = quiz.question("training", seed, "error_reduction")
    old, new = (float(v) for v in (q.prompt[1]["old"], q.prompt[1]["new"]))
    assert 0 < new < old and q.answer == pytest.approx(100 * (old - new) / old)
    assert q.answer == pytest.approx(100 * error_reduction(old, new))
    assert quiz.check(q, f"{q.answer:.1f}") and not quiz.check(q, f"{q.answer + 0.1:.1f}")
    q = quiz.question("training", seed, "training_steps")
    values = q.prompt[1]
    assert q.answer == math.ceil(values["pictures"] / BATCH) * values["epochs"] <= MAX_STEPS
    assert values["batch"] == BATCH and quiz.check(q, str(q.answer)) and not quiz.check(q, str(q.answer + 1))


def test_the_notes_error_reduction_is_594_percent():
    from cnnlab.training import error_reduction

    assert round(100 * error_reduction(0.143, 0.058), 1) == 59.4  # 003: (0.143 − 0.058) / 0.143
