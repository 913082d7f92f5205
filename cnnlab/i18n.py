"""Translation catalogs (assets/i18n/<lang>.json) and a lookup with English fallback.

The language is a per-session choice made by the caller; nothing here is global state
that one session could change for another.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache

from cnnlab.assets import ASSETS

CATALOG_DIR = ASSETS / "i18n"
DEFAULT_LANGUAGE = "en"


@cache
def catalog(lang: str) -> dict[str, str]:
    path = CATALOG_DIR / f"{lang}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def languages() -> dict[str, str]:
    """code -> the language's own name, for every catalog present ('en' first)."""
    codes = sorted(p.stem for p in CATALOG_DIR.glob("*.json"))
    codes.sort(key=lambda c: c != DEFAULT_LANGUAGE)
    return {code: catalog(code)["language.name"] for code in codes}


def translator(lang: str) -> Callable[..., str]:
    """t(key, **values): the string for `key` in `lang` (else English), formatted with values."""
    chosen = catalog(lang) if lang in languages() else {}
    fallback = catalog(DEFAULT_LANGUAGE)

    def t(key: str, **values) -> str:
        text = chosen.get(key) or fallback[key]
        return text.format(**values) if values else text

    return t
