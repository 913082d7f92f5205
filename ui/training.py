"""The training page's views: live curves, filters per epoch, predictions, the confusion matrix, the queue.

A shared run (cnnlab.training_runs) is drawn from its snapshots: while it trains, follow() polls
it and redraws when an epoch's record arrives (the progress bar in between), so a hall watching
one training costs one training and a few redraws per epoch each.
"""

from __future__ import annotations

import base64
import io
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import cache, lru_cache

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from cnnlab.errors import LessonInputError
from cnnlab.features import mosaic
from cnnlab.i18n import translator
from cnnlab.training import EpochRecord, TrainSettings, dataset, sample_indices
from cnnlab.training_runs import SharedRun, Snapshot, hall
from ui.trace import Frame, Grid, encode
from ui.widgets import chart, language, lecture, num, pct, show_error

POLL_S = 0.5  # how often a watching page looks at its runs: progress only; charts redraw once per epoch
HALL_REDRAWS_PER_S = 50  # redraws a second that all watchers of a run share, at most (see follow)
COLOURS = {"train": "#1c7ed6", "val": "#f76707"}
SERIES_COLOURS = ["#1c7ed6", "#f76707", "#2f9e44", "#ae3ec9"]
STRIP_ROWS = 11  # epochs shown in the filter strip (evenly spread, first and last included)
STEPPER_FILTERS = 6  # filters in the step-through (their channel means, cell by cell): two rows of three fit a screen


@cache
def _translator(lang: str) -> Callable[..., str]:
    return translator(lang)


def tr() -> Callable[..., str]:
    """This session's translator, made once per language: a watching page asks for it several times a second."""
    return _translator(language())


def viewer() -> str:
    """This session's id as a watcher of shared runs."""
    return st.session_state.setdefault("train.viewer", uuid.uuid4().hex)


def shape_label(name: str, t: Callable[..., str] | None = None) -> str:
    return (t or tr())(f"train.shape.{name}")


def png_uri(rgb: np.ndarray) -> str:
    """(H, W, 3) uint8 -> a PNG data: URI. st.image sends such a string as it is: no encoding per session."""
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


# ---------------------------------------------------------------- pictures


def filters_rgb(first_layer: np.ndarray) -> np.ndarray:
    """(C, 3, K, K) weights -> (C, K, K, 3) in [0, 1]: 0.5 + 0.5 · w / max|w| of each filter, so 0 is grey
    and every filter's pattern shows at full contrast, whatever its size (batch norm makes the size moot)."""
    limit = np.abs(first_layer).max(axis=(1, 2, 3), keepdims=True)
    return np.clip(0.5 + 0.5 * first_layer / np.where(limit > 0, limit, 1.0), 0, 1).transpose(0, 2, 3, 1)


def _upscale(picture: np.ndarray, factor: int) -> np.ndarray:
    """(H, W, 3) in [0, 1] with NaN gaps -> (H·f, W·f, 3) uint8, gaps white."""
    rgb = (np.nan_to_num(picture, nan=1.0) * 255).round().astype(np.uint8)
    return rgb.repeat(factor, 0).repeat(factor, 1)


def filters_picture(layers: Sequence[np.ndarray], columns: int = 16, tile: int = 40) -> np.ndarray:
    """First-layer filters of one or more epochs ((C, 3, K, K) each) as one (H, W, 3) uint8 picture:
    a row per epoch, at most `columns` filters a row, each about `tile` pixels a side."""
    shown = min(columns, len(layers[0]))
    tiles = np.concatenate([filters_rgb(w[:shown]) for w in layers])
    k = layers[0].shape[-1]
    return _upscale(mosaic(tiles, columns=shown), max(1, tile // k))


_PICTURES: OrderedDict[tuple, tuple[str, int]] = OrderedDict()
_PICTURES_LOCK = threading.Lock()


def cached_picture(key: tuple, make: Callable[[], np.ndarray]) -> tuple[str, int]:
    """(PNG data URI, width) of the picture make() draws, made once for every session that shows it.

    key: the run's id, what is drawn and the epoch; the records of a run never change once made."""
    with _PICTURES_LOCK:
        if key in _PICTURES:
            _PICTURES.move_to_end(key)
            return _PICTURES[key]
    rgb = make()
    found = (png_uri(rgb), int(rgb.shape[1]))
    with _PICTURES_LOCK:
        _PICTURES[key] = found
        while len(_PICTURES) > 512:
            _PICTURES.popitem(last=False)
    return found


def strip_epochs(records: Sequence[EpochRecord]) -> list[int]:
    """Indices of the records shown in the filter strip: at most STRIP_ROWS, first and last included."""
    if len(records) <= STRIP_ROWS:
        return list(range(len(records)))
    return sorted({round(i) for i in np.linspace(0, len(records) - 1, STRIP_ROWS)})


def filter_strip(records: Sequence[EpochRecord]) -> tuple[np.ndarray, list[int]]:
    """One row per epoch (strip_epochs), one column per filter (the first 16)."""
    rows = strip_epochs(records)
    return filters_picture([records[i].first_layer for i in rows], tile=24), [records[i].epoch for i in rows]


def filters_trace(records: Sequence[EpochRecord]) -> dict:
    """A step per epoch: each of the first STEPPER_FILTERS filters as its (K, K) mean over R, G, B (2 decimals)."""
    t = tr()
    first = records[0].first_layer
    shown = min(STEPPER_FILTERS, len(first))
    grids = [
        Grid(f"filter-{c}", t("train.filter", n=c + 1), np.round(first[c].mean(0), 2), "kernel") for c in range(shown)
    ]
    per_row = 3
    rows = [list(range(i, min(i + per_row, shown))) for i in range(0, shown, per_row)]

    def frame(r: EpochRecord) -> Frame:
        return Frame(
            values={c: np.round(r.first_layer[c].mean(0), 2) for c in range(shown)},
            note=t("train.step.epoch", epoch=r.epoch, epochs=records[-1].epoch),
            line=t(
                "train.step.line",
                train_loss=f"{r.train_loss:.3f}",
                val_loss=f"{r.val_loss:.3f}",
                val_accuracy=pct(r.val_accuracy, 1),
                change=pct(filter_change(records[0], r), 0),
            ),
        )

    return encode(grids, rows, (frame(r) for r in records))


def filter_change(start: EpochRecord, now: EpochRecord) -> float:
    """‖W_now − W_start‖ / ‖W_start‖ of the first layer: how far training has moved the filters."""
    norm = float(np.linalg.norm(start.first_layer))
    return float(np.linalg.norm(now.first_layer - start.first_layer)) / norm if norm else 0.0


# ---------------------------------------------------------------- charts


def curves_figure(
    series: dict[str, tuple[list[int], list[float]]], title: str, percent: bool, colours=None
) -> go.Figure:
    """Lines per epoch: name -> (epochs, values); accuracies as percentages on a 0-100 % axis."""
    fig = go.Figure()
    for k, (name, (x, y)) in enumerate(series.items()):
        colour = (colours or {}).get(name, SERIES_COLOURS[k % len(SERIES_COLOURS)])
        values = [v if np.isfinite(v) else None for v in y]
        fig.add_trace(go.Scatter(x=x, y=values, mode="lines+markers", name=name, line=dict(width=3, color=colour)))
    fig.update_layout(
        title=title, height=320, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.2)
    )
    fig.update_xaxes(title=tr()("train.axis.epoch"), rangemode="tozero", dtick=1 if max_epoch(series) <= 12 else None)
    if percent:
        fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    else:
        fig.update_yaxes(rangemode="tozero")
    return fig


def max_epoch(series: dict) -> int:
    return max((max(x) for x, _ in series.values() if x), default=0)


_FIGURES: OrderedDict[tuple, tuple[go.Figure, threading.Lock]] = OrderedDict()
_FIGURES_LOCK = threading.Lock()


def shared_chart(where, cache_key: tuple, make: Callable[[], go.Figure], key: str) -> None:
    """chart() of a figure built once per (cache_key, language, layout) for every session that shows it.

    Building a Plotly figure (its validation) is ten times the cost of sending it; a hall watching one
    run would build the same figures once per student per epoch. chart() adjusts the figure for the
    language and layout in place, so one session at a time shows a given figure (its own lock).
    """
    full = (*cache_key, language(), lecture())
    with _FIGURES_LOCK:
        entry = _FIGURES.get(full)
        if entry is not None:
            _FIGURES.move_to_end(full)
    if entry is None:
        made = (make(), threading.Lock())
        with _FIGURES_LOCK:
            entry = _FIGURES.setdefault(full, made)
            while len(_FIGURES) > 256:
                _FIGURES.popitem(last=False)
    figure, lock = entry
    with lock:
        chart(where, figure, key=key)


def run_curves(records: Sequence[EpochRecord], run_key: str, key: str, where=st) -> None:
    """Loss and accuracy, training and held-out, side by side (key: unique in the script run)."""
    t = tr()
    epochs = [r.epoch for r in records]
    left, right = where.columns(2)
    train, val = t("train.series.train"), t("train.series.val")
    colours = {train: COLOURS["train"], val: COLOURS["val"]}

    def loss() -> go.Figure:
        series = {train: (epochs, [r.train_loss for r in records]), val: (epochs, [r.val_loss for r in records])}
        return curves_figure(series, t("train.chart.loss"), False, colours)

    def accuracy() -> go.Figure:
        series = {
            train: (epochs, [r.train_accuracy for r in records]),
            val: (epochs, [r.val_accuracy for r in records]),
        }
        return curves_figure(series, t("train.chart.accuracy"), True, colours)

    shared_chart(left, (run_key, "loss", len(records)), loss, key=f"{key}.loss")
    shared_chart(right, (run_key, "accuracy", len(records)), accuracy, key=f"{key}.acc")


def compare_curves(runs: dict[str, Sequence[EpochRecord]], run_keys: Sequence[str], key: str, where=st) -> None:
    """Held-out accuracy and loss of several runs, side by side."""
    t = tr()
    left, right = where.columns(2)
    seen = (tuple(run_keys), tuple(len(rs) for rs in runs.values()))

    def accuracy() -> go.Figure:
        series = {name: ([r.epoch for r in rs], [r.val_accuracy for r in rs]) for name, rs in runs.items()}
        return curves_figure(series, t("train.chart.val_accuracy"), True)

    def loss() -> go.Figure:
        series = {name: ([r.epoch for r in rs], [r.val_loss for r in rs]) for name, rs in runs.items()}
        return curves_figure(series, t("train.chart.val_loss"), False)

    shared_chart(left, (*seen, "accuracy"), accuracy, key=f"{key}.acc")
    shared_chart(right, (*seen, "loss"), loss, key=f"{key}.loss")


def confusion_figure(confusion: np.ndarray, labels: list[str]) -> go.Figure:
    """(n, n) counts, rows the true class, columns the predicted one, each cell's count written in it."""
    t = tr()
    fig = go.Figure(
        go.Heatmap(
            z=confusion.tolist(),
            x=labels,
            y=labels,
            colorscale="Blues",
            showscale=False,
            text=confusion.tolist(),
            texttemplate="%{text}",
            hovertemplate=t("train.confusion.hover") + "<extra></extra>",
        )
    )
    fig.update_layout(
        title=t("train.confusion.title"), height=120 + 60 * len(labels), margin=dict(l=10, r=10, t=40, b=10)
    )
    fig.update_xaxes(title=t("train.confusion.predicted"), side="bottom")
    fig.update_yaxes(title=t("train.confusion.true"), autorange="reversed")
    return fig


# ---------------------------------------------------------------- held-out pictures


@lru_cache(maxsize=32)
def sample_pictures(settings: TrainSettings) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The held-out sample pictures of a dataset as PNG data URIs (3× enlarged below 64 pixels) and their labels.

    Made once per dataset for every session and epoch (the key ignores what does not change the pictures)."""
    images, labels = dataset(settings, "val")
    uris, truth = [], []
    for index in sample_indices(settings):
        rgb = (images[index].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        uris.append(png_uri(rgb.repeat(3, 0).repeat(3, 1) if rgb.shape[0] < 64 else rgb))
        truth.append(int(labels[index]))
    return tuple(uris), tuple(truth)


def _data_only(settings: TrainSettings) -> TrainSettings:
    """The settings with everything but the dataset's set to defaults: one cache entry per dataset."""
    return TrainSettings(
        classes=settings.classes,
        backgrounds=settings.backgrounds,
        noise=settings.noise,
        image_size=settings.image_size,
        architecture=settings.architecture,
    )


def predictions(settings: TrainSettings, record: EpochRecord, where=st) -> None:
    """The held-out sample pictures with what the network says now: class and probability, right or wrong."""
    t = tr()
    uris, truth = sample_pictures(_data_only(settings))
    captions = []
    for k, label in enumerate(truth):
        probs = record.sample_probabilities[k]
        guess = int(np.argmax(probs))
        mark = "✓" if guess == label else "✗"
        captions.append(f"{mark} {shape_label(settings.classes[guess], t)} {pct(float(probs[guess]))}")
    where.image(list(uris), caption=captions, width=96)
    where.caption(t("train.predictions.caption", epoch=record.epoch))


# ---------------------------------------------------------------- status and following


def status(snaps: Sequence[Snapshot], names: Sequence[str] | None = None, where=st) -> None:
    """One line and a progress bar per run: waiting (place in the queue), training, or finished."""
    t = tr()
    for k, snap in enumerate(snaps):
        label = f"{names[k]}: " if names else ""
        if snap.state == "queued":
            place = snap.queue_place or 1
            text = label + t("train.status.queued", place=place, length=max(snap.queue_length, place))
            where.progress(0.0, text=text)
        elif snap.state == "running":
            done = snap.step / snap.total_steps if snap.total_steps else 0.0
            epoch = snap.records[-1].epoch if snap.records else 0
            text = label + t(
                "train.status.running",
                epoch=epoch,
                step=snap.step,
                steps=snap.total_steps or "…",
                device=snap.device.upper(),
            )
            where.progress(min(done, 1.0), text=text)
        elif snap.state == "failed" and snap.error is not None:
            show_error(snap.error)


def follow(
    runs: Sequence[SharedRun],
    draw: Callable[[list[Snapshot], str], None],
    progress_area,
    names: Sequence[str] | None = None,
) -> list[Snapshot]:
    """Draw the runs until all have finished: the progress every POLL_S, draw(snapshots, tag) when a record
    arrives or a run's state changes (tag: unique in this script run, for the keys of the charts drawn).

    The page's script stays in this loop while the runs train; a click elsewhere (Stop, a setting)
    ends it at the next drawing call, and the runs go on for whoever else watches them.
    """
    me = viewer()
    shown, draws, drawn_at = None, 0, 0.0
    try:
        while True:
            snaps = [run.snapshot() for run in runs]
            if all(s.state not in ("queued", "running") for s in snaps):
                progress_area.empty()
                return snaps
            with progress_area.container():
                status(snaps, names)
            watching = max(s.watchers for s in snaps)
            seen = tuple((len(s.records), s.state) for s in snaps)
            # A full hall redraws less often: each redraw of every watcher holds the one Python interpreter
            # that also runs the training's Python, so 200 watchers redraw every 4 s, 30 every 0.6 s.
            if seen != shown and time.monotonic() - drawn_at >= watching / HALL_REDRAWS_PER_S:
                draws += 1
                draw(snaps, f"live{draws}")
                shown, drawn_at = seen, time.monotonic()
            time.sleep(min(4 * POLL_S, POLL_S * (1 + watching / 50)))  # and updates its progress bars less often
    finally:
        for run in runs:
            hall().leave(run, me)


def failures(snaps: Sequence[Snapshot]) -> bool:
    """Say why any run failed (translated); True if one did."""
    failed = [s for s in snaps if s.state == "failed"]
    for snap in failed:
        show_error(snap.error or LessonInputError("train.error.failed", reason="?"))
    return bool(failed)


def end_message(record: EpochRecord | None, snap: Snapshot, where=st) -> None:
    """Why a run ended, when that was not simply its last epoch."""
    t = tr()
    if snap.state == "stopped":
        where.info(t("train.end.stopped"), icon=":material/stop_circle:")
    elif record is not None and record.end in ("cap_steps", "cap_cpu", "diverged"):
        values = {"steps": num(record.steps), "seconds": num(record.cpu_seconds, 0), "epoch": record.epoch}
        where.warning(t(f"train.end.{record.end}", **values), icon=":material/warning:")


def shared_note(snap: Snapshot, where=st) -> None:
    """Who shares this run: the hall's training count and the run's id (the load test reads them too)."""
    t = tr()
    where.caption(t("train.shared", count=max(snap.watchers, 1), run=snap.key, trainings=hall().trainings_started))
