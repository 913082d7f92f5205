"""cnnlab.training and cnnlab.training_runs: a network learns, reproducibly, within its caps, shared by a hall."""

import threading

import numpy as np
import pytest
import torch

from cnnlab import training
from cnnlab.errors import LessonInputError
from cnnlab.lab_models import SHAPES_CLASSIFIER_FILE, ShapesNet
from cnnlab.training import (
    DEFAULT,
    VAL_SIZE,
    TrainSettings,
    augmentation_pair,
    build_model,
    dataset,
    error_reduction,
    make_dataset,
    presets,
    train,
    trainable_parameters,
    transfer_trio,
)
from cnnlab.training_runs import TrainingHall, wait
from cnnlab.weights import load_lab_weights

TINY = TrainSettings(train_size=64, epochs=2, layers=2, channels=4)


@pytest.fixture(scope="module")
def default_run():
    return list(train(DEFAULT))


def test_the_default_run_learns_within_its_budget(default_run):
    first, last = default_run[0], default_run[-1]
    assert [r.epoch for r in default_run] == list(range(DEFAULT.epochs + 1))
    assert last.end == "done"
    assert last.train_loss < 0.5 * first.train_loss
    assert last.val_loss < 0.5 * first.val_loss
    assert first.val_accuracy < 0.5  # chance is 1/3
    assert last.val_accuracy > 0.9
    assert last.steps == DEFAULT.epochs * (DEFAULT.train_size // 32 + (DEFAULT.train_size % 32 > 0))


def test_the_first_layer_filters_change_visibly(default_run):
    start, end = default_run[0].first_layer, default_run[-1].first_layer
    assert start.shape == end.shape == (DEFAULT.channels, 3, DEFAULT.kernel, DEFAULT.kernel)
    assert np.linalg.norm(end - start) / np.linalg.norm(start) > 0.3
    steps = zip(default_run, default_run[1:], strict=False)
    changed = [np.linalg.norm(b.first_layer - a.first_layer) for a, b in steps]
    assert all(c > 0 for c in changed)  # a different frame every epoch


def test_the_confusion_matrix_agrees_with_the_accuracy(default_run):
    last = default_run[-1]
    assert last.confusion.shape == (3, 3) and last.confusion.sum() == VAL_SIZE
    assert np.trace(last.confusion) / VAL_SIZE == pytest.approx(last.val_accuracy)
    assert last.sample_probabilities.shape == (training.SAMPLES, 3)
    np.testing.assert_allclose(last.sample_probabilities.sum(1), 1, rtol=1e-5)


def test_two_runs_with_the_same_seed_give_the_same_records():
    a, b = list(train(TINY)), list(train(TINY))
    for ra, rb in zip(a, b, strict=True):
        assert (ra.train_loss, ra.val_loss, ra.val_accuracy) == (rb.train_loss, rb.val_loss, rb.val_accuracy)
        assert np.array_equal(ra.first_layer, rb.first_layer)
        assert np.array_equal(ra.confusion, rb.confusion)
    c = list(train(TINY.with_(seed=1)))
    assert not np.array_equal(a[0].first_layer, c[0].first_layer)


def test_runs_in_threads_at_once_stay_deterministic():
    """Two trainings in parallel threads (as on a server) give what each gives alone."""
    alone = {s: list(train(s)) for s in (TINY, TINY.with_(seed=5, augment=("hflip", "rotation")))}
    together = {}

    def run(s):
        together[s] = list(train(s))

    threads = [threading.Thread(target=run, args=(s,)) for s in alone]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for s, records in alone.items():
        assert [r.val_loss for r in records] == [r.val_loss for r in together[s]]


def test_the_frozen_extractor_trains_only_the_head():
    settings = transfer_trio(train_size=16, epochs=2)["frozen"]
    model = build_model(settings)
    lab = ShapesNet()
    load_lab_weights(lab, SHAPES_CLASSIFIER_FILE)
    for name, value in lab.features.state_dict().items():  # starts from the bundled classifier's weights
        assert torch.equal(model.features.state_dict()[name], value)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    records = list(train(settings, model=model))
    after = model.state_dict()
    outside_head = [k for k in before if not k.startswith("classifier.")]
    assert outside_head and all(torch.equal(before[k], after[k]) for k in outside_head)  # weights and BN statistics
    assert not torch.equal(before["classifier.weight"], after["classifier.weight"])
    assert trainable_parameters(model) == 128 * 4 + 4
    assert np.array_equal(records[0].first_layer, records[-1].first_layer)


def test_fine_tuning_changes_the_extractor_too():
    settings = transfer_trio(train_size=16, epochs=1)["finetune"]
    model = build_model(settings)
    before = model.features[0].weight.detach().clone()
    list(train(settings, model=model))
    assert not torch.equal(before, model.features[0].weight)
    assert trainable_parameters(model) == sum(p.numel() for p in model.parameters())


def test_transfer_learning_compares_three_starts_of_one_network():
    trio = transfer_trio()
    assert list(trio) == ["scratch", "frozen", "finetune"]
    assert len({s.with_(start="scratch") for s in trio.values()}) == 1  # only the start differs
    assert set(trio["scratch"].classes).isdisjoint(training.LAB_CLASSES)  # shapes the lab classifier never saw


def test_a_run_stops_at_its_step_cap_with_a_reason(monkeypatch):
    monkeypatch.setattr(training, "MAX_STEPS", 3)
    records = list(train(TINY))
    assert records[-1].end == "cap_steps" and records[-1].steps == 3
    assert [r.epoch for r in records] == [0, 1, 2]  # 2 steps an epoch: the cap cut epoch 2 short


def test_a_run_stops_at_its_cpu_cap_with_a_reason(monkeypatch):
    monkeypatch.setattr(training, "MAX_CPU_S", 0.0)
    records = list(train(TINY))
    assert records[-1].end == "cap_cpu" and records[-1].steps == 1


def test_stop_ends_a_run_between_batches():
    stop = threading.Event()
    records = []
    for record in train(TINY, stop=stop):
        records.append(record)
        stop.set()
    assert len(records) == 1


def test_a_far_too_high_learning_rate_does_not_learn(default_run):
    records = list(train(presets()["lr_too_high"].with_(epochs=3)))  # the same data as the good run
    assert records[-1].val_accuracy < 0.45 or records[-1].end == "diverged"
    assert default_run[3].val_accuracy > records[-1].val_accuracy + 0.15  # the good run after 3 epochs


def test_too_little_data_overfits():
    records = list(train(presets()["overfitting"]))
    assert records[-1].train_accuracy == 1.0
    assert records[-1].val_accuracy < 0.75
    assert records[-1].train_accuracy - records[-1].val_accuracy > 0.25


def test_no_nonlinearity_means_a_linear_network():
    settings = presets()["no_nonlinearity"]
    model = build_model(settings).eval()
    x1, x2 = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    with torch.no_grad():  # affine: f(2·x1 − x2) = 2·f(x1) − f(x2) (the weights sum to 1, so the bias cancels)
        torch.testing.assert_close(model(2 * x1 - x2), 2 * model(x1) - model(x2), atol=1e-4, rtol=1e-4)
    records = list(train(settings.with_(epochs=3)))
    assert records[-1].val_accuracy < 0.5  # chance is 1/3
    relu = build_model(DEFAULT).eval()
    with torch.no_grad():
        assert not torch.allclose(relu(2 * x1 - x2), 2 * relu(x1) - relu(x2), atol=1e-3)


def test_the_dataset_is_balanced_reproducible_and_apart_from_the_held_out_set():
    x, y = make_dataset(("circle", "ring"), "varied", 0.1, 32, 40, "train")
    x2, _ = make_dataset.__wrapped__(("circle", "ring"), "varied", 0.1, 32, 40, "train")
    assert np.array_equal(x, x2)
    assert x.shape == (40, 3, 32, 32) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert np.bincount(y).tolist() == [20, 20]
    vx, _ = make_dataset(("circle", "ring"), "varied", 0.1, 32, 40, "val")
    assert not any(np.array_equal(a, b) for a in x for b in vx)
    small, _ = make_dataset.__wrapped__(("circle", "ring"), "varied", 0.1, 32, 10, "train")
    assert np.array_equal(small, x[:10])  # a larger set begins with the smaller one
    tensor, _ = dataset(TINY, "train")
    tensor[0] = 0  # a run's copy: the cached pictures stay as they are
    assert make_dataset(*_dataset_args(TINY))[0][0].max() > 0


def _dataset_args(s):
    return s.classes, s.backgrounds, float(s.noise), s.image_size, s.train_size, "train"


@pytest.mark.parametrize(
    "change,key",
    [
        (dict(classes=("circle",)), "train.error.classes"),
        (dict(classes=("circle", "hexagon")), "train.error.choice"),
        (dict(train_size=5000), "train.error.range"),
        (dict(epochs=0), "train.error.range"),
        (dict(learning_rate=float("nan")), "train.error.range"),
        (dict(kernel=4), "train.error.choice"),
        (dict(start="frozen"), "train.error.transfer_needs_lab"),
        (dict(architecture="lab"), "train.error.lab_size"),
        (dict(augment=("sharpen",)), "aug.error.unknown"),
    ],
)
def test_impossible_settings_get_a_message(change, key):
    with pytest.raises(LessonInputError) as err:
        DEFAULT.with_(**change).checked()
    assert err.value.key == key


def test_the_notes_error_reduction():
    assert error_reduction(0.143, 0.058) == pytest.approx(0.594, abs=5e-4)
    assert error_reduction(0.0, 0.1) is None
    assert error_reduction(0.2, 0.3) < 0  # augmentation can also hurt; the page says so


def test_the_augmentation_comparison_differs_only_in_augmentation():
    without, with_ = augmentation_pair()
    assert without.augment == () and with_.augment
    assert without == with_.with_(augment=())


def test_augmentation_reduces_the_held_out_error_of_the_page_comparison():
    without, with_ = (list(train(s)) for s in augmentation_pair())
    old, new = 1 - without[-1].val_accuracy, 1 - with_[-1].val_accuracy
    assert without[-1].train_accuracy == 1.0  # 200 pictures learnt by heart
    assert error_reduction(old, new) > 0.1


# ---------------------------------------------------------------- the hall


def test_thirty_viewers_pressing_train_share_one_training():
    hall = TrainingHall(max_running=2)
    runs, barrier = [], threading.Barrier(30)

    def press(k):
        barrier.wait()
        runs.append(hall.join(TINY, f"student{k}"))

    threads = [threading.Thread(target=press, args=(k,)) for k in range(30)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert hall.trainings_started == 1
    assert len({id(r) for r in runs}) == 1
    snap = wait(runs[0])
    assert snap.state == "done" and len(snap.records) == TINY.epochs + 1
    assert hall.join(TINY, "late student") is runs[0]  # finished runs are kept
    assert hall.trainings_started == 1


def test_the_hall_queues_runs_beyond_its_limit():
    hall = TrainingHall(max_running=1)
    settings = [TINY.with_(seed=k) for k in range(3)]
    runs = [hall.join(s, "lecturer") for s in settings]
    places = [r.snapshot().queue_place for r in runs]
    assert places[0] is None or places[0] == 1  # the first starts at once (or is about to)
    assert places[2] is not None and places[2] >= 2  # the last waits behind the others
    assert hall.running() <= 1
    snaps = [wait(r) for r in runs]
    assert [s.state for s in snaps] == ["done"] * 3
    assert hall.trainings_started == 3


def test_stop_stops_a_shared_run_only_when_nobody_else_watches():
    hall = TrainingHall(max_running=1)
    blocker = hall.join(TrainSettings(epochs=3), "someone")  # keeps the only trainer busy
    run = hall.join(TINY, "a")
    hall.join(TINY, "b")
    assert not hall.stop(run, "a")  # b still watches
    assert not run.stop.is_set()
    assert hall.stop(run, "b")
    assert run.snapshot().state == "stopped"
    assert hall.find(TINY) is None  # a stopped run is not kept: Train starts it again
    assert hall.join(TINY, "c") is not run
    hall.stop(blocker, "someone")
    wait(blocker)


def test_impossible_settings_never_reach_the_trainer():
    hall = TrainingHall()
    with pytest.raises(LessonInputError):
        hall.join(DEFAULT.with_(epochs=999), "x")
    assert hall.trainings_started == 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_the_default_run_learns_on_the_gpu_too():
    records = list(train(DEFAULT, device=torch.device("cuda")))
    assert records[-1].val_accuracy > 0.9
    assert records[-1].first_layer.shape == (DEFAULT.channels, 3, DEFAULT.kernel, DEFAULT.kernel)
    hall = TrainingHall(max_running=1, device=torch.device("cuda"))
    snap = wait(hall.join(TINY, "gpu"))
    assert snap.state == "done" and snap.device == "cuda"
