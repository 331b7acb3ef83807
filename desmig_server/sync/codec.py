"""JSON text for the push path, byte-for-byte what ``json.dumps`` gives, without its per-call cost.

A push of 1,000 ops writes ~12,000 audit rows, each with two JSON values that are nearly always
a string, a number, a boolean or null. ``json.dumps(value, ensure_ascii=False)`` builds a new
encoder on every call (non-default arguments), which cost more than the rest of the audit
trail; scalars are encoded directly here and everything else goes through encoders built once.
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses
from typing import Any

_TEXT = json.JSONEncoder(ensure_ascii=False)
_TEXT_SORTED = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
_ASCII_SORTED = json.JSONEncoder(sort_keys=True)


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
    """``json.dumps(value, ensure_ascii=False, sort_keys=True)``."""
    return _TEXT_SORTED.encode(value)


def dumps_sorted(value: Any) -> str:
    """``json.dumps(value, sort_keys=True)``."""
    return _ASCII_SORTED.encode(value)
