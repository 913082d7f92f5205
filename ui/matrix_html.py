"""HTML for matrices in the app's one visual language (no Streamlit import: testable alone).

Roles colour the cells the same way on every page: input blue, kernel orange, output
green, padding grey, inserted zeros purple; `highlight` draws the red frame of the
current window or cell; `pending` cells are left blank (not computed yet).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from cnnlab.matrices import cell_text

# role -> (background, text colour): one table for the page, the stepper and the exported GIF
ROLE_COLOURS = {
    "input": ("#cfe2ff", "#111111"),
    "kernel": ("#ffd8a8", "#111111"),
    "output": ("#c3f0ca", "#111111"),
    "padding": ("#e9ecef", "#6c757d"),
    "inserted": ("#e5dbff", "#5f3dc4"),
    "contribution": ("#ffe8cc", "#111111"),
    "pending": ("#ffffff", "#111111"),
}
ROLES = tuple(r for r in ROLE_COLOURS if r != "pending")
HIGHLIGHT = "#e03131"

MATRIX_CSS = (
    """
.cl-row {display:flex; flex-wrap:wrap; gap:1.2rem; align-items:flex-start; margin:0.4rem 0 0.8rem 0;}
.cl-op {align-self:center; font-size:calc(var(--cl-font) * 1.4); font-weight:600; padding:0 0.2rem;}
.cl-matrix {display:inline-block;}
.cl-caption {font-weight:600; margin-bottom:0.25rem; font-size:calc(var(--cl-font) * 0.8);}
.cl-matrix table {border-collapse:collapse; font-variant-numeric:tabular-nums; font-size:var(--cl-font);}
.cl-matrix td {min-width:2.3em; height:1.9em; text-align:center; border:1px solid #adb5bd; padding:0 0.25em;
  color:#111;}
.cl-padding {color:#6c757d !important;} .cl-inserted {color:#5f3dc4 !important;}
.cl-matrix td.cl-hl {outline:4px solid HIGHLIGHT; outline-offset:-3px; font-weight:700;}
.cl-matrix td.cl-dim {opacity:0.45;}
.cl-legend span {display:inline-block; padding:0.1rem 0.5rem; margin:0 0.3rem 0.3rem 0; border:1px solid #adb5bd;
  font-size:calc(var(--cl-font) * 0.7); color:#111;}
""".replace("HIGHLIGHT", HIGHLIGHT)
    + "".join(f".cl-{role} {{background:{bg};}}\n" for role, (bg, _) in ROLE_COLOURS.items())
)


def style(lecture_mode: bool) -> str:
    """The stylesheet; lecture mode makes every number readable from the back of a hall."""
    size = "1.75rem" if lecture_mode else "1.2rem"
    return f"<style>:root {{--cl-font:{size};}}{MATRIX_CSS}</style>"


@dataclass
class MatrixView:
    """A matrix to draw: values (H, W), a role per cell or one for all, and optional masks (H, W)."""

    values: np.ndarray
    caption: str
    role: str | np.ndarray = "input"
    highlight: np.ndarray | None = None
    pending: np.ndarray | None = None
    dim: np.ndarray | None = None
    name: str = ""  # data-matrix attribute, for tests and styling


def matrix_html(view: MatrixView, decimal: str = ".") -> str:
    """One matrix as an HTML table; `decimal` is the language's decimal separator in the cells."""
    values = np.asarray(view.values)
    roles = np.broadcast_to(np.asarray(view.role, dtype=object), values.shape)
    rows = []
    for i in range(values.shape[0]):
        cells = []
        for j in range(values.shape[1]):
            classes = [f"cl-{roles[i, j]}"]
            pending = view.pending is not None and view.pending[i, j]
            if pending:
                classes = ["cl-pending"]
            if view.highlight is not None and view.highlight[i, j]:
                classes.append("cl-hl")
            if view.dim is not None and view.dim[i, j]:
                classes.append("cl-dim")
            text = "" if pending else cell_text(values[i, j], decimal)
            cells.append(f'<td class="{" ".join(classes)}">{text}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    name = f' data-matrix="{html.escape(view.name)}"' if view.name else ""
    return (
        f'<div class="cl-matrix"{name}><div class="cl-caption">{html.escape(view.caption)}</div>'
        f"<table>{''.join(rows)}</table></div>"
    )


def row_html(*items: MatrixView | str, decimal: str = ".") -> str:
    """Matrices side by side, wrapping instead of scrolling; a str item is an operator (*, =, +)."""
    parts = [
        matrix_html(i, decimal) if isinstance(i, MatrixView) else f'<div class="cl-op">{html.escape(i)}</div>'
        for i in items
    ]
    return '<div class="cl-row">' + "".join(parts) + "</div>"


def mask(shape: tuple[int, int], cells) -> np.ndarray:
    """Boolean (H, W) mask with True at the given (row, col) cells."""
    m = np.zeros(shape, dtype=bool)
    for r, c in cells:
        m[r, c] = True
    return m


def padded_roles(shape: tuple[int, int], padding: int) -> np.ndarray:
    """Roles of a padded input of `shape`: the padding ring grey, the original cells blue."""
    roles = np.full(shape, "padding", dtype=object)
    roles[padding : shape[0] - padding, padding : shape[1] - padding] = "input"
    return roles
