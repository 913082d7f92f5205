"""Plotly figures in the app's visual language. Only the lesson pages import this module."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

SIGNED_SCALE = "RdBu_r"  # blue negative, white zero, red positive
HEIGHT = 360


def _square(fig: go.Figure, title: str, height: int = HEIGHT) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", autorange="reversed")
    return fig


def image_figure(rgb: np.ndarray, title: str, height: int = HEIGHT) -> go.Figure:
    """(H, W, 3) uint8 image."""
    return _square(go.Figure(go.Image(z=rgb)), title, height)


def map_figure(values: np.ndarray, title: str, signed: bool, colorbar: str = "", height: int = HEIGHT) -> go.Figure:
    """(H, W) map; signed maps get a colour scale centred on zero, so 0 is white and the sign is the hue.

    NaN cells (no value, e.g. no gradient direction on a flat area) are left blank.
    """
    if signed:
        limit = float(np.nan_to_num(np.nanmax(np.abs(values)) if np.isfinite(values).any() else 0.0)) or 1.0
        trace = go.Heatmap(
            z=values, colorscale=SIGNED_SCALE, zmid=0, zmin=-limit, zmax=limit, colorbar=dict(title=colorbar)
        )
    else:
        trace = go.Heatmap(z=values, colorscale="gray", colorbar=dict(title=colorbar))
    return _square(go.Figure(trace), title, height)


def curves_figure(x: np.ndarray, curves: dict[str, np.ndarray], title: str, y_range=None) -> go.Figure:
    fig = go.Figure([go.Scatter(x=x, y=y, mode="lines", name=name, line=dict(width=3)) for name, y in curves.items()])
    fig.add_hline(y=0, line_color="#888", line_width=1)
    fig.add_vline(x=0, line_color="#888", line_width=1)
    fig.update_layout(title=title, height=HEIGHT, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h"))
    if y_range:
        fig.update_yaxes(range=y_range)
    return fig


def histogram_figure(series: dict[str, np.ndarray], title: str) -> go.Figure:
    fig = go.Figure([go.Histogram(x=v.ravel(), name=name, opacity=0.6, nbinsx=60) for name, v in series.items()])
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
    fig = go.Figure(go.Image(z=rgb))
    fig.add_trace(go.Heatmap(z=heat, colorscale="Jet", opacity=opacity, zmin=0, zmax=1, colorbar=dict(title="")))
    return _square(fig, title)


def bars_figure(labels: list[str], values: list[float], title: str) -> go.Figure:
    """Horizontal bars, the first label on top (top-k probabilities)."""
    fig = go.Figure(go.Bar(x=values[::-1], y=labels[::-1], orientation="h", text=[f"{v:.1%}" for v in values[::-1]]))
    fig.update_layout(title=title, height=60 + 40 * len(labels), margin=dict(l=10, r=10, t=40, b=10))
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    return fig
