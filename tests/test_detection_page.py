"""AppTest of the object-detection page: every step-through ends where torchvision does, every figure's
numbers come from the engine, and bad input gets a message."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.ops import box_iou, nms, roi_align, roi_pool

from cnnlab.detection import detector_stages, nms_example, sliding_windows
from cnnlab.detection_snippets import nms_code, roi_code, softmax_code
from cnnlab.features import class_logits
from cnnlab.i18n import catalog
from cnnlab.images import sample_images
from cnnlab.models import get_model
from cnnlab.snippets import run_snippet
from cnnlab.steps import fmt
from tests.pagehelpers import open_page, stepper_frame, steppers
from ui.inference import drawn_picture
from ui.trace import final_texts

PAGE = "lessons/detection.py"


@pytest.fixture(scope="module")
def page():
    at = open_page(PAGE)
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def scene():
    """The page's default picture, as the page hands it to the network."""
    return drawn_picture(Image.open(sample_images()["generated_scene"]).convert("RGB"))


def texts_of(at, name: str, grid: str) -> list[str]:
    trace = steppers(at)[name]["trace"]
    index = [g["n"] for g in trace["grids"]].index(grid)
    return [row[0] for row in final_texts(trace)[index]]


def test_nms_on_the_networks_boxes_keeps_what_torchvision_keeps(page, scene):
    stages = detector_stages(scene, "lab.maskrcnn")
    counts = {k: len(stages.head_candidates(k)[0]) for k in range(1, len(stages.class_names))}
    label = max(counts, key=lambda k: (counts[k], -k))  # the page's default: the class with the most boxes
    boxes, scores = (v[:15] for v in stages.head_candidates(label))
    verdicts = texts_of(page, "det.nms", "nms-verdict")
    kept_on_page = [row for row, v in enumerate(verdicts) if v == catalog("en")["det.nms.kept"]]
    expected = nms(torch.from_numpy(boxes), torch.from_numpy(scores), 0.5).tolist()
    assert kept_on_page == sorted(expected)  # rows are in score order, and so are nms's indices here
    assert all(v for v in verdicts), "every box ends kept or removed"
    trace = steppers(page)["det.nms"]["trace"]
    assert len(trace["steps"]) == 2 * len(expected) + 1  # the candidates, then per kept box: choose it, apply it
    asked = [s["p"]["c"][0] for s in trace["steps"] if "p" in s]  # predict mode: which box is taken next?
    assert asked == [[0, row, 0] for row in sorted(expected)]
    assert len(trace["pictures"][0]["b"]) == len(boxes)
    last_styles = dict(zip(trace["steps"][-1]["x"][0][1][::2], trace["steps"][-1]["x"][0][1][1::2], strict=True))
    assert sorted(k for k, s in last_styles.items() if s in ("kept", "taken")) == sorted(expected)
    np.testing.assert_array_equal(run_snippet(nms_code(boxes, scores, 0.5)), expected)


def test_nms_example_follows_the_threshold(page):
    page.radio(key="det.nms.source").set_value("example").run()
    example = nms_example()
    for threshold in (0.3, 0.7):
        page.select_slider(key="det.nms.threshold").set_value(threshold).run()
        assert not page.exception
        verdicts = texts_of(page, "det.nms", "nms-verdict")
        expected = nms(torch.from_numpy(example.boxes), torch.from_numpy(example.scores), threshold)
        assert verdicts.count(catalog("en")["det.nms.kept"]) == len(expected)
    page.radio(key="det.nms.source").set_value("detector").run()


def test_roi_pooling_and_roi_align_end_at_torchvisions_outputs(page):
    feature = torch.from_numpy(stepper_frame(page, "det.roi.pool")["roi-pool-feature"])[None, None]
    box = torch.tensor([[0, 1.3, 0.6, 5.7, 4.9]], dtype=torch.float64)
    pooled = stepper_frame(page, "det.roi.pool")["roi-pool-output"]
    aligned = stepper_frame(page, "det.roi.align")["roi-align-output"]
    np.testing.assert_allclose(pooled, roi_pool(feature, box, 2)[0, 0].numpy())
    np.testing.assert_allclose(aligned, roi_align(feature, box, 2, sampling_ratio=2, aligned=True)[0, 0], atol=5e-3)
    page.toggle(key="det.roi.aligned").set_value(False).run()
    page.number_input(key="det.roi.ratio").set_value(3).run()
    unaligned = stepper_frame(page, "det.roi.align")["roi-align-output"]
    np.testing.assert_allclose(unaligned, roi_align(feature, box, 2, sampling_ratio=3, aligned=False)[0, 0], atol=5e-3)
    code = roi_code(feature[0, 0].numpy(), [1.3, 0.6, 5.7, 4.9], 2, 3, False)
    np.testing.assert_allclose(run_snippet(code), roi_align(feature, box, 2, sampling_ratio=3)[0, 0], atol=1e-9)
    page.toggle(key="det.roi.aligned").set_value(True).run()
    page.number_input(key="det.roi.ratio").set_value(2).run()


def test_a_bad_feature_map_gets_a_message(page):
    page.text_area(key="det.roi.feature").set_value("1 2\n3 x").run()
    assert not page.exception
    assert any("x" in e.value for e in page.error)
    page.text_area(key="det.roi.feature").set_value("1 2 3\n4 5 6\n7 8 9").run()
    assert not page.exception and "det.roi.pool" in steppers(page)


def test_softmax_step_through_ends_at_torch_softmax_and_cross_entropy(page, scene):
    logits = class_logits(get_model("lab.shapes"), Image.open(sample_images()["generated_scene"]).convert("RGB"))
    target = int(np.argmax(logits))
    expected = torch.softmax(torch.from_numpy(logits), 0).numpy()
    assert texts_of(page, "det.softmax", "sm-p") == [fmt(v) for v in np.sort(expected)[::-1]]
    trace = steppers(page)["det.softmax"]["trace"]
    loss = F.cross_entropy(torch.from_numpy(logits)[None], torch.tensor([target])).item()
    assert f"{loss:.3g}" in trace["final"]["x"]
    np.testing.assert_allclose(run_snippet(softmax_code(logits, target)), expected, rtol=1e-6)


def test_iou_formula_is_torchvisions_iou(page):
    latex = [e.value for e in page.latex if "IoU" in e.value][0]
    expected = box_iou(torch.tensor([[20.0, 20, 120, 100]]), torch.tensor([[60.0, 50, 170, 130]]))[0, 0].item()
    assert latex.strip("$\n").endswith(f"= {expected:.3f}")
    page.number_input(key="det.iou.ax2").set_value(10).run()
    assert not page.exception
    assert page.error[0].value == catalog("en")["det.iou.empty_box"]
    page.number_input(key="det.iou.ax2").set_value(120).run()


def test_yolo_tab_says_the_notes_tensor_size(page):
    assert catalog("en")["det.yolo.w18"] in [s.value for s in page.success]
    assert any("7 \\times 7 \\times 30" in e.value for e in page.latex)
    page.number_input(key="det.yolo.grid").set_value(13).run()
    assert any("13 \\times 13 \\times 30" in e.value for e in page.latex)
    page.number_input(key="det.yolo.grid").set_value(7).run()


def test_sliding_window_count_on_the_page(page, scene):
    total = sum(s.count for s in sliding_windows(scene.size, (32, 64, 128, 256), 0.5))
    assert [m.value for m in page.metric][:2] == [f"{total:,}", "1"]


@pytest.mark.parametrize("lang", ["uk", "pl"])
def test_the_page_steps_through_nms_in_other_languages(lang):
    at = open_page(PAGE, lang)
    assert not at.exception
    verdicts = texts_of(at, "det.nms", "nms-verdict")
    assert catalog(lang)["det.nms.kept"] in verdicts
    assert steppers(at)["det.nms"]["labels"]["next"] == catalog(lang)["steps.next"]


@pytest.mark.parametrize("name", ["det.roi.pool", "det.roi.align", "det.softmax"])
def test_predict_mode_asks_the_cell_each_step_writes(page, name):
    from ui.trace import replay

    trace = steppers(page)[name]["trace"]
    asked = 0
    for index, texts, _ in replay(trace):
        p = trace["steps"][index].get("p")
        if p is None:
            continue
        grid, r, c = p["c"][0]
        assert texts[grid][r][c] == fmt(p["v"])  # the value typed in is the one the step reveals
        assert any(change[:3] == [grid, r, c] for change in trace["steps"][index]["s"])  # written at this step
        asked += 1
    assert asked >= (4 if name.startswith("det.roi") else 3)
