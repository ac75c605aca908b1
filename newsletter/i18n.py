"""The languages subscribers can read us in, and which way each is written."""

from __future__ import annotations

# Complete catalogs exist for these (newsletter/translations/).
LOCALES = ("en", "fa")
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur"})


def direction(locale: str | None) -> str:
    return "rtl" if (locale or "").split("_")[0] in RIGHT_TO_LEFT else "ltr"
