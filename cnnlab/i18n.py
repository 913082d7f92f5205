"""Translation catalogs (assets/i18n/<lang>.json) and a lookup with English fallback.

Numbers given to a translation are written the language's way (Babel's CLDR data), and a
catalog entry may be a dict of plural forms chosen by the value of its {count}.

The language is a per-session choice made by the caller; nothing here is global state
that one session could change for another.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache

from babel import Locale
from babel.numbers import format_decimal, format_percent

from cnnlab.assets import ASSETS

CATALOG_DIR = ASSETS / "i18n"
DEFAULT_LANGUAGE = "en"


@cache
def catalog(lang: str) -> dict[str, str]:
    path = CATALOG_DIR / f"{lang}.json"
    return json.loads(path.read_text(encoding="utf-8"))


CLASS_NAMES_DIR = CATALOG_DIR / "classes"
DATASETS = ("voc", "coco", "imagenet")


@cache
def class_catalog(lang: str) -> dict[str, dict[str, str]]:
    """dataset -> {published English class name -> name in `lang`} (assets/i18n/classes/<lang>.json).

    A name is present only where the language has one; the rest stay as published."""
    path = CLASS_NAMES_DIR / f"{lang}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def class_name(lang: str, dataset: str, name: str) -> str:
    """A class of a published dataset ('voc', 'coco', 'imagenet') in `lang` where a translation exists."""
    return class_catalog(lang).get(dataset, {}).get(name) or name


def dataset_of(model_name: str) -> str | None:
    """The dataset whose classes a registry model predicts: 'alexnet.imagenet' -> 'imagenet'; lab models -> None."""
    suffix = model_name.rsplit(".", 1)[-1]
    return suffix if suffix in DATASETS else None


def languages() -> dict[str, str]:
    """code -> the language's own name, for every catalog present ('en' first)."""
    codes = sorted(p.stem for p in CATALOG_DIR.glob("*.json") if re.fullmatch(r"[a-z]{2,3}", p.stem))
    codes.sort(key=lambda c: c != DEFAULT_LANGUAGE)
    return {code: catalog(code)["language.name"] for code in codes}


def pick_language(requested: str | None, browser_locale: str | None) -> str:
    """The language of a first visit: the link's ?lang= if the app has it, else the browser's
    language ('pl-PL' -> 'pl') if the app has it, else English."""
    known = languages()
    if requested in known:
        return requested
    base = (browser_locale or "").replace("_", "-").split("-")[0].lower()
    return base if base in known else DEFAULT_LANGUAGE


def translator(lang: str) -> Callable[..., str]:
    """t(key, **values): the string for `key` in `lang` (else English), formatted with values."""
    chosen = catalog(lang) if lang in languages() else {}
    fallback = catalog(DEFAULT_LANGUAGE)
    locale = lang if chosen else DEFAULT_LANGUAGE

    def t(key: str, **values) -> str:
        text = chosen.get(key) or fallback[key]
        if isinstance(text, dict):  # plural forms by CLDR category: {"one": ..., "few": ..., "other": ...}
            text = text.get(plural_category(values["count"], locale)) or text["other"]
        values = {k: number(v, locale) if _is_number(v) else v for k, v in values.items()}
        return text.format(**values) if values else text

    return t


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def plural_category(count: float, lang: str) -> str:
    """CLDR's plural category of a count in a language (Babel): 'one', 'few', 'many' or 'other'."""
    return Locale.parse(lang).plural_form(count)


def number(value: float, lang: str, digits: int | None = None) -> str:
    """A number written the language's way: 61,100,840 (en) · 61.100.840 (ro) · 61 100 840 (pl, uk, ru);
    0.11 · 0,11. digits fixes the decimals; without it, up to three as needed."""
    pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=lang)


def percent(value: float, lang: str, digits: int = 0) -> str:
    """A share written the language's way: 95% (en) · 95 % (ro) · 95% (pl)."""
    return format_percent(value, format="#,##0" + ("." + "0" * digits if digits else "") + "%", locale=lang)
