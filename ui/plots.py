"""Plotly figures in the app's visual language. Only the lesson pages import this module."""

from __future__ import annotations

import base64
import io
import warnings

import numpy as np
import plotly.graph_objects as go
from PIL import Image

SIGNED_SCALE = "RdBu_r"  # blue negative, white zero, red positive
HEIGHT = 360
# What a figure sends to every student's browser is bounded: a chart is at most ~700 px on screen,
# so maps are averaged down to MAP_SIDE cells a side and pictures travel as JPEG/PNG, not arrays.
MAP_SIDE = 480
PICTURE_SIDE = 1280


def display_map(values: np.ndarray, max_side: int = MAP_SIDE) -> np.ndarray:
    """(H, W) -> float32 (ceil(H/f), ceil(W/f)) block means, f the smallest factor that fits max_side.

    NaN cells (no value) are left out of the means; a block of NaN only stays NaN.
    """
    values = np.asarray(values, dtype=np.float32)
    h, w = values.shape
    f = -(-max(h, w) // max_side)
    if f <= 1:
        return values
    padded = np.full((-(-h // f) * f, -(-w // f) * f), np.nan, dtype=np.float32)
    padded[:h, :w] = values
    blocks = padded.reshape(padded.shape[0] // f, f, padded.shape[1] // f, f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks: NaN is the right answer
        return np.nanmean(blocks, axis=(1, 3))


def picture_source(rgb: np.ndarray, max_side: int = PICTURE_SIDE) -> str:
    """(H, W, 3) uint8 -> a data: URI, JPEG for photographs and PNG for small drawings, at most max_side."""
    image = Image.fromarray(np.asarray(rgb, dtype=np.uint8))
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if image.width * image.height <= 256 * 256:
        image.save(out, format="PNG", optimize=True)
        kind = "png"
    else:
        image.save(out, format="JPEG", quality=88)
        kind = "jpeg"
    return f"data:image/{kind};base64,{base64.b64encode(out.getvalue()).decode()}"


def _square(fig: go.Figure, title: str, height: int = HEIGHT) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", autorange="reversed")
    return fig


def image_figure(rgb: np.ndarray, title: str, height: int = HEIGHT) -> go.Figure:
    """(H, W, 3) uint8 image, sent as a compressed picture scaled to its own pixel coordinates."""
    h, w = np.asarray(rgb).shape[:2]
    source = picture_source(rgb)
    scaled = max(h, w) > PICTURE_SIDE
    dx = dy = max(h, w) / PICTURE_SIDE if scaled else 1
    return _square(go.Figure(go.Image(source=source, dx=dx, dy=dy)), title, height)


def map_figure(values: np.ndarray, title: str, signed: bool, colorbar: str = "", height: int = HEIGHT) -> go.Figure:
    """(H, W) map; signed maps get a colour scale centred on zero, so 0 is white and the sign is the hue.

    The map is averaged down to MAP_SIDE (display_map) and sent as one byte a cell, 255 levels
    between its lowest and highest value, with the colour bar labelled in the real values: a
    1-megapixel map costs ~150 kB instead of megabytes. NaN cells (no value, e.g. no gradient
    direction on a flat area) are left blank, which needs floats, so such maps stay float32.
    """
    values = display_map(values)
    finite = values[np.isfinite(values)]
    if signed:
        limit = float(np.abs(finite).max()) if finite.size else 0.0
        low, high = -(limit or 1.0), limit or 1.0
        scale = dict(colorscale=SIGNED_SCALE)
    else:
        low = float(finite.min()) if finite.size else 0.0
        high = float(finite.max()) if finite.size else 1.0
        high = high if high > low else low + 1.0
        scale = dict(colorscale="gray")
    if finite.size < values.size:
        z, zmin, zmax = values, low, high
        ticks = {}
    else:
        z = np.round((values - low) / (high - low) * 254).clip(0, 254).astype(np.uint8)
        zmin, zmax = 0, 254
        positions = np.linspace(0, 254, 5)
        real = [float(low + p / 254 * (high - low)) for p in positions]
        # English labels here; ui.localise.localised_figure rewrites them from meta in the page's language
        ticks = dict(tickvals=positions, ticktext=[f"{v:.3g}" for v in real])
    trace = go.Heatmap(z=z, zmin=zmin, zmax=zmax, colorbar=dict(title=colorbar, **ticks), hoverinfo="skip", **scale)
    if ticks:
        trace.meta = {"ticks": real}
    return _square(go.Figure(trace), title, height)


def curves_figure(x: np.ndarray, curves: dict[str, np.ndarray], title: str, y_range=None) -> go.Figure:
    fig = go.Figure([go.Scatter(x=x, y=y, mode="lines", name=name, line=dict(width=3)) for name, y in curves.items()])
    fig.add_hline(y=0, line_color="#888", line_width=1)
    fig.add_vline(x=0, line_color="#888", line_width=1)
    fig.update_layout(title=title, height=HEIGHT, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h"))
    if y_range:
        fig.update_yaxes(range=y_range)
    return fig


def histogram_figure(series: dict[str, np.ndarray], title: str, bins: int = 60) -> go.Figure:
    """Overlaid histograms over shared bins, counted here: 60 bars travel, not a million values."""
    finite = [v[np.isfinite(v)] for v in series.values()]
    low = min((float(v.min()) for v in finite if v.size), default=0.0)
    high = max((float(v.max()) for v in finite if v.size), default=1.0)
    edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)
    centres, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
    fig = go.Figure(
        [
            go.Bar(x=centres, y=np.histogram(v, edges)[0], width=width, name=name, opacity=0.6)
            for name, v in zip(series, finite, strict=True)
        ]
    )
    fig.update_layout(
        barmode="overlay", title=title, height=HEIGHT, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h")
    )
    return fig


def rgb_grid_figure(grid: np.ndarray, title: str, height: int = 520) -> go.Figure:
    """(H, W, 3) mosaic in [0, 1] with NaN gaps, shown with white gaps."""
    rgb = (np.nan_to_num(grid, nan=1.0) * 255).round().astype(np.uint8)
    return _square(go.Figure(go.Image(z=rgb)), title, height)


def tiles_figure(grid: np.ndarray, title: str, signed: bool, height: int = 520) -> go.Figure:
    """(H, W) mosaic of maps or kernels with NaN gaps (drawn transparent)."""
    fig = map_figure(grid, title, signed)
    fig.update_traces(showscale=False, hoverongaps=False)
    return _square(fig, title, height)


def overlay_figure(rgb: np.ndarray, heat: np.ndarray, title: str, opacity: float = 0.45) -> go.Figure:
    """(S, S, 3) uint8 image under an (S, S) map in [0, 1] (Grad-CAM)."""
    fig = go.Figure(go.Image(source=picture_source(rgb)))
    fig.add_trace(
        go.Heatmap(z=display_map(heat), colorscale="Jet", opacity=opacity, zmin=0, zmax=1, colorbar=dict(title=""))
    )
    return _square(fig, title)


def bars_figure(labels: list[str], values: list[float], title: str) -> go.Figure:
    """Horizontal bars, the first label on top (top-k probabilities)."""
    shares = [float(v) for v in values[::-1]]
    fig = go.Figure(
        go.Bar(x=shares, y=labels[::-1], orientation="h", text=[f"{v:.1%}" for v in shares], meta={"percent": shares})
    )
    # English labels here; ui.localise.localised_figure rewrites them from meta in the page's language
    ticks = [0, 0.25, 0.5, 0.75, 1]
    fig.update_layout(
        title=title, height=60 + 40 * len(labels), margin=dict(l=10, r=10, t=40, b=10), meta={"percent_axis": ticks}
    )
    fig.update_xaxes(range=[0, 1], tickvals=ticks, ticktext=[f"{v:.0%}" for v in ticks])
    return fig
