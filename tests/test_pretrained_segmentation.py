"""torchvision's segmentation models through the registry, from generated checkpoints in a temporary TORCH_HOME."""

import numpy as np
import pytest
import torch
from PIL import Image

from cnnlab import segmentation
from cnnlab.segmentation import detect, get_segmentation_model, segment
from cnnlab.weights import WeightsError, checkpoint_path
from tests.checkpoints import torch_home


def write_segmentation_checkpoint(name: str) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    state = segmentation.segmentation_registry()[name].build().state_dict()
    path = checkpoint_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return state


@pytest.fixture
def home(tmp_path):
    segmentation._cache.clear()
    with torch_home(tmp_path) as path:
        yield path
    segmentation._cache.clear()


PHOTO = Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 450, 3), dtype=np.uint8))


@pytest.mark.parametrize("name", ["fcn_resnet50.voc", "deeplabv3_resnet50.voc"])
def test_voc_models_load_and_segment_at_the_picture_size(home, name):
    state = write_segmentation_checkpoint(name)
    loaded = get_segmentation_model(name, "cpu")
    assert loaded.class_names[0] == "__background__" and len(loaded.class_names) == 21
    key = "backbone.conv1.weight"
    assert torch.equal(loaded.model.state_dict()[key], state[key])
    result = segment(PHOTO, name, "cpu")
    assert result.classes.shape == (300, 450) and result.probabilities.shape == (21, 300, 450)
    assert min(result.working_size) == 384  # shorter side on the CPU


def test_coco_mask_rcnn_loads_and_detects_at_a_cpu_size(home):
    write_segmentation_checkpoint("maskrcnn_resnet50_fpn_v2.coco")
    loaded = get_segmentation_model("maskrcnn_resnet50_fpn_v2.coco", "cpu")
    assert len(loaded.class_names) == 91 and loaded.class_names[1] == "person"
    assert loaded.model.transform.min_size == (512,)
    result = detect(PHOTO, "maskrcnn_resnet50_fpn_v2.coco", score_threshold=0.0, device="cpu")
    assert result.working_size == (768, 512)
    for instance in result.instances:
        assert instance.mask.shape == (300, 450) and instance.mask.dtype == bool
        x1, y1, x2, y2 = instance.box
        assert 0 <= x1 <= x2 <= 450 and 0 <= y1 <= y2 <= 300


def test_missing_segmentation_weights_name_the_command(home):
    with pytest.raises(WeightsError) as err:
        get_segmentation_model("fcn_resnet50.voc", "cpu")
    assert "python -m cnnlab.weights download fcn_resnet50.voc" in str(err.value)


def test_a_classifier_checkpoint_under_a_segmentation_name_is_refused(home):
    path = checkpoint_path("deeplabv3_resnet50.voc")
    path.parent.mkdir(parents=True)
    torch.save({"weight": torch.zeros(3)}, path)
    with pytest.raises(WeightsError) as err:
        get_segmentation_model("deeplabv3_resnet50.voc", "cpu")
    assert err.value.key == "weights.error.corrupt"


def test_wrong_task_is_refused():
    with pytest.raises(WeightsError) as err:
        segment(PHOTO, "lab.maskrcnn")
    assert err.value.key == "weights.error.unknown_model" and "deeplabv3_resnet50.voc" in str(err.value)
    with pytest.raises(WeightsError) as err:
        detect(PHOTO, "lab.unet")
    assert err.value.key == "weights.error.unknown_model" and "maskrcnn_resnet50_fpn_v2.coco" in str(err.value)


@pytest.fixture
def page_home(home):
    from cnnlab.models import _cache as model_cache

    model_cache.clear()
    yield home
    model_cache.clear()


def test_semantic_page_falls_back_then_uses_cached_fcn(page_home):
    from tests.pagehelpers import open_page

    at = open_page("lessons/segmentation.py")
    at.selectbox(key="seg.model").select("fcn_resnet50.voc").run()
    assert not at.exception
    assert any("python -m cnnlab.weights download fcn_resnet50.voc" in i.value for i in at.info)
    assert any("ships with the app" in w.value for w in at.warning)
    write_segmentation_checkpoint("fcn_resnet50.voc")
    at.run()
    assert not at.exception, at.exception
    assert not any("not on this machine" in i.value for i in at.info)
    assert any("the network saw 384 × 384" in c.value for c in at.caption)
    assert any("ResNet-50" in m.value for m in at.markdown)
    assert at.selectbox(key="seg.class.fcn_resnet50.voc").options[15] == "person"


@pytest.mark.parametrize("lang", ["pl", "ru"])
def test_voc_classes_are_named_in_the_page_language(page_home, lang):
    from cnnlab.i18n import class_name
    from tests.pagehelpers import open_page

    write_segmentation_checkpoint("fcn_resnet50.voc")
    at = open_page("lessons/segmentation.py", lang)
    at.selectbox(key="seg.model").select("fcn_resnet50.voc").run()
    assert not at.exception, at.exception
    options = at.selectbox(key="seg.class.fcn_resnet50.voc").options
    assert options[15] == class_name(lang, "voc", "person") != "person"
    assert options[0] not in ("__background__", "background")  # the catalog's word for the background


def test_detection_page_runs_the_cached_coco_mask_rcnn(page_home):
    """With COCO R50-FPN v2 weights cached (random here), the detection lesson opens it up: five FPN levels."""
    from cnnlab.i18n import catalog
    from tests.pagehelpers import open_page, steppers

    write_segmentation_checkpoint("maskrcnn_resnet50_fpn_v2.coco")
    at = open_page("lessons/detection.py")
    at.selectbox(key="det.model").select("maskrcnn_resnet50_fpn_v2.coco").run(timeout=300)
    assert not at.exception, at.exception
    anchors_table = next(t for t in at.dataframe if catalog("en")["det.anchors.col.stride"] in t.value.columns)
    assert len(anchors_table.value) == 5  # the FPN's five feature maps, each with its own anchors
    assert "det.nms" in steppers(at) and not at.error
