"""JSON text of conflict values, without the per-call cost of ``json.dumps``.

``json.dumps`` with non-default arguments builds a new encoder on every call; scalars (nearly
every conflict value) are encoded directly here. Records and history rows are stored through
``jsontext.stored_sorted``.
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses
from typing import Any

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
