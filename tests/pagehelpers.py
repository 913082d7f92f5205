"""Helpers for page tests: read the matrices the app drew, and the steppers' traces, back into numbers."""

from __future__ import annotations

import json
import re

import numpy as np
from streamlit.testing.v1 import AppTest

from ui.trace import replay

APP = str(__import__("pathlib").Path(__file__).resolve().parent.parent / "app.py")

_TABLE = re.compile(r'data-matrix="(?P<name>[^"]+)".*?<table>(?P<body>.*?)</table>', re.S)


def cell_number(text: str) -> float:
    """A drawn cell's number, NaN when blank; a decimal comma (ro, pl, uk, ru) read as a point."""
    return float(text.replace(",", ".")) if text else np.nan


def matrices_in(html: str) -> dict[str, np.ndarray]:
    """data-matrix name -> values (blank cells, not computed yet, are NaN)."""
    found = {}
    for m in _TABLE.finditer(html):
        rows = re.findall(r"<tr>(.*?)</tr>", m["body"], re.S)
        found[m["name"]] = np.array([[cell_number(v) for v in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in rows])
    return found


def drawn_matrices(at: AppTest) -> dict[str, np.ndarray]:
    """Every named matrix on the page, the later drawing of a name winning."""
    found = {}
    for element in at.get("html"):
        found |= matrices_in(element.proto.body)
    return found


def open_page(page: str, lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["lang"] = lang
    at.run()
    return at.switch_page(page).run()


def steppers(at: AppTest) -> dict[str, dict]:
    """Stepper name -> the data the page sent to the browser component (trace, labels, ...)."""
    sent = (json.loads(e.proto.json) for e in at.get("bidi_component"))
    return {d["name"]: d for d in sent if "trace" in d}


def stepper_frame(at: AppTest, name: str, step: int | None = None) -> dict[str, np.ndarray]:
    """Grid name -> values (blank cells NaN) at 1-based `step` (default: the last), replayed as the browser does."""
    trace = steppers(at)[name]["trace"]
    target = len(trace["steps"]) if step is None else step
    for index, texts, _ in replay(trace):
        if index + 1 == target:
            return {
                g["n"]: np.array([[cell_number(v) for v in row] for row in grid], dtype=float)
                for g, grid in zip(trace["grids"], texts, strict=True)
            }
    raise AssertionError(f"{name} has no step {target}")
