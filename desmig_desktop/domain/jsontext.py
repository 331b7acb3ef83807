"""Compact JSON through orjson where it writes exactly what the standard library writes.

Sync moves every record through JSON several times (op hash, push body, server storage, pull
page), and the standard library's encoder cost ~5 µs per record each time, orjson ~0.5 µs.
The two differ only where this module falls back to ``json``:

* a float that is not finite (orjson writes ``null``, ``json`` writes ``NaN``, which the server
  then refuses per op) or below 1e-4 in magnitude (``1e-05`` vs orjson's ``0.00001``/``1e-5``);
* what orjson refuses: integers beyond 64 bits, lone surrogates, non-string keys, deep nesting;
* any type other than str, int, float, bool, None, dict, list and tuple.

So op hashes (DESIGN §4) never depend on which path encoded an op: old and new clients and
servers agree byte for byte (``tests/unit/test_jsontext.py`` checks this against ``json``).
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_COMPACT_SORTED = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, sort_keys=True)
_SMALLEST_PLAIN = 1e-4  # Python writes smaller magnitudes with an exponent, orjson differently


def exact(value: Any) -> bool:
    """Whether orjson writes ``value`` exactly as ``json`` does (see the module docstring).
    A loop over a stack rather than recursion: it runs for every value of every op pushed."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is float:
            if not (item == 0.0 or _SMALLEST_PLAIN <= abs(item) < math.inf):  # NaN fails both
                return False
        elif kind is dict:
            for key in item:
                if type(key) is not str:
                    return False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        else:
            return False
    return True


def _orjson_if_exact(value: Any, option: int = 0) -> bytes | None:
    """orjson's text of ``value`` when it is exactly ``json``'s, else ``None``."""
    if exact(value):
        try:
            return orjson.dumps(value, option=option)
        except orjson.JSONEncodeError:  # a big integer, a lone surrogate, deep nesting
            pass
    return None


def compact(value: Any) -> bytes:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` as UTF-8 bytes."""
    text = _orjson_if_exact(value)
    return text if text is not None else _COMPACT.encode(value).encode("utf-8")


def compact_sorted(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)``."""
    text = _orjson_if_exact(value, orjson.OPT_SORT_KEYS)
    return text.decode("utf-8") if text is not None else _COMPACT_SORTED.encode(value)


def stored_sorted(value: Any) -> str:
    """Compact key-sorted JSON for text that is read back, never compared byte for byte (the
    HQ's stored records and history): orjson without the ``exact`` walk, which cost more than
    the encoding. Its floats read back as the same numbers; a non-finite float must not reach
    here (orjson would write ``null``): the server refuses such ops before storing anything."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except orjson.JSONEncodeError:  # a big integer, a lone surrogate, a non-string key
        return _COMPACT_SORTED.encode(value)


# Every digit as "0", and every character after which a JSON number can start as "!": then
# "!" and _LONG_DIGITS zeros mark an integer literal orjson may read otherwise (a digit run
# inside a string, a hex digest's, follows a letter, a digit or a quote, and is left alone).
_BEFORE_NUMBER = b":[, \t\r\n-"
_NUMBER_MAP_B = bytes.maketrans(b"123456789" + _BEFORE_NUMBER, b"000000000" + b"!" * len(_BEFORE_NUMBER))
_NUMBER_MAP_S = str.maketrans("123456789" + _BEFORE_NUMBER.decode(), "000000000" + "!" * len(_BEFORE_NUMBER))
_LONG_DIGITS = 19  # 2**63 has 19 digits: every integer beyond 64 bits has at least as many


def loads(text: bytes | str) -> Any:
    """``json.loads``: orjson for valid JSON; the standard library for what orjson refuses and
    ``json`` reads (``NaN``, ``Infinity``, lone surrogates, a byte-order mark), so callers see
    the same values and the same ``ValueError`` (``json.JSONDecodeError``) as before.

    orjson does not refuse an integer beyond 64 bits: it reads it as a float (``2**64`` becomes
    ``1.8446744073709552e+19``, where ``json`` keeps the integer). So a text where an integer of
    19 digits or more may start — after the start, a space, ``:``, ``[``, ``,`` or ``-`` — is
    read by ``json``. A hex digest's digit runs (a push body's op hashes) do not count: the
    first version of this check counted every run of 19 digits, and a 5,000-op push with op
    hashes always held one, so every such body went to ``json``. Finding one costs a translate
    and a substring search (0.34 µs for 486 bytes), far less than what orjson saves."""
    if isinstance(text, bytes):
        long_run = b"!" + b"0" * _LONG_DIGITS in b"!" + text.translate(_NUMBER_MAP_B)
    else:
        long_run = "!" + "0" * _LONG_DIGITS in "!" + text.translate(_NUMBER_MAP_S)
    if not long_run:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)
