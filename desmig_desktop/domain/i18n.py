"""One translation function for every user-visible string, usable without Qt.

Source strings are Bahasa Indonesia (the default UI language). Other languages are JSON
catalogs ``resources/i18n/<lang>*.json`` (one per part of the app, merged) mapping the
Indonesian msgid to its translation; a missing entry falls back to Indonesian. Placeholders
are always named: ``{count}``.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from desmig_desktop.domain.reference import RESOURCES_DIR, load_countries

LANGUAGES = ("id", "en")
_CATALOG_DIR = RESOURCES_DIR / "i18n"
_state = {"lang": "id"}


@cache
def _catalog(lang: str) -> dict[str, str]:
    data: dict[str, str] = {}
    if lang != "id":
        for path in sorted(_CATALOG_DIR.glob(f"{lang}*.json")):
            data.update(json.loads(path.read_text(encoding="utf-8")))
    return data


def set_language(lang: str) -> None:
    """Switch the language of every later ``_()`` call."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language: {lang!r}")
    _state["lang"] = lang


def get_language() -> str:
    return _state["lang"]


def _(msgid: str, **values: Any) -> str:
    """Translate ``msgid`` into the current language and fill its named placeholders."""
    text = _catalog(_state["lang"]).get(msgid, msgid)
    return text.format(**values) if values else text


def pick(label_id: str, label_en: str) -> str:
    """Choose between the two labels a spec carries, by the current language."""
    return label_en if _state["lang"] == "en" else label_id


def country_name(code: str) -> str:
    """An ISO country code as the country's name in the current language (the code if unknown)."""
    for country in load_countries():
        if country.code == code:
            return pick(country.name_id, country.name_en)
    return code
