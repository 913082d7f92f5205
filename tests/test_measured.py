"""W19 on the segmentation page: the notes' U-Net speeds beside the ones the benchmark recorded."""

import pytest

from cnnlab import measured
from cnnlab.i18n import catalog
from cnnlab.measured import Timing, paper_unet_timings, record_paper_unet
from tests.pagehelpers import open_page


def test_recording_replaces_the_same_device_and_keeps_the_other(tmp_path):
    path = tmp_path / "paper_unet.json"
    assert paper_unet_timings(path) == {}
    record_paper_unet(Timing("cpu", 3500.0, "a CPU", "2026-11-22", 93_344_564, 512), path)
    record_paper_unet(Timing("cuda", 20.0, "a GPU", "2026-11-23", 93_344_564, 512), path)
    record_paper_unet(Timing("cpu", 3400.0, "a CPU", "2026-11-23", 93_344_564, 512), path)
    timings = paper_unet_timings(path)
    assert {d: t.ms for d, t in timings.items()} == {"cpu": 3400.0, "cuda": 20.0}


def test_the_shipped_figure_is_the_notes_size_of_unet():
    from cnnlab.unet import UNet

    cpu = paper_unet_timings()["cpu"]
    assert cpu.params == sum(p.numel() for p in UNet(3, 2, depth=4, width=111).parameters())
    assert 90e6 < cpu.params < 96e6 and cpu.side == 512


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_page_shows_the_recorded_cpu_figure_and_asks_for_a_gpu_one():
    at = open_page("lessons/segmentation.py")
    assert not at.exception
    shown = metrics(at)
    words = catalog("en")
    assert shown[words["seg.w19.here"].format(device="CPU")] == f"{paper_unet_timings()['cpu'].ms:,.0f} ms"
    assert shown[words["seg.w19.here"].format(device="GPU")] == "—"
    assert shown[words["seg.w19.notes_speedup"]] == "27×"
    assert any("--paper-unet --record" in c.value for c in at.caption)


@pytest.mark.parametrize("lang", ["en", "uk"])
def test_with_a_gpu_figure_the_page_gives_the_speedup(tmp_path, monkeypatch, lang):
    path = tmp_path / "paper_unet.json"
    record_paper_unet(Timing("cpu", 3500.0, "a CPU", "2026-11-22", 93_344_564, 512), path)
    record_paper_unet(Timing("cuda", 20.0, "a GPU", "2026-11-23", 93_344_564, 512), path)
    monkeypatch.setattr(measured, "PAPER_UNET_FILE", path)
    at = open_page("lessons/segmentation.py", lang)
    assert not at.exception
    speedup = catalog(lang)["seg.w19.speedup"].format(speedup="175")
    assert speedup in [m.value for m in at.markdown]
