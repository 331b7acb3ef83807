"""Masking of personal identifiers (NIK, KK, phone numbers) in text bound for logs (stdlib only).

Lives in the domain so the HQ server masks its logs with the very same rules as the laptop.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Mapping
from typing import Any

_LONG_DIGITS = re.compile(r"(?<!\d)(\d{4})\d{8}(\d{4})(?!\d)")  # NIK / KK: 16 digits
_PHONE = re.compile(r"(?<![\d.])(\+?62|0)8\d{6,11}(?!\d)")
_FOREIGN_PHONE = re.compile(r"(?<![\d.])(\+\d{2})\d{5,13}(?!\d)")  # E.164 of any country (PMI abroad)


def mask_identifiers(text: str) -> str:
    """``3201050101900001`` → ``3201********0001``; phone numbers → ``08**********``, ``+60*********``."""
    text = _LONG_DIGITS.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    text = _PHONE.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - len(m.group(1))), text)
    return _FOREIGN_PHONE.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - len(m.group(1))), text)


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_identifiers(super().format(record))


def _mask_value(value: Any) -> Any:
    """``value`` with identifiers masked, keeping its type wherever it held none.

    Strings stay strings and containers keep their shape (a formatter may unpack them: uvicorn's
    access formatter expects ``record.args`` to be its 5-tuple). Any other value whose text shows
    an identifier (an ``int`` NIK, an exception) becomes its masked text.
    """
    if isinstance(value, str):
        return mask_identifiers(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, tuple):
        return tuple(_mask_value(v) for v in value)
    if isinstance(value, list):
        return [_mask_value(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _mask_value(v) for k, v in value.items()}
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 — a broken __str__ is the formatter's problem, not ours
        return value
    masked = mask_identifiers(text)
    return value if masked == text else masked


class MaskingFilter(logging.Filter):
    """Masks identifiers in a record before any formatter sees it, whichever formatter that is.

    For handlers whose formatter is not ours (uvicorn's). The message, every argument (types and
    shape kept, so ``msg % args`` and formatters that unpack ``args`` still work), uvicorn's
    ``color_message``, and the exception and stack text are masked in place; a record passed on
    to a second handler is masked already (masking is idempotent).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _mask_value(record.msg)
        if record.args:
            record.args = _mask_value(record.args)
        color = record.__dict__.get("color_message")
        if isinstance(color, str):
            record.__dict__["color_message"] = mask_identifiers(color)
        if record.exc_info and not record.exc_text:
            # Formatters reuse a cached ``exc_text`` instead of formatting the traceback again.
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = mask_identifiers(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_identifiers(record.stack_info)
        return True
