"""Small matrices typed by a person: parse 'rows of numbers' text and write it back.

The rule for commas, the same in every language (and told in each language's editor help):
a row whose numbers are separated by spaces or semicolons reads a comma as a decimal comma
('0,5 1,5' and '0,5; 1,5' are 0.5 and 1.5); a row without spaces or semicolons reads commas as
separators ('1,2,3' is 1, 2 and 3). A comma followed by a space always separates ('1, 2, 3').
So a row of one decimal number is written '0.5' or '0,5;'. matrix_text writes what parse_matrix
reads back, in the language's decimals.
"""

from __future__ import annotations

import re

import numpy as np

from cnnlab.errors import LessonInputError, Verbatim
from cnnlab.steps import fmt

MAX_SIDE = 12  # larger than this is no longer readable from the back of a hall

_SEPARATING_COMMA = re.compile(r",(?=\s)|,\s*$")  # '1, 2' and a comma ending the row
_MINUS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-"})  # typographic minus signs from copied text


def parse_row(line: str) -> list[str]:
    """One typed row -> its number tokens, written with a decimal point (see the module docstring)."""
    line = _SEPARATING_COMMA.sub(" ", line.translate(_MINUS))
    spaced = ";" in line or len(line.split()) > 1
    tokens = line.replace(";", " ").split()
    if spaced:  # commas left inside a token are decimal commas
        return [token.replace(",", ".") if token.count(",") == 1 else token for token in tokens]
    return [part for token in tokens for part in token.split(",") if part]


def parse_matrix(text: str, max_side: int = MAX_SIDE) -> np.ndarray:
    """'1 2 3\\n4 5 6', '1,2,3', '0,5; 1,5' or '0.5 1.5' (one row per line) -> (H, W) float array."""
    rows = [parse_row(line) for line in text.strip().splitlines() if line.strip()]
    rows = [r for r in rows if r]
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


def cell_text(v: float, decimal: str = ".") -> str:
    """A matrix cell as a lecturer writes it (cnnlab.steps.fmt) with the language's decimal separator."""
    return fmt(v).replace(".", decimal)


def matrix_text(m, decimal: str = ".") -> str:
    """(H, W) array -> the text parse_matrix reads, numbers aligned in columns, `decimal` as separator.

    With a decimal comma, a one-column row holding a decimal ends in ';' so that it is read as one number."""
    m = np.asarray(m)
    cells = [[cell_text(v, decimal) for v in row] for row in m]
    width = max(len(c) for row in cells for c in row)
    lines = [" ".join(c.rjust(width) for c in row) for row in cells]
    if m.shape[1] == 1 and decimal == ",":
        lines = [line + ";" if "," in line else line for line in lines]
    return "\n".join(lines)
