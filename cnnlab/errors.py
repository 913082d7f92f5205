"""Errors a person can cause by typing impossible settings, with translatable messages."""

from __future__ import annotations

from collections.abc import Callable

from cnnlab.i18n import translator


class LessonInputError(ValueError):
    """An impossible setting or matrix. `key` is a catalog entry, `values` fill it in.

    Values that are themselves catalog keys (those starting with 'param.') are
    translated too, so 'stride' reads 'pasul' in Romanian. str(err) is the English text.
    """

    def __init__(self, key: str, **values):
        self.key, self.values = key, values
        super().__init__(self.message(translator("en")))

    def message(self, t: Callable[..., str]) -> str:
        return t(self.key, **{k: _term(t, v) for k, v in self.values.items()})


class Verbatim(str):
    """Text a person typed, shown as it is: never looked up in a catalog, even if it reads 'param.stride'."""


def _term(t: Callable[..., str], value):
    """A 'param.*' value is translated when it is a catalog key; a person's text (Verbatim) stays as typed."""
    if isinstance(value, str) and not isinstance(value, Verbatim) and value.startswith("param."):
        try:
            return t(value)
        except KeyError:
            return value
    return value
