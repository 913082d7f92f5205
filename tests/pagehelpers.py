"""Helpers for page tests: read the matrices the app drew back into numbers."""

from __future__ import annotations

import re

import numpy as np
from streamlit.testing.v1 import AppTest

APP = str(__import__("pathlib").Path(__file__).resolve().parent.parent / "app.py")

_TABLE = re.compile(r'data-matrix="(?P<name>[^"]+)".*?<table>(?P<body>.*?)</table>', re.S)


def matrices_in(html: str) -> dict[str, np.ndarray]:
    """data-matrix name -> values (blank cells, not computed yet, are NaN)."""
    found = {}
    for m in _TABLE.finditer(html):
        rows = re.findall(r"<tr>(.*?)</tr>", m["body"], re.S)
        found[m["name"]] = np.array(
            [[float(v) if v else np.nan for v in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in rows]
        )
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
