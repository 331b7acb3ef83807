"""Every user-visible string has an English translation with the same named placeholders."""

from __future__ import annotations

import importlib.util
import string
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "i18n_missing.py"
spec = importlib.util.spec_from_file_location("i18n_missing", SCRIPT)
assert spec and spec.loader
i18n_missing = importlib.util.module_from_spec(spec)
spec.loader.exec_module(i18n_missing)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_msgid_has_an_english_translation() -> None:
    missing = i18n_missing.missing("en")
    assert not missing, "untranslated (run scripts/i18n_missing.py):\n" + "\n".join(
        f"{where}: {m}" for m, where in missing.items())


def test_placeholders_agree() -> None:
    catalog = i18n_missing.catalog("en")
    bad = {m: t for m, t in catalog.items() if _fields(m) != _fields(t)}
    assert not bad


def test_msgids_use_named_placeholders_only() -> None:
    positional = [m for m in i18n_missing.msgids() if "{}" in m or any(n.isdigit() for n in _fields(m))]
    assert not positional
