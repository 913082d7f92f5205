"""Numbers follow the session's language everywhere a page writes one: matrices and step-throughs, the
matrix editors (which read back what they show), Plotly figures, sliders, tables, exported code, counts."""

import json
import re

import numpy as np
import pytest

from cnnlab.errors import LessonInputError
from cnnlab.i18n import localise_decimals, number, significant, translator
from cnnlab.images import MAX_DECODE_PIXELS, ImageInputError
from cnnlab.matrices import matrix_text, parse_matrix
from cnnlab.snippets import conv2d_code, pool2d_code, run_snippet
from cnnlab.steps import avg_pool2d_steps, conv2d_steps, fmt
from tests.pagehelpers import drawn_matrices, open_page, stepper_frame, steppers
from ui.frame_image import trace_gif
from ui.localise import localised_figure, localised_trace
from ui.plots import bars_figure, map_figure
from ui.trace import final_texts
from ui.traces import pool_trace

POINT_DECIMAL = re.compile(r"\d\.\d")
NBSP = "\xa0"


# --- the matrix editors: one rule for commas, in every language ----------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1 2 3\n4 5 6", [[1, 2, 3], [4, 5, 6]]),
        ("1,2,3\n4,5,6", [[1, 2, 3], [4, 5, 6]]),  # no spaces: commas separate, as before
        ("1, 2, 3", [[1, 2, 3]]),  # a comma before a space always separates
        ("0,5 1,5\n-2,25 3", [[0.5, 1.5], [-2.25, 3]]),  # spaces separate: the comma is a decimal comma
        ("0,5; 1,5", [[0.5, 1.5]]),
        ("0,5, 1,5", [[0.5, 1.5]]),
        ("0.5 1.5", [[0.5, 1.5]]),
        ("1.5,2.5", [[1.5, 2.5]]),
        ("0,5;\n1,5;", [[0.5], [1.5]]),  # a one-number row with a decimal comma ends in ';'
        ("0,5", [[0, 5]]),  # ... because without it the comma separates
        ("1,2,3\n4 5 6", [[1, 2, 3], [4, 5, 6]]),  # the rule holds row by row
        ("\u22121 2", [[-1, 2]]),  # a typographic minus copied from the notes
    ],
)
def test_the_matrix_editor_reads_decimal_commas_and_comma_separated_rows(text, expected):
    np.testing.assert_array_equal(parse_matrix(text), np.array(expected, dtype=float))


def test_a_token_with_two_decimal_commas_is_refused_with_a_message():
    with pytest.raises(LessonInputError) as err:
        parse_matrix("1,2,3 4")
    assert err.value.key == "matrix.error.not_number" and "1,2,3" in err.value.message(translator("pl"))


@pytest.mark.parametrize("decimal", [".", ","])
def test_what_the_editor_shows_is_read_back(decimal):
    rng = np.random.default_rng(7)
    for _ in range(300):
        h, w = rng.integers(1, 6, 2)
        m = np.round(rng.normal(0, 3, (h, w)), rng.integers(0, 4))
        m[rng.random((h, w)) < 0.2] *= 1000.5  # exponents (1.23e+03) too
        shown = [[float(fmt(v)) for v in row] for row in m]  # the cells keep fmt's 3 significant digits
        np.testing.assert_array_equal(parse_matrix(matrix_text(m, decimal)), shown)
    assert matrix_text(np.array([[0.5, -1], [2, 1.25]]), ",") == " 0,5   -1\n   2 1,25"


# --- the engine's words for numbers --------------------------------------------------------


def test_numbers_in_every_language():
    assert [significant(0.012345, lang) for lang in ("en", "ro", "ru")] == ["0.0123", "0,0123", "0,0123"]
    assert significant(123456.0, "pl") == f"123{NBSP}000" and significant(2.0, "uk") == "2"
    assert significant(9.357623e-14, "ru", 2) == "9,4·10⁻¹⁴" and significant(9.357623e-14, "en", 2) == "9.4·10⁻¹⁴"
    assert localise_decimals("max(1, 2.5, 3) = 2.5", "pl") == "max(1; 2,5; 3) = 2,5"
    assert localise_decimals("max(1, 2.5, 3) = 2.5", "en") == "max(1, 2.5, 3) = 2.5"


def test_the_pixel_limit_is_written_the_language_way():
    err = ImageInputError("image.error.too_many_pixels", width=9000, height=9000, limit=MAX_DECODE_PIXELS)
    assert "40,000,000" in err.message(translator("en"))
    assert f"40{NBSP}000{NBSP}000" in err.message(translator("pl"))
    assert "40.000.000" in err.message(translator("ro"))


@pytest.mark.parametrize(
    "lang,key,count,phrase",
    [
        ("en", "feat.filters.first_title", 1, "1 filter,"),
        ("en", "feat.filters.first_title", 64, "64 filters"),
        ("ro", "feat.filters.first_title", 3, "3 filtre"),
        ("ro", "feat.filters.first_title", 64, "64 de filtre"),
        ("pl", "feat.filters.first_title", 3, "3 filtry"),
        ("pl", "feat.filters.first_title", 64, "64 filtry"),  # 62–64 take the few form
        ("pl", "feat.filters.first_title", 96, "96 filtrów"),
        ("uk", "feat.filters.first_title", 21, "21 фільтр "),
        ("ru", "feat.filters.first_title", 96, "96 фильтров"),
        ("ru", "feat.table.totals", 2, "2 параметра"),
        ("ro", "error.too_many_steps", 1500, "1.500 de pași"),
        ("en", "size.inexact", 1, "the last row/column"),
        ("pl", "size.inexact", 3, "ostatnie 3 wiersze"),
        ("ro", "tconv.direct.intro", 1, "inserați 1 zero "),
    ],
)
def test_counts_agree_with_their_number(lang, key, count, phrase):
    values = {"k": 11, "flops": "1", "max": 1024, "axis": "H", "num": 5, "s": 2, "out": 3}
    values |= {"p": 0, "pad": 2, "shown": 8, "layer": "conv1"}
    assert phrase in translator(lang)(key, count=count, **values)


# --- exported code ---------------------------------------------------------------------------


def test_exported_code_speaks_the_page_language_and_still_runs():
    x, w = np.arange(16.0).reshape(4, 4), np.array([[0.5, 0], [0, -1]])
    english, polish = conv2d_code(x, w), conv2d_code(x, w, t=translator("pl"))
    assert "# (H, W) input" in english and "(H, W) wejście" in polish and "input" not in polish
    assert "oczekuje kształtów" in polish and "[0.5, 0]" in polish  # code keeps Python's decimal point
    np.testing.assert_array_equal(run_snippet(polish), run_snippet(english))
    assert "вход" in pool2d_code(x, 2, stride=2, t=translator("ru"))


# --- step-throughs and figures ------------------------------------------------------------


def test_a_trace_is_shown_in_the_language_decimals():
    x = np.array([[1.0, 2.0], [2.5, 4.0]])
    trace = pool_trace(translator("en"), avg_pool2d_steps(x, 2, stride=2), x, "input", "avg")
    polish = localised_trace(trace, "pl")
    assert localised_trace(trace, "en") is trace
    assert final_texts(polish)[1].tolist() == [["2,38"]] and final_texts(trace)[1].tolist() == [["2.38"]]  # a copy
    assert polish["grids"][0]["v"] == [["1", "2"], ["2,5", "4"]]
    assert polish["steps"][0]["t"] == "(1 + 2 + 2,5 + 4) / 4 = 2,375"
    assert trace_gif(polish)[:6] == b"GIF89a"  # the export draws the same texts


def test_figures_use_the_language_separators_and_labels():
    bars = localised_figure(bars_figure(["a", "b"], [0.875, 0.125], "top"), "ru")
    assert bars.layout.separators == "," + NBSP and bars.layout.yaxis.exponentformat == "none"  # not 200k
    assert list(bars.data[0].text) == [f"12,5{NBSP}%", f"87,5{NBSP}%"]  # the bars, the smallest first
    assert list(bars.layout.xaxis.ticktext) == [f"0{NBSP}%", f"25{NBSP}%", f"50{NBSP}%", f"75{NBSP}%", f"100{NBSP}%"]
    heat = localised_figure(map_figure(np.array([[0.0, 0.5], [0.25, 1.5]]), "map", signed=False), "pl")
    assert list(heat.data[0].colorbar.ticktext) == ["0", "0,375", "0,75", "1,12", "1,5"]
    english = localised_figure(map_figure(np.array([[0.0, 0.5], [0.25, 1.5]]), "map", signed=False), "en")
    assert english.layout.separators == ".," and english.data[0].colorbar.ticktext[1] == "0.375"
    probability = localised_figure(map_figure(np.array([[6.5e-8, 1.0]]), "P", signed=False), "uk")
    assert list(probability.data[0].colorbar.ticktext) == ["0", "0,25", "0,5", "0,75", "1"]


# --- pages ----------------------------------------------------------------------------------


def _cell_texts(at) -> list[str]:
    return [v for e in at.get("html") for v in re.findall(r"<td[^>]*>(.*?)</td>", e.proto.body)]


def test_static_matrices_and_steppers_write_decimal_commas_in_polish():
    at = open_page("lessons/pooling.py", "pl")
    cells = _cell_texts(at)
    assert "1,25" in cells and not [c for c in cells if POINT_DECIMAL.search(c)]  # W8's bilinear upsampling
    assert drawn_matrices(at)["up-bilinear"][0, 1] == 1.25  # and the page helpers read them back
    at.radio(key="pool.mode").set_value("avg").run()
    trace = steppers(at)["pool.steps"]["trace"]
    texts = [c for g in trace["grids"] for row in g["v"] for c in row] + [
        s[3] for st in trace["steps"] for s in st["s"]
    ]
    assert any("," in c for c in texts) and not [c for c in texts if POINT_DECIMAL.search(c)]
    assert not [st["t"] for st in trace["steps"] if POINT_DECIMAL.search(st["t"])]
    assert any("(H, W) wejście" in c.value for c in at.code)


def test_the_editor_takes_what_it_shows_and_the_stepper_keeps_its_place_across_languages():
    at = open_page("lessons/convolution.py", "en")
    at.text_area(key="conv.w").set_value("0,5 1\n1 0,5").run()  # Polish-typed kernel on an English page
    english = steppers(at)["conv.steps"]
    assert not at.error and "0.5" in json.dumps(english["trace"]["grids"][1]["v"])
    at.session_state["lang"] = "pl"
    at.run()
    polish = steppers(at)["conv.steps"]
    assert polish["sig"] == english["sig"]  # same numbers: the browser keeps the current step
    assert polish["trace"]["grids"][1]["v"] == [["0,5", "1"], ["1", "0,5"]]
    assert "·0,5" in polish["trace"]["steps"][0]["t"]
    x = parse_matrix(at.text_area(key="conv.x").value)
    expected = [[float(fmt(v)) for v in row] for row in conv2d_steps(x, [[0.5, 1], [1, 0.5]])[-1].output]
    np.testing.assert_array_equal(stepper_frame(at, "conv.steps")["output"], expected)  # read back from '0,5' texts


def test_layer_table_and_bias_slider_in_russian():
    at = open_page("lessons/convolution.py", "ru")
    editor = at.dataframe[0].proto
    assert editor.placeholder == "—"  # a pooling row's empty channels, not "None"
    columns = json.loads(editor.columns)
    assert [columns[c]["label"] for c in ("kernel", "stride", "padding", "dilation", "channels")] == list("KSPDC")
    assert columns["channels"]["help"] == "Каналы"
    bias = at.select_slider(key="conv.rgb.bias")
    assert bias.value == -8.0 and "-7,5" in bias.options
    bias.set_value(-7.5).run()
    assert at.query_params["conv.rgb.bias"] in (["-7.5"], "-7.5")  # the link keeps the number, not the label
    assert "+ (-7,5) =" in steppers(at)["conv.rgb"]["trace"]["steps"][0]["t"]


def test_charts_tables_and_notes_follow_the_language():
    at = open_page("lessons/activations.py", "ru")
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert specs and all(s["layout"]["separators"] == "," + NBSP for s in specs)
    config = json.loads(at.get("plotly_chart")[0].proto.config)  # the toolbar's tooltips, in Russian
    assert config["locale"] == "ru" and config["locales"]["ru"]["dictionary"]["Autoscale"] == "Автомасштаб"
    assert any("9,4·10⁻¹⁴" in s.value for s in at.success)
    lenet = open_page("lessons/architectures.py", "pl").table[0].value
    assert lenet.iloc[0, 3] == f"122{NBSP}304" and lenet.iloc[4, 4] == f"48{NBSP}120"


def test_instance_sliders_and_table_in_polish():
    at = open_page("lessons/instances.py", "pl")
    assert at.select_slider(key="inst.score").options[:2] == ["0,05", "0,10"]
    scores = at.dataframe[0].value.iloc[:, 2].tolist()
    assert scores and all(re.fullmatch(r"[01],\d{3}", s) for s in scores)
    assert number(0.5, "pl", 2) in at.select_slider(key="inst.mask").options
