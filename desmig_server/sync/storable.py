"""Values no record may hold, found before an op is merged (``OpApplier``, ``prepare``)."""

from __future__ import annotations

import math
import re
from typing import Any

# Tab, line feed and carriage return are text; a lone UTF-16 surrogate (JSON text may carry
# ``"\\ud800"``) is not: UTF-8 cannot encode it, so no database, reply or export could hold it.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def unstorable(fields: dict[str, Any]) -> bool:
    """Whether an op carries a value no record may hold (see ``_unstorable``); flat text and
    integer values — nearly every op — are checked with one regex pass over their joined text."""
    texts: list[str] = []
    for key, value in fields.items():
        if type(key) is not str:
            return _unstorable(fields)
        texts.append(key)
        kind = type(value)
        if kind is str:
            texts.append(value)
        elif kind is float:
            if not math.isfinite(value):
                return True
        elif not (value is None or kind is int or kind is bool):
            return _unstorable(fields)
    return _CONTROL.search("".join(texts)) is not None


def _unstorable(fields: dict[str, Any]) -> bool:
    """Whether an op carries a value no record may hold: a control character (PostgreSQL text
    cannot store NUL; none belongs in a questionnaire answer, and it would break spreadsheets and
    logs), or a NaN/infinite number (it passes range checks, since every comparison with NaN is
    false, and no JSON reply can carry it: one such record would make a village's pull fail).
    Keys are checked too (a lone surrogate in one cannot even be encoded for a reply or a
    query). Iterative, so deep nesting cannot exhaust the stack."""
    stack: list[Any] = [fields]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if _CONTROL.search(value):
                return True
        elif isinstance(value, float):
            if not math.isfinite(value):
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False
