"""A step-through as data: the matrices once, then per step what changes (no Streamlit import).

The browser stepper (ui/stepper.py) and the GIF export (ui/frame_image.py) both replay the
same encoded trace, so what a student steps through and what a lecturer exports agree.

Encoded form (JSON), compact on purpose because it is sent to every student's browser once:
    grids:  [{"n": name, "c": caption, "v": [[text]] (H, W), "r": role | [[role]],
              "b": 1 if every cell starts blank, "d": 1 if cells outside the window are dimmed}]
    rows:   [[grid index | "operator" | {"op": id} | {"stack": rows}]] — the layout, one list per row of
            matrices; a stack is rows drawn one above the other inside a row
    steps:  [{"w": [[grid, r0, c0, h, w, dr, dc] | [grid, [r, c, r, c, ...]]],   red-framed cells
              "s": [[grid, r, c, text]],    cells that change at this step (text "" = blank again)
              "t": code line, "n": plain sentence, "o": {op id: text},
              "p": what predict mode asks at this step (optional, see Prediction)}]
    final:  {"k": "success" | "info", "x": text} shown on the last step, or null
    pictures: [{"n": name, "c": caption, "src": data URI, "w": width, "h": height, "b": [[x1, y1, x2, y2]],
                "l": [label per box]}] — photos with boxes drawn over them, placed in rows as {"pic": index};
              a step's "x": [[picture, [box, style, box, style, ...]]] lists the boxes it shows (BOX_STYLES)
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from cnnlab.errors import LessonInputError
from cnnlab.steps import fmt

MAX_SIDE = 48  # a matrix wider or taller than this cannot be read cell by cell on any screen

ROLES = ("input", "kernel", "output", "padding", "inserted", "contribution")
BOX_STYLES = ("candidate", "taken", "suppressed", "kept", "object", "anchor")
PICTURE_SIDE = 560  # a picture in a step-through is drawn at most this wide: sent once, in every student's trace


@dataclass
class Grid:
    """A matrix the stepper draws: values (H, W) at step 0, one role for all cells or one per cell.

    blank: every cell starts empty and is filled by the steps (an output being computed).
    dim_outside: cells outside the current window are drawn faded (pooling).
    """

    name: str
    caption: str
    values: np.ndarray
    roles: str | np.ndarray = "input"
    blank: bool = False
    dim_outside: bool = False


@dataclass
class Picture:
    """A photo the stepper draws with boxes over it.

    image: the picture; boxes: (N, 4) xyxy in its pixels; labels: one short text per box (or none).
    Which boxes a step shows, and how, is in Frame.boxes.
    """

    name: str
    caption: str
    image: Image.Image
    boxes: np.ndarray
    labels: list[str] | None = None


@dataclass
class Prediction:
    """What predict mode asks at one step; encoded as "p": {"c": cells, "v": value, "t": line, "k": kind, "q": text}.

    cells: (grid, row, col) of the cells that show the predicted number after this step (the first is the one
        asked; the others, e.g. the same cell in a cropped copy, are hidden with it); value: its exact value
        (the cell text is fmt(value)); line: the products that give it, shown once answered (default: the
        step's own line). kind "where": the student clicks the cell (cells[0]) where this step's value goes;
        question says what is asked.
    """

    cells: list[tuple[int, int, int]]
    value: float | None = None
    line: str = ""
    kind: str = "value"
    question: str = ""

    def encode(self) -> dict:
        out: dict = {"c": [[int(g), int(r), int(c)] for g, r, c in self.cells]}
        if self.value is not None:
            out["v"] = float(self.value)
        if self.line:
            out["t"] = self.line
        if self.kind != "value":
            out["k"] = self.kind
        if self.question:
            out["q"] = self.question
        return out


@dataclass
class Frame:
    """What one step shows.

    windows: grid index -> the (row, col) cells framed in red.
    values: grid index -> the full (H, W) values of a grid that changes, NaN where blank;
        only the cells that differ from the previous frame are sent.
    line: the arithmetic of this step; note: one sentence saying what happens; ops: dynamic
        operator texts (e.g. a channel's sum) by id.
    boxes: picture index -> [(box index, style in BOX_STYLES)], the boxes drawn at this step (others hidden).
    predict: what predict mode asks at this step (None: nothing to predict).
    """

    windows: dict[int, Iterable[tuple[int, int]]] = field(default_factory=dict)
    values: dict[int, np.ndarray] = field(default_factory=dict)
    line: str = ""
    note: str = ""
    ops: dict[str, str] = field(default_factory=dict)
    boxes: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    predict: Prediction | None = None


def _cell_text(v) -> str:
    """A cell's text: numbers as a lecturer writes them, NaN or None blank, words (a status) as they are."""
    if v is None or isinstance(v, str):
        return v or ""
    return "" if np.isnan(v) else fmt(v)


def _cell_texts(values) -> np.ndarray:
    """(H, W) numbers, or an object array mixing numbers and words, -> (H, W) texts."""
    values = np.asarray(values)
    if values.dtype != object:
        values = values.astype(np.float64)
    return np.vectorize(_cell_text, otypes=[object])(values)


def _encode_picture(p: Picture) -> dict:
    """The picture as a JPEG data URI at most PICTURE_SIDE wide, its boxes scaled to what is sent."""
    image = p.image.convert("RGB")
    scale = min(1.0, PICTURE_SIDE / image.width)
    if scale < 1.0:
        image = image.resize((PICTURE_SIDE, max(1, round(image.height * scale))), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    boxes = np.asarray(p.boxes, dtype=np.float64).reshape(-1, 4) * scale
    return {
        "n": p.name,
        "c": p.caption,
        "src": "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode(),
        "w": image.width,
        "h": image.height,
        "b": [[round(float(v), 1) for v in box] for box in boxes],
        "l": list(p.labels) if p.labels is not None else [],
    }


def _window(grid: int, cells: Iterable[tuple[int, int]]) -> list:
    """A rectangle with regular spacing as [grid, r0, c0, h, w, dr, dc], else [grid, [r, c, ...]]."""
    cells = sorted(set(cells))
    rows = sorted({r for r, _ in cells})
    cols = sorted({c for _, c in cells})

    def spacing(xs: list[int]) -> int | None:
        if len(xs) == 1:
            return 1
        steps = {b - a for a, b in zip(xs, xs[1:], strict=False)}
        return steps.pop() if len(steps) == 1 else None

    dr, dc = spacing(rows), spacing(cols)
    if dr and dc and len(cells) == len(rows) * len(cols):
        return [grid, rows[0], cols[0], len(rows), len(cols), dr, dc]
    return [grid, [x for cell in cells for x in cell]]


def encode(
    grids: list[Grid],
    rows: list[list],
    frames: Iterable[Frame],
    final: tuple[str, str] | None = None,
    pictures: list[Picture] = (),
) -> dict:
    """The trace as the JSON-ready dict described in the module docstring.

    Frames are consumed one at a time and only the previous values are kept, so memory is
    that of two frames whatever the number of steps.
    """
    shown = {}
    encoded_grids = []
    for i, g in enumerate(grids):
        values = np.asarray(g.values)
        if max(values.shape) > MAX_SIDE:
            raise LessonInputError("error.too_big_to_draw", rows=values.shape[0], cols=values.shape[1], max=MAX_SIDE)
        shown[i] = np.full(values.shape, "", dtype=object) if g.blank else _cell_texts(values)
        texts = shown[i].tolist()
        roles = g.roles if isinstance(g.roles, str) else np.asarray(g.roles).tolist()
        encoded_grids.append(
            {"n": g.name, "c": g.caption, "v": texts, "r": roles, "b": int(g.blank), "d": int(g.dim_outside)}
        )
    steps = []
    for frame in frames:
        changes = []
        for i, values in frame.values.items():
            texts = _cell_texts(values)
            for r, c in zip(*np.nonzero(texts != shown[i]), strict=True):
                changes.append([i, int(r), int(c), texts[r, c]])
            shown[i] = texts
        step = {"w": [_window(i, cells) for i, cells in frame.windows.items()], "s": changes}
        if frame.line:
            step["t"] = frame.line
        if frame.note:
            step["n"] = frame.note
        if frame.ops:
            step["o"] = frame.ops
        if frame.predict is not None:
            step["p"] = frame.predict.encode()
        if frame.boxes:
            step["x"] = [
                [p, [v for box, style in shown_boxes for v in (int(box), style)]]
                for p, shown_boxes in frame.boxes.items()
            ]
        steps.append(step)
    trace = {"grids": encoded_grids, "rows": rows, "steps": steps, "final": None}
    if pictures:
        trace["pictures"] = [_encode_picture(p) for p in pictures]
    if final is not None:
        trace["final"] = {"k": final[0], "x": final[1]}
    return trace


def signature(trace: dict) -> str:
    """A short hash of the numbers and layout of a trace, not of its words.

    The browser keeps the current step when only the language changed (same signature) and
    starts again from step 1 when the numbers changed.
    """
    numbers = {
        "grids": [[g["v"], g["r"], g["b"]] for g in trace["grids"]],
        "steps": [[s["w"], s["s"], s.get("x")] for s in trace["steps"]],
        "pictures": [[p["b"], p["w"], p["h"]] for p in trace.get("pictures", [])],
    }
    return hashlib.sha1(json.dumps(numbers, separators=(",", ":")).encode()).hexdigest()[:12]


def replay(trace: dict):
    """Yield (step index, texts, windows) for every step: texts[grid] is the (H, W) object array shown.

    windows[grid] is the set of (row, col) framed in red. Used by the GIF export and by tests
    that read the final frame exactly as the browser builds it.
    """
    texts = [np.array(g["v"], dtype=object) for g in trace["grids"]]
    for index, step in enumerate(trace["steps"]):
        for grid, r, c, text in step["s"]:
            texts[grid][r, c] = text
        yield index, [t.copy() for t in texts], window_cells(step["w"])


def window_cells(windows: list) -> dict[int, set[tuple[int, int]]]:
    """Decode the 'w' entries of a step into grid -> set of (row, col)."""
    out: dict[int, set[tuple[int, int]]] = {}
    for w in windows:
        grid = w[0]
        if len(w) == 2:
            flat = w[1]
            cells = {(flat[k], flat[k + 1]) for k in range(0, len(flat), 2)}
        else:
            _, r0, c0, h, wd, dr, dc = w
            cells = {(r0 + a * dr, c0 + b * dc) for a in range(h) for b in range(wd)}
        out.setdefault(grid, set()).update(cells)
    return out


def final_texts(trace: dict) -> list[np.ndarray]:
    """The texts of every grid on the last step, as the browser shows them."""
    last = None
    for _, texts, _ in replay(trace):
        last = texts
    return last


def payload_bytes(trace: dict) -> int:
    """Bytes of the trace as JSON: what one student's browser receives for this step-through."""
    return len(json.dumps(trace, ensure_ascii=False, separators=(",", ":")).encode())
