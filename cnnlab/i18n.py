"""Translation catalogs (assets/i18n/<lang>.json) and a lookup with English fallback.

Numbers given to a translation are written the language's way (Babel's CLDR data), and a
catalog entry may be a dict of plural forms chosen by the value of its {count}.

The language is a per-session choice made by the caller; nothing here is global state
that one session could change for another.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Callable
from functools import cache
from numbers import Real

import numpy as np
from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent, get_decimal_symbol, get_group_symbol

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
    return dict(_languages())  # a copy: callers may not change the cached one


@cache
def _languages() -> dict[str, str]:
    # cached like the catalogs themselves: listing the folder on every translation cost 19 % of a busy
    # server's time (a hall of 30 pressing Train); a catalog added later is read after a restart
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
    if isinstance(value, Real):  # (Babel also takes a decimal string)
        if not math.isfinite(value):
            return str(value)
        if abs(value) >= 1e15 or (digits is None and 0 < abs(value) < 1e-4):  # beyond plain digits: 1.23·10³⁰⁸
            return scientific(value, lang, 3)
    pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=lang)


def date_text(iso: str, lang: str) -> str:
    """An ISO date (2026-11-22) the language's way: Nov 22, 2026 · 22 nov. 2026 · 22 лист. 2026 р."""
    return format_date(datetime.date.fromisoformat(iso), format="medium", locale=lang)


def percent(value: float, lang: str, digits: int = 0) -> str:
    """A share written the language's way: 95% (en, pl, uk) · 95 % (ro, ru); digits fixes the decimals."""
    head, zero, tail = Locale.parse(lang).percent_formats[None].pattern.rpartition("0")  # '#,##0', ' %'
    return format_percent(value, format=head + zero + ("." + "0" * digits if digits else "") + tail, locale=lang)


def decimal_symbol(lang: str) -> str:
    """The decimal separator of a language (CLDR): '.' in English, ',' in ro, pl, uk and ru."""
    return get_decimal_symbol(lang)


def plotly_separators(lang: str) -> str:
    """Plotly's layout.separators for a language: its decimal then its thousands separator ('.,', ',.', ',\\xa0')."""
    return get_decimal_symbol(lang) + get_group_symbol(lang)


def significant(value: float, lang: str, digits: int = 3) -> str:
    """A measured value with `digits` significant digits, the language's way: 0.0123 · 0,0123; 1,230 · 1 230.

    Tiny or huge values (below 1e-4, from 1e7) are written as powers of ten: 9.4·10⁻¹⁴."""
    value = float(value)
    if value != 0 and (abs(value) < 1e-4 or abs(value) >= 1e7):
        return scientific(value, lang, digits)
    rounded = float(f"{value:.{digits}g}")
    decimals = max(0, digits - 1 - int(np.floor(np.log10(abs(rounded))))) if rounded else 0
    text = format_decimal(rounded, format="#,##0" + ("." + "#" * decimals if decimals else ""), locale=lang)
    return "0" if text in ("-0", "−0") else text


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def scientific(value: float, lang: str, digits: int = 2) -> str:
    """value as a lecturer writes a power of ten, the language's way: 9.4·10⁻¹⁴ · 9,4·10⁻¹⁴."""
    mantissa, exponent = f"{float(value):.{digits - 1}e}".split("e")
    return f"{number(float(mantissa), lang)}·10{str(int(exponent)).translate(SUPERSCRIPT)}"


_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")


def localise_decimals(text: str, lang: str, lists: bool = True) -> str:
    """Text written with cnnlab.steps.fmt ('0.5', 'max(1, 2.5) = 2.5') in the language's decimals.

    Where the decimal separator is a comma, a list's ', ' becomes '; ' first (unless lists=False, for a
    single number), so that 'max(1; 2,5)' stays readable. Only for text whose numbers fmt wrote (no
    thousands separators)."""
    decimal = get_decimal_symbol(lang)
    if decimal == ".":
        return text
    if decimal == "," and lists:
        text = text.replace(", ", "; ")
    return _DECIMAL_POINT.sub(decimal, text)
