"""Class names of the published datasets (VOC, COCO, ImageNet) in every language of the app."""

import pytest
from torchvision.models import _meta

from cnnlab.i18n import class_catalog, class_name, dataset_of, languages

PUBLISHED = {
    "voc": [c for c in _meta._VOC_CATEGORIES if c != "__background__"],
    "coco": [c for c in dict.fromkeys(_meta._COCO_CATEGORIES) if c not in ("__background__", "N/A")],
    "imagenet": list(_meta._IMAGENET_CATEGORIES),
}
TRANSLATED = [lang for lang in languages() if lang != "en"]


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_voc_and_coco_class_has_a_name_and_most_imagenet_ones(lang):
    names = class_catalog(lang)
    for dataset, published in PUBLISHED.items():
        assert set(names[dataset]) <= set(published), f"{lang} {dataset}: names of classes that do not exist"
        assert all(isinstance(v, str) and v.strip() for v in names[dataset].values())
    assert set(names["voc"]) == set(PUBLISHED["voc"]) and set(names["coco"]) == set(PUBLISHED["coco"])
    assert len(names["imagenet"]) >= 900, f"{lang}: {len(names['imagenet'])} of 1000 ImageNet classes"
    # mostly translated, not copied (a few words are the same in the language: pizza, laptop, beagle)
    for dataset in PUBLISHED:
        same = sum(k == v for k, v in names[dataset].items())
        assert same <= 0.15 * len(names[dataset]), f"{lang} {dataset}: {same} names left in English"


def test_a_name_falls_back_to_the_published_one():
    assert class_name("en", "coco", "person") == "person"
    assert class_name("uk", "coco", "person") != "person"
    assert class_name("uk", "coco", "a class nobody has") == "a class nobody has"
    assert class_name("xx", "voc", "cat") == "cat"


@pytest.mark.parametrize(
    "model,dataset",
    [
        ("alexnet.imagenet", "imagenet"),
        ("fcn_resnet50.voc", "voc"),
        ("maskrcnn_resnet50_fpn_v2.coco", "coco"),
        ("lab.shapes", None),
        ("lab.maskrcnn", None),
    ],
)
def test_the_dataset_of_a_model(model, dataset):
    assert dataset_of(model) == dataset
