"""Small matrices typed by a person: parse 'rows of numbers' text and write it back."""

from __future__ import annotations

import numpy as np

from cnnlab.errors import LessonInputError, Verbatim
from cnnlab.steps import fmt

MAX_SIDE = 12  # larger than this is no longer readable from the back of a hall


def parse_matrix(text: str, max_side: int = MAX_SIDE) -> np.ndarray:
    """'1 2 3\\n4 5 6' (spaces, commas or semicolons between numbers) -> (H, W) float array."""
    rows = [line.replace(",", " ").replace(";", " ").split() for line in text.strip().splitlines() if line.strip()]
    if not rows:
        raise LessonInputError("matrix.error.empty")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise LessonInputError("matrix.error.ragged", widths=", ".join(str(w) for w in sorted(widths)))
    if len(rows) > max_side or len(rows[0]) > max_side:
        raise LessonInputError("matrix.error.too_big", max=max_side)
    values = []
    for row in rows:
        for token in row:
            try:
                values.append(float(token))
            except ValueError:
                raise LessonInputError("matrix.error.not_number", value=Verbatim(token)) from None
    m = np.array(values, dtype=np.float64).reshape(len(rows), len(rows[0]))
    if not np.isfinite(m).all():
        raise LessonInputError("matrix.error.not_finite")
    return m


def matrix_text(m) -> str:
    """(H, W) array -> the text parse_matrix reads, numbers aligned in columns."""
    m = np.asarray(m)
    cells = [[fmt(v) for v in row] for row in m]
    width = max(len(c) for row in cells for c in row)
    return "\n".join(" ".join(c.rjust(width) for c in row) for row in cells)
