"""AppTest: every page renders, every preset reproduces the notes, bad input gets a message."""

import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnlab.i18n import catalog, languages, number, pick_language, plural_category, translator
from cnnlab.presets import conv_presets, transposed_presets
from cnnlab.snippets import run_snippet
from cnnlab.steps import transposed_conv2d_steps
from tests.pagehelpers import APP, drawn_matrices, open_page, stepper_frame, steppers

PAGES = {  # page -> catalog key of its title
    "lessons/home.py": "home.title",
    "lessons/convolution.py": "conv.title",
    "lessons/edges.py": "edges.title",
    "lessons/activations.py": "act.title",
    "lessons/pooling.py": "pool.title",
    "lessons/transposed_convolution.py": "tconv.title",
    "lessons/features.py": "feat.title",
    "lessons/architectures.py": "arch.title",
    "lessons/segmentation.py": "seg.title",
    "lessons/instances.py": "inst.title",
    "lessons/training.py": "train.title",
    "lessons/detection.py": "det.title",
    "lessons/quiz.py": "quizmode.title",
}


@pytest.mark.parametrize("lang", list(languages()))
@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception(page, lang):
    at = open_page(page, lang)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == catalog(lang)[PAGES[page]]


def test_navigation_lists_every_lesson():
    source = (Path(__file__).resolve().parent.parent / "app.py").read_text()
    for page in PAGES:
        assert f'"{page}"' in source


def test_every_language_catalog_is_complete():
    english = set(catalog("en"))
    for lang in languages():
        missing = english - set(catalog(lang))
        assert not missing, f"{lang} lacks {sorted(missing)}"


def test_no_catalog_is_a_copy_of_another():
    codes = list(languages())
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            same = [k for k in catalog("en") if catalog(a)[k] == catalog(b)[k]]
            assert len(same) < 0.15 * len(catalog("en")), f"{a} and {b} share {len(same)} strings"


@pytest.mark.parametrize(
    "requested,browser,expected",
    [("ro", "en-US", "ro"), (None, "ro-RO", "ro"), (None, "de-DE", "en"), ("xx", None, "en"), (None, "RO", "ro")],
)
def test_first_visit_language(requested, browser, expected):
    assert pick_language(requested, browser) == expected


def test_the_language_stays_in_the_url():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "ro"
    at.run()
    at.session_state["lang"] = "en"
    at.run()
    assert at.query_params["lang"] == ["en"] or at.query_params["lang"] == "en"


def forms(text) -> list[str]:
    """The texts of a catalog entry: one string, or each plural form of a dict."""
    return list(text.values()) if isinstance(text, dict) else [text]


def placeholders(text) -> set[str]:
    return {p for form in forms(text) for p in re.findall(r"{\w+}", form)}


def test_translations_keep_every_placeholder_and_are_translated():
    english = catalog("en")
    for lang in languages():
        if lang == "en":
            continue
        translated = catalog(lang)
        for key, text in english.items():
            assert placeholders(translated[key]) == placeholders(text), (lang, key)
        same = [k for k in english if translated[k] == english[k]]
        assert len(same) < 0.15 * len(english), f"{lang}: {len(same)} strings are still English: {same}"


COUNTS = [0, 1, 2, 5, 11, 21, 22, 25, 101, 1.5]


@pytest.mark.parametrize("lang", list(languages()))
def test_plural_forms_cover_every_count(lang):
    t = translator(lang)
    plural_keys = [k for k, v in catalog("en").items() if isinstance(v, dict)]
    assert plural_keys, "English has plural entries"
    for key in plural_keys:
        entry = catalog(lang)[key]
        if isinstance(entry, dict):  # a string is allowed: a phrasing that is right for every count
            needed = {plural_category(c, lang) for c in COUNTS} | {"other"}
            assert needed <= set(entry), f"{lang} {key} lacks {needed - set(entry)}"
        others = {name.strip("{}"): "·" for name in placeholders(catalog("en")[key])}  # {k}, {layer}, … filled in
        for count in COUNTS:
            assert number(count, lang) in t(key, **others | {"count": count}), (lang, key, count)


def test_plural_forms_follow_each_language():
    assert translator("en")("inst.figure", count=1) == "1 instance found"
    assert translator("en")("inst.figure", count=21) == "21 instances found"
    assert translator("ro")("inst.figure", count=2) == "2 instanțe găsite"
    assert translator("ro")("inst.figure", count=21) == "21 de instanțe găsite"


@pytest.mark.parametrize(
    "lang,big,small", [("en", "61,100,840", "0.11"), ("ro", "61.100.840", "0,11"), ("pl", "61\xa0100\xa0840", "0,11")]
)
def test_numbers_follow_the_language(lang, big, small):
    assert number(61_100_840, lang) == big and number(0.11, lang, 2) == small


def last_step(at, key):
    return stepper_frame(at, key)


def final_message(at, key) -> dict | None:
    return steppers(at)[key]["trace"]["final"]


@pytest.mark.parametrize("preset_id", list(conv_presets()))
def test_convolution_presets_reproduce_the_notes_on_the_page(preset_id):
    at = open_page("lessons/convolution.py")
    at.selectbox(key="conv.preset").select(preset_id).run()
    assert not at.exception
    drawn = last_step(at, "conv.steps")
    np.testing.assert_array_equal(drawn["output"], conv_presets()[preset_id].expected)
    final = final_message(at, "conv.steps")
    assert final["k"] == "success" and preset_id in final["x"], "the last step says the result matches the notes"


def test_convolution_first_step_shows_the_notes_sum():
    at = open_page("lessons/convolution.py")
    assert steppers(at)["conv.steps"]["trace"]["steps"][0]["t"].endswith("= 9")
    drawn = stepper_frame(at, "conv.steps", 1)
    assert drawn["output"][0, 0] == 9 and np.isnan(drawn["output"]).sum() == 15


@pytest.mark.parametrize("preset_id", list(transposed_presets()))
def test_transposed_presets_reproduce_the_notes_on_the_page(preset_id):
    at = open_page("lessons/transposed_convolution.py")
    at.selectbox(key="tconv.preset").select(preset_id).run()
    assert not at.exception
    drawn = last_step(at, "tconv.scatter")
    np.testing.assert_array_equal(drawn["output"], transposed_presets()[preset_id].expected)
    drawn = last_step(at, "tconv.direct")
    np.testing.assert_array_equal(drawn["direct-output"], transposed_presets()[preset_id].expected)
    assert any(w.value.startswith("The W11 trap") for w in at.warning) == preset_id.startswith("W11")


def test_w11_trap_shows_both_outputs():
    drawn = drawn_matrices(open_page("lessons/transposed_convolution.py"))
    np.testing.assert_array_equal(drawn["trap-p0"], transposed_presets()["W11"].expected)
    np.testing.assert_array_equal(drawn["trap-p1"], [[0, 2], [2, 0]])


def test_every_step_of_the_scatter_trace_equals_the_engine():
    at = open_page("lessons/transposed_convolution.py")
    w9 = transposed_presets()["W9"]
    engine = transposed_conv2d_steps(w9.input, w9.kernel)
    assert len(steppers(at)["tconv.scatter"]["trace"]["steps"]) == len(engine)
    for i, step in enumerate(engine, start=1):
        np.testing.assert_array_equal(stepper_frame(at, "tconv.scatter", i)["output"], step.output)
    assert engine[2].output[0].tolist() == [1, 2, 2, 4]  # the first row is complete once cells 1 and 2 painted it


@pytest.mark.parametrize(
    "key,text,message",
    [
        ("conv.x", "1 2 3\n4 5", "same number of values"),
        ("conv.x", "1 2\nthree 4", "is not a number"),
        ("conv.x", "", "empty"),
        ("conv.x", "1 2\n3 4", "larger than the padded input"),
        ("conv.w", "1 nan", "finite"),
    ],
)
def test_bad_matrices_get_a_message(key, text, message):
    at = open_page("lessons/convolution.py")
    at.text_area(key=key).input(text).run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]


def test_zero_stride_gets_a_message_in_the_calculator():
    at = open_page("lessons/convolution.py")
    at.number_input(key="conv.size.s").set_value(0).run()
    assert not at.exception
    assert any("Stride S must be a whole number of at least 1" in e.value for e in at.error)


def test_output_size_calculator_explains_inexact_division_and_checks_torch():
    at = open_page("lessons/convolution.py")
    at.number_input(key="conv.size.h").set_value(6).run()
    at.number_input(key="conv.size.w").set_value(7).run()
    assert any("not a whole number (remainder 1)" in w.value for w in at.warning)
    assert any("3 × 4" in m.value and "torch.nn.Conv2d" in m.value for m in at.markdown)
    at.radio(key="conv.size.mode").set_value("same").run()  # P = 1 for K = 3: sizes become ceil(M / S)
    assert any("P = ⌊K/2⌋ = 1" in i.value for i in at.info)
    assert any("**Formula:** 3 × 4 · **torch.nn.Conv2d on a zero tensor:** 3 × 4" in m.value for m in at.markdown)


def test_romanian_error_messages_are_translated():
    at = open_page("lessons/convolution.py", "ro")
    at.number_input(key="conv.size.s").set_value(0).run()
    assert any(catalog("ro")["param.stride"] in e.value for e in at.error)


def test_page_state_survives_a_visit_to_another_page():
    at = open_page("lessons/convolution.py")
    at.selectbox(key="conv.preset").select("W4").run()
    at.number_input(key="conv.stride").set_value(2).run()
    at.switch_page("lessons/transposed_convolution.py").run()
    at.switch_page("lessons/convolution.py").run()
    assert at.selectbox(key="conv.preset").value == "W4"
    assert at.number_input(key="conv.stride").value == 2


def test_rgb_step_applies_bias_and_relu():
    at = open_page("lessons/convolution.py")
    out = last_step(at, "conv.rgb")["rgb-output"]
    assert out.shape == (3, 3) and (out >= 0).all()
    at.selectbox(key="conv.rgb.act").select("none").run()
    assert (last_step(at, "conv.rgb")["rgb-output"] < 0).any()


def test_layer_stack_table_on_the_page():
    at = open_page("lessons/convolution.py")
    stack = next(tb for tb in at.table if "Jump" in str(tb.value.columns.tolist()))
    df = stack.value
    assert df.iloc[-1].tolist() == ["pool2 2×2", "8×8×128", "16×16", "4", "0"]
    assert any(
        m.value == f"{(3 * 9 * 64 + 64) + (64 * 9 * 64 + 64) + (64 * 9 * 128 + 128) + (128 * 9 * 128 + 128):,}"
        for m in at.metric
    )


STEPPERS = {  # page -> the steppers it shows at first
    "lessons/convolution.py": {"conv.steps", "conv.rgb"},
    "lessons/edges.py": {"edges.W4"},
    "lessons/pooling.py": {"pool.steps", "unpool.steps"},
    "lessons/transposed_convolution.py": {"tconv.scatter", "tconv.direct"},
}


@pytest.mark.parametrize("page", STEPPERS)
def test_every_step_through_is_the_one_stepper_with_its_code(page):
    at = open_page(page)
    assert set(steppers(at)) == STEPPERS[page]
    assert not [b.key for b in at.button if b.key and b.key.startswith("btn.")], "the old server-side controls are gone"
    shown = {c.value for c in at.code if c.language == "python"}
    assert shown, "the page shows the PyTorch code of its step-throughs"
    finals = [stepper_frame(at, name) for name in STEPPERS[page]]
    results = [run_snippet(code) for code in shown]
    for final in finals:  # each stepper's result is what one of the page's snippets computes
        output = list(final.values())[-1]  # the result is the last grid of every trace
        assert any(r.shape == output.shape and np.allclose(r, output, atol=5e-4) for r in results)


def test_a_link_reopens_the_demo_in_its_language_and_settings():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"lang": "ro", "conv.preset": "W2", "conv.stride": "2"})
    at.run()
    at.switch_page("lessons/convolution.py").run()
    assert not at.exception
    assert at.title[0].value == "Convoluția"
    assert at.selectbox(key="conv.preset").value == "W2"
    np.testing.assert_array_equal(stepper_frame(at, "conv.steps")["output"], conv_presets()["W2"].expected)


def test_a_step_through_too_long_to_show_is_refused_with_a_message():
    at = open_page("lessons/transposed_convolution.py")
    at.selectbox(key="tconv.preset").select("custom").run()
    at.text_area(key="tconv.x").set_value("\n".join(" ".join(["1"] * 12) for _ in range(12))).run()
    at.text_area(key="tconv.w").set_value("\n".join(" ".join(["1"] * 12) for _ in range(12))).run()
    at.number_input(key="tconv.stride").set_value(6).run()
    at.number_input(key="tconv.output_padding").set_value(5).run()
    assert not at.exception
    assert "tconv.direct" not in steppers(at)
    assert any("6,889 steps" in e.value for e in at.error)
