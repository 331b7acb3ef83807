"""JSON text for the push path, without the per-call cost of ``json.dumps``.

A push of 1,000 ops writes 1,000 records rows (data and field metadata) and 1,000 history rows,
each holding JSON. ``json.dumps`` with non-default arguments builds a new encoder on every
call; scalars (conflict values) are encoded directly here, and objects go through
orjson (``jsontext.stored_sorted``; ~10× faster).
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses
from typing import Any

from desmig_desktop.domain.jsontext import stored_sorted

_TEXT = json.JSONEncoder(ensure_ascii=False)


def dumps_text(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)``."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    return _TEXT.encode(value)


def dumps_sorted_text(value: Any) -> str:
    """Compact key-sorted JSON of a stored value (``jsontext.stored_sorted``: the values were
    validated, so every float is finite)."""
    return stored_sorted(value)
