"""Numbers in what the pages draw, written the session language's way (no Streamlit import: testable alone).

Step-through traces (ui/trace.py) and Plotly figures (ui/plots.py) are built with the language-neutral
numbers of cnnlab.steps.fmt ('0.5') and Plotly's English defaults. Just before they are shown, the
functions here rewrite them for the language: '0,5' in ro, pl, uk and ru; Plotly's separators; the
colour-bar and percentage labels through Babel (cnnlab.i18n). A trace's signature is taken from the
neutral numbers, so a language switch keeps the stepper's place.
"""

from __future__ import annotations

import copy

import plotly.graph_objects as go

from cnnlab.i18n import (
    DEFAULT_LANGUAGE,
    decimal_symbol,
    localise_decimals,
    percent,
    plotly_separators,
    significant,
    translator,
)


def _cell(text: str, lang: str) -> str:
    """A cell or label text: only its decimal point changes (no list inside a cell)."""
    return localise_decimals(text, lang, lists=False)


def localised_trace(trace: dict, lang: str) -> dict:
    """A copy of an encoded trace (ui/trace.encode) whose cells, sums and arithmetic lines use the
    language's decimals ('2,5', 'max(1; 2,5) = 2,5'). Sentences ("n", "q", captions) are already
    written by the translator and stay as they are."""
    if decimal_symbol(lang) == ".":
        return trace
    out = copy.deepcopy(trace)
    for grid in out["grids"]:
        grid["v"] = [[_cell(v, lang) for v in row] for row in grid["v"]]
    for step in out["steps"]:
        step["s"] = [[g, r, c, _cell(text, lang)] for g, r, c, text in step["s"]]
        if "o" in step:
            step["o"] = {k: _cell(v, lang) for k, v in step["o"].items()}
        if "t" in step:
            step["t"] = localise_decimals(step["t"], lang)
        if "p" in step and "t" in step["p"]:
            step["p"]["t"] = localise_decimals(step["p"]["t"], lang)
    for picture in out.get("pictures", []):
        picture["l"] = [_cell(label, lang) for label in picture.get("l", [])]
    return out


def localised_figure(fig: go.Figure, lang: str) -> go.Figure:
    """The figure with the language's decimal and thousands separators on its axes (plain grouped
    numbers, no SI letters) and hover labels, and its colour-bar ticks and percentage labels (kept as
    numbers in each trace's `meta` by ui/plots) written with Babel. Changes and returns `fig`."""
    fig.update_layout(separators=plotly_separators(lang))
    # whole numbers on the axes, grouped (200 000), not Plotly's SI letters (200k), which are English
    fig.update_xaxes(exponentformat="none", separatethousands=True)
    fig.update_yaxes(exponentformat="none", separatethousands=True)
    for trace in fig.data:
        meta = trace.meta if isinstance(trace.meta, dict) else {}
        if "ticks" in meta:  # colour bar of a map sent as bytes: real values at the byte positions
            ticks = meta["ticks"]
            span = max(ticks) - min(ticks)
            # a probability's lowest tick 6.5e-8 is 0 on this scale: no 6,51·10⁻⁸ under a bar from 0 to 1
            trace.colorbar.ticktext = [significant(v if abs(v) > 1e-4 * span else 0.0, lang) for v in ticks]
        if "percent" in meta:  # bars labelled with a share each
            trace.text = [percent(v, lang, 1) for v in meta["percent"]]
    axis_meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    if "percent_axis" in axis_meta:
        ticks = axis_meta["percent_axis"]
        fig.update_xaxes(tickvals=ticks, ticktext=[percent(v, lang) for v in ticks])
    return fig


# Plotly's own words (its toolbar's tooltips and messages) by catalog key; Plotly looks each English
# text up in config.locales[locale].dictionary (plotly.js src/components/modebar/buttons.js).
PLOTLY_WORDS = {
    "plotly.zoom": "Zoom",
    "plotly.pan": "Pan",
    "plotly.box_select": "Box Select",
    "plotly.lasso_select": "Lasso Select",
    "plotly.zoom_in": "Zoom in",
    "plotly.zoom_out": "Zoom out",
    "plotly.autoscale": "Autoscale",
    "plotly.reset_axes": "Reset axes",
    "plotly.reset_view": "Reset view",
    "plotly.reset": "Reset",
    "plotly.download_png": "Download plot as a PNG",
    "plotly.download": "Download plot",
    "plotly.preparing": "Preparing image - this may take a few seconds",
    "plotly.downloaded": "Image download succeeded",
    "plotly.download_failed": "Sorry, there was a problem downloading your image!",
    "plotly.double_click": "Double-click to zoom back out",
    "plotly.double_click_legend": "Double-click on legend to isolate one trace",
    "plotly.spikes": "Toggle Spike Lines",
    "plotly.hover_closest": "Show closest data on hover",
    "plotly.hover_compare": "Compare data on hover",
}


def plotly_locale(lang: str) -> dict:
    """The part of a Plotly config that puts its toolbar's tooltips and messages in `lang`
    ({"locale": ..., "locales": {...}}); empty for English, Plotly's own language."""
    if lang == DEFAULT_LANGUAGE:
        return {}
    t = translator(lang)
    return {
        "locale": lang,
        "locales": {lang: {"dictionary": {english: t(key) for key, english in PLOTLY_WORDS.items()}}},
    }
