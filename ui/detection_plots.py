"""Plotly figures of the object-detection lesson: boxes over a picture, a feature map with a box on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from ui.plots import HEIGHT, image_figure, map_figure


@dataclass
class BoxLayer:
    """Boxes (N, 4) xyxy drawn in one colour and width, with an optional label per box and a legend name."""

    boxes: np.ndarray
    colour: str
    name: str
    width: float = 2.0
    labels: Sequence[str] | None = None
    dash: str = "solid"
    opacity: float = 1.0


def _rectangles(fig: go.Figure, layer: BoxLayer) -> None:
    """The layer's boxes as one line trace (None between boxes): one legend entry, cheap to send."""
    xs, ys = [], []
    for x1, y1, x2, y2 in np.asarray(layer.boxes, dtype=float).reshape(-1, 4):
        xs += [x1, x2, x2, x1, x1, None]
        ys += [y1, y1, y2, y2, y1, None]
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            name=layer.name,
            line=dict(color=layer.colour, width=layer.width, dash=layer.dash),
            opacity=layer.opacity,
            hoverinfo="skip",
        )
    )
    if layer.labels:
        boxes = np.asarray(layer.boxes, dtype=float).reshape(-1, 4)
        fig.add_trace(
            go.Scatter(
                x=boxes[:, 0],
                y=boxes[:, 1],
                mode="text",
                text=list(layer.labels),
                textposition="top right",
                textfont=dict(color=layer.colour, size=13),
                showlegend=False,
                hoverinfo="skip",
            )
        )


def boxes_figure(rgb: np.ndarray, layers: Sequence[BoxLayer], title: str, height: int = 520) -> go.Figure:
    """(H, W, 3) uint8 picture with layers of boxes in its pixel coordinates."""
    fig = image_figure(rgb, title, height)
    for layer in layers:
        _rectangles(fig, layer)
    h, w = np.asarray(rgb).shape[:2]
    fig.update_xaxes(range=[0, w])
    fig.update_yaxes(range=[h, 0])
    fig.update_layout(legend=dict(orientation="h", y=-0.02), showlegend=any(layer.name for layer in layers))
    return fig


def grid_lines(fig: go.Figure, width: int, height: int, cells: int, colour: str = "#ffffff") -> None:
    """An S × S grid over a picture of (width, height) pixels (YOLO's cells)."""
    xs, ys = [], []
    for k in range(1, cells):
        x, y = k * width / cells, k * height / cells
        xs += [x, x, None, 0, width, None]
        ys += [0, height, None, y, y, None]
    fig.add_trace(
        go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=colour, width=1.5), showlegend=False, hoverinfo="skip")
    )


def points(fig: go.Figure, xs: Sequence[float], ys: Sequence[float], colour: str, name: str, size: int = 9) -> None:
    fig.add_trace(go.Scatter(x=list(xs), y=list(ys), mode="markers", marker=dict(color=colour, size=size), name=name))


def feature_box_figure(
    feature: np.ndarray,
    title: str,
    box: Sequence[float],
    pooled_cells: tuple[int, int, int, int],
    samples: Sequence[tuple[float, float]],
    names: tuple[str, str, str],
) -> go.Figure:
    """A (H, W) feature map with the box as given (continuous), the cells RoI pooling rounds it to, and
    RoIAlign's sample points; cell (r, c) is the unit square centred on (c, r), as the kernels see it.

    box: x1, y1, x2, y2 on the map (aligned RoIAlign's coordinates: shifted by -0.5); pooled_cells: first and
    last column and row RoI pooling reads (x1, y1, x2, y2, inclusive); samples: (y, x) points.
    """
    fig = map_figure(feature, title, signed=False, height=HEIGHT + 80)
    fig.update_traces(colorscale="Blues", showscale=False, opacity=0.55)
    h, w = feature.shape
    for k in range(w + 1):
        fig.add_shape(type="line", x0=k - 0.5, x1=k - 0.5, y0=-0.5, y1=h - 0.5, line=dict(color="#adb5bd", width=1))
    for k in range(h + 1):
        fig.add_shape(type="line", y0=k - 0.5, y1=k - 0.5, x0=-0.5, x1=w - 0.5, line=dict(color="#adb5bd", width=1))
    rows, cols = np.mgrid[0:h, 0:w]
    fig.add_trace(
        go.Scatter(
            x=cols.ravel(),
            y=rows.ravel(),
            mode="text",
            text=[f"{v:g}" for v in feature.ravel()],
            showlegend=False,
            hoverinfo="skip",
        )
    )
    px1, py1, px2, py2 = pooled_cells
    _rectangles(
        fig, BoxLayer(np.array([[px1 - 0.5, py1 - 0.5, px2 + 0.5, py2 + 0.5]]), "#f08c00", names[1], 3, dash="dash")
    )
    _rectangles(fig, BoxLayer(np.array([box]), "#e03131", names[0], 3))
    if samples:
        ys, xs = zip(*samples, strict=True)
        points(fig, xs, ys, "#5f3dc4", names[2], size=7)
    fig.update_layout(showlegend=True, legend=dict(orientation="h", y=-0.05))
    return fig
