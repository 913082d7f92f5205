"""AppTest: the training page trains and draws a run, compares augmentation on and off and three transfer starts."""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import cnnlab.training as training
from cnnlab.augment import TRANSFORMS
from cnnlab.training import TrainSettings, train
from cnnlab.training_runs import hall, wait
from tests.pagehelpers import APP, open_page, stepper_frame, steppers

PAGE = "lessons/training.py"
AUGMENT = ("hflip", "vflip", "color_jitter")


def small(at, size: int = 64, epochs: int = 3):
    at.number_input(key="train.size").set_value(size)
    at.number_input(key="train.epochs").set_value(epochs)
    return at.run()


def charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def line_charts(at) -> list[dict]:
    return [c for c in charts(at) if c["data"] and c["data"][0].get("type") == "scatter"]


def test_nothing_trains_until_train_is_pressed():
    at = small(open_page(PAGE))
    assert not at.exception
    assert any("Press **Train**" in i.value for i in at.info)
    assert not line_charts(at) and "train.filters" not in steppers(at)


def test_train_draws_the_run_the_engine_computes():
    at = small(open_page(PAGE))
    at.button(key="train.go").click().run()
    assert not at.exception and not at.error
    settings = TrainSettings(train_size=64, epochs=3)
    records = list(train(settings))  # the same settings and seed: the same run
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Epoch"] == "3 / 3"
    assert metrics["Held-out accuracy"] == f"{100 * records[-1].val_accuracy:.1f}%"
    loss, accuracy = line_charts(at)[:2]
    np.testing.assert_allclose(loss["data"][1]["y"], [r.val_loss for r in records], rtol=1e-6)
    np.testing.assert_allclose(accuracy["data"][0]["y"], [r.train_accuracy for r in records], rtol=1e-6)
    trace = steppers(at)["train.filters"]["trace"]
    assert len(trace["steps"]) == 4  # epochs 0..3: a frame per epoch
    last = stepper_frame(at, "train.filters")
    np.testing.assert_allclose(last["filter-0"], np.round(records[-1].first_layer[0].mean(0), 2), atol=1e-9)
    first = stepper_frame(at, "train.filters", 1)
    assert not np.array_equal(first["filter-0"], last["filter-0"])  # the filters moved
    confusion = [c for c in charts(at) if c["data"] and c["data"][0].get("type") == "heatmap"]
    assert np.sum(confusion[0]["data"][0]["z"]) == training.VAL_SIZE
    assert any("trainings this server has started" in c.value for c in at.caption)


def test_students_with_the_same_settings_share_the_run():
    first = small(open_page(PAGE))
    first.button(key="train.go").click().run()
    started = hall().trainings_started
    second = small(open_page(PAGE))
    second.button(key="train.go").click().run()
    assert hall().trainings_started == started  # the second student's Train trained nothing
    assert [m.value for m in second.metric] == [m.value for m in first.metric]


@pytest.mark.parametrize("preset,size,epochs", [("overfitting", 40, 30), ("lr_too_high", 2000, 10)])
def test_presets_set_the_settings(preset, size, epochs):
    at = open_page(PAGE)
    at.selectbox(key="train.preset").select(preset).run()
    assert at.number_input(key="train.size").value == size
    assert at.number_input(key="train.epochs").value == epochs
    note = training.presets()[preset]
    assert at.select_slider(key="train.lr").value == note.learning_rate


def test_a_link_reopens_the_settings_it_was_copied_with():
    at = AppTest.from_file(APP, default_timeout=60)
    params = {"train.kernel": "3", "train.classes": "circle,ring", "train.size": "100", "train.lr": "0.01"}
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.selectbox(key="train.kernel").value == 3
    assert at.multiselect(key="train.classes").value == ["circle", "ring"]
    assert at.number_input(key="train.size").value == 100
    assert at.select_slider(key="train.lr").value == 0.01
    assert at.number_input(key="train.epochs").value == 10  # not in the link: the preset's
    at.selectbox(key="train.pooling").set_value("avg").run()
    assert at.query_params["train.pooling"] in (["avg"], "avg")  # by its code, whatever the language


def test_one_class_is_refused_with_a_message():
    at = open_page(PAGE)
    at.multiselect(key="train.classes").set_value(["circle"]).run()
    assert not at.exception
    assert any("Choose between 2 and 8 different classes" in e.value for e in at.error)
    assert "train.filters" not in steppers(at)


def test_stop_leaves_a_run_others_still_watch():
    settings = TrainSettings(train_size=2000, epochs=20, seed=77)
    run = hall().join(settings, "another student")
    try:
        at = open_page(PAGE)
        at.number_input(key="train.epochs").set_value(20)
        at.number_input(key="train.seed").set_value(77).run()
        at.session_state["train.watching"] = (settings,)
        at.button(key="train.stop").click().run()
        assert any("Others are still watching" in i.value for i in at.info)
        assert not run.stop.is_set()
    finally:
        hall().stop(run, "another student")
        wait(run)
    assert run.snapshot().state in ("stopped", "done")


def test_a_run_at_the_step_cap_says_so(monkeypatch):
    monkeypatch.setattr(training, "MAX_STEPS", 3)
    at = small(open_page(PAGE), size=96, epochs=4)  # 3 steps an epoch: the cap ends epoch 1
    at.number_input(key="train.seed").set_value(4242).run()  # settings no other test has trained
    at.button(key="train.go").click().run()
    assert not at.exception
    assert any("limit of 3 training steps" in w.value for w in at.warning)
    assert {m.label: m.value for m in at.metric}["Epoch"] == "1 / 4"


def test_a_failed_training_says_so(monkeypatch):
    import cnnlab.training_runs

    def broken(*args, **kwargs):
        raise RuntimeError("no memory left")
        yield

    monkeypatch.setattr(cnnlab.training_runs, "train", broken)
    at = small(open_page(PAGE))
    at.number_input(key="train.seed").set_value(3133).run()
    at.button(key="train.go").click().run()
    assert not at.exception
    assert any("The training failed (RuntimeError)" in e.value for e in at.error), [e.value for e in at.error]


def test_the_page_trains_in_another_language():
    at = small(open_page(PAGE, "pl"), size=48, epochs=2)
    at.button(key="train.go").click().run()
    assert not at.exception and not at.error
    assert {m.label for m in at.metric} >= {"Epoka", "Dokładność (walidacyjny)"}


def test_augmentation_shows_each_transform_and_compares_two_runs(monkeypatch):
    base = TrainSettings(train_size=48, epochs=4)
    monkeypatch.setattr(training, "augmentation_pair", lambda augment=AUGMENT: (base, base.with_(augment=augment)))
    at = open_page(PAGE)
    at.radio(key="train.section").set_value("augment").run()
    assert not at.exception and not at.error
    grids = [len(e.proto.imgs) for e in at.get("image")]
    assert grids == [1 + len(TRANSFORMS), 8]  # the original and each transform alone, then the pipeline eight times
    captions = [img.caption for img in at.get("image")[0].proto.imgs]
    assert captions[3].startswith("rotation: angle ") and captions[3].endswith("°")
    at.button(key="aug.go").click().run()
    assert not at.exception and not at.error
    accuracy = line_charts(at)[0]
    assert [d["name"] for d in accuracy["data"]] == ["without augmentation", "with augmentation"]
    assert all(len(d["y"]) == 5 for d in accuracy["data"])
    without, with_ = (list(train(s)) for s in (base, base.with_(augment=AUGMENT)))
    np.testing.assert_allclose(accuracy["data"][1]["y"], [r.val_accuracy for r in with_], rtol=1e-6)
    old, new = 1 - without[-1].val_accuracy, 1 - with_[-1].val_accuracy
    formulas = [e.value for e in at.get("latex")]  # the notes' numbers, then ours
    assert "0.143" in formulas[0] and "59.4" in formulas[0]
    assert f"{old:.3f}" in formulas[1] and f"{new:.3f}" in formulas[1]
    assert f"{100 * training.error_reduction(old, new):.1f}" in formulas[1]


def test_transfer_learning_trains_three_ways_and_names_the_winner(monkeypatch):
    real = training.transfer_trio
    monkeypatch.setattr(training, "transfer_trio", lambda train_size=40, epochs=20: real(train_size, epochs=3))
    at = open_page(PAGE)
    at.radio(key="train.section").set_value("transfer").run()
    at.select_slider(key="transfer.per_class").set_value(5).run()
    at.button(key="transfer.go").click().run()
    assert not at.exception and not at.error
    accuracy = line_charts(at)[0]
    assert [d["name"] for d in accuracy["data"]] == ["from scratch", "frozen feature extractor", "fine-tuned"]
    table = at.table[0].value
    finals = [list(train(s))[-1].val_accuracy for s in real(20, epochs=3).values()]
    winner = ["From scratch won", "frozen feature extractor won", "Fine-tuning won"][int(np.argmax(finals))]
    assert winner in at.success[0].value
    assert table.iloc[1, 1] == "516"  # the frozen extractor trains only its head: 128 · 4 + 4 weights


def test_a_hall_pressing_train_trains_once():
    """Five students on a live server press Train on the same settings: one training, watched by all."""
    from benchmarks.lecture_hall import Config, run
    from tests.browser.conftest import live_server

    with live_server() as url:
        report = run(Config("train", students=5, duration=0, url=url, timeout=180))  # a busy machine: minutes
    assert report.stats.errors == []
    assert len(report.stats.latencies["train -> result"]) == 5
    assert report.stats.notes["shared runs watched"] == 1
    assert report.stats.notes["trainings the server started"] == 1
