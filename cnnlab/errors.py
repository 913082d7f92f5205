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
        values = {k: t(v) if isinstance(v, str) and v.startswith("param.") else v for k, v in self.values.items()}
        return t(self.key, **values)
