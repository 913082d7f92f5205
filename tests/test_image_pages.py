"""AppTest of the pooling, edge and activation pages, and of the image picker with every kind of file."""

import numpy as np
import pytest

from cnnlab.images import sample_images
from cnnlab.presets import worked_examples
from tests import imagefiles as files
from tests.pagehelpers import drawn_matrices, open_page, stepper_frame, steppers

IMAGE_PAGES = {
    "lessons/pooling.py": "pool.image",
    "lessons/edges.py": "edges.image",
    "lessons/activations.py": "act.image",
    "lessons/features.py": "feat.image",
    "lessons/segmentation.py": "seg.image",
    "lessons/instances.py": "inst.image",
}


@pytest.mark.parametrize("preset,expected", [("W5", "expected"), ("W7", "expected_pool")])
def test_pooling_presets_on_the_page(preset, expected):
    at = open_page("lessons/pooling.py")
    at.selectbox(key="pool.preset").select(preset).run()
    assert not at.exception
    np.testing.assert_array_equal(stepper_frame(at, "pool.steps")["output"], worked_examples()[preset][expected])
    assert preset in steppers(at)["pool.steps"]["trace"]["final"]["x"]


def test_w7_unpooling_and_w8_on_the_page():
    at = open_page("lessons/pooling.py")
    drawn = drawn_matrices(at)
    w7, w8 = worked_examples()["W7"], worked_examples()["W8"]
    np.testing.assert_array_equal(drawn["w7-pooled"], w7["expected_pool"])
    np.testing.assert_array_equal(stepper_frame(at, "unpool.steps")["unpooled"], w7["expected_unpool"])
    assert "W7" in steppers(at)["unpool.steps"]["trace"]["final"]["x"]
    np.testing.assert_array_equal(drawn["up-nearest"], w8["expected"])
    assert drawn["up-bilinear"][0].tolist() == [1, 1.25, 1.75, 2]
    np.testing.assert_array_equal(drawn["up-transposed"], w8["expected"])
    at.toggle(key="up.align").set_value(True).run()
    assert drawn_matrices(at)["up-bilinear"][0].tolist() == pytest.approx(
        [1, 4 / 3, 5 / 3, 2], abs=0.005
    )  # drawn to 3 digits


def test_w16_numbers_on_the_page():
    at = open_page("lessons/pooling.py")
    assert [m.value for m in at.metric] == ["51,380,224", "0"]


def test_average_pooling_step():
    at = open_page("lessons/pooling.py")
    at.radio(key="pool.mode").set_value("avg").run()
    first = stepper_frame(at, "pool.steps", 1)["output"][0, 0]
    assert first == pytest.approx(np.mean(np.array(worked_examples()["W1"]["input"])[:3, :3]), abs=0.005)


EDGE_ROWS = [[0, 0, 0, 0], [8, 8, 8, 8], [8, 8, 8, 8], [0, 0, 0, 0]]  # 2+4+2 across the edge, 0 elsewhere


@pytest.mark.parametrize(
    "case,expected",
    [("W4", worked_examples()["W4"]["expected"]), ("W6", EDGE_ROWS), ("W6T", np.array(EDGE_ROWS).T.tolist())],
)
def test_edge_presets_on_small_matrices(case, expected):
    at = open_page("lessons/edges.py")
    at.selectbox(key="edges.preset").select(case).run()
    np.testing.assert_array_equal(stepper_frame(at, f"edges.{case}")["edge-output"], expected)


def upload(at, key, name, data):
    at.segmented_control(key=f"{key}.source").set_value("upload").run()
    at.file_uploader(key=f"{key}.upload").set_value((name, data, "application/octet-stream")).run()
    return at


@pytest.mark.parametrize("page,key", IMAGE_PAGES.items())
@pytest.mark.parametrize("name", list(files.GOOD))
def test_good_uploads_are_shown(page, key, name):
    at = upload(open_page(page), key, name, files.GOOD[name]())
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) >= (
        1 if page == "lessons/instances.py" else 2
    )  # the drawing, or picture + result


@pytest.mark.parametrize("page,key", IMAGE_PAGES.items())
@pytest.mark.parametrize(
    "name,message",
    [
        ("empty.png", "empty"),
        ("truncated.jpg", "damaged"),
        ("notes.png", "not an image"),
        ("bomb.png", "decompression bomb"),
        ("too-big.png", "decompression bomb"),
    ],
)
def test_bad_uploads_get_a_message(page, key, name, message):
    at = upload(open_page(page), key, name, files.BAD[name]())
    assert not at.exception, at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]


def test_upload_notes_say_what_was_done():
    at = upload(open_page("lessons/edges.py"), "edges.image", "big.jpg", files.big_jpeg())
    assert any("scaled down from 3,000 × 2,000" in c.value for c in at.caption)
    at = upload(open_page("lessons/edges.py"), "edges.image", "anim.gif", files.animated_gif())
    assert any("animation of 3 frames" in c.value for c in at.caption)


@pytest.mark.parametrize("sample", list(sample_images()))
def test_every_sample_works_on_the_edge_page(sample):
    at = open_page("lessons/edges.py")
    at.selectbox(key="edges.image.sample").select(sample).run()
    assert not at.exception and len(at.get("plotly_chart")) == 2


@pytest.mark.parametrize(
    "choice", ["sobel_magnitude", "sobel_direction", "sobel_x", "laplacian", "box_blur", "sharpen", "custom"]
)
def test_every_filter_on_the_photo(choice):
    at = open_page("lessons/edges.py")
    at.selectbox(key="edges.filter").select(choice).run()
    assert not at.exception and not at.error
    signed = choice not in ("sobel_magnitude", "sobel_direction", "box_blur", "sharpen")
    assert any("centred on zero" in i.value for i in at.info) == signed
    assert any("no direction" in i.value for i in at.info) == (choice == "sobel_direction")


def test_even_custom_kernel_gets_a_message():
    at = open_page("lessons/edges.py")
    at.selectbox(key="edges.filter").select("custom").run()
    at.text_area(key="edges.custom").input("1 -1\n1 -1").run()
    assert not at.exception
    assert any("odd size" in e.value for e in at.error)


def test_activation_page_relu_zeroes_and_notes():
    at = open_page("lessons/activations.py")
    assert not at.exception
    zeros = next(m.value for m in at.markdown if "exactly 0" in m.value)
    before, after = (int(part.rstrip("%")) for part in zeros.split("**")[1::2])
    assert before < 10 < after < 90  # ReLU of a Sobel response: roughly half the values are negative
    assert any("(−1, 1)" in w.value and "[0, 1]" in w.value for w in at.warning)
    ranges = next(tb for tb in at.table).value
    assert ranges.set_index(ranges.columns[0]).loc["tanh"].iloc[0] == "(−1, 1)"
    assert ranges.set_index(ranges.columns[0]).loc["sigmoid"].iloc[0] == "(0, 1)"


def test_camera_snapshot_goes_through_the_same_loader():
    at = open_page("lessons/edges.py")
    at.segmented_control(key="edges.image.source").set_value("camera").run()
    assert not at.exception
    assert any("Choose a picture" in i.value for i in at.info)
