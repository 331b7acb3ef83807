"""Masking of personal identifiers (NIK, KK, phone numbers) in text bound for logs (stdlib only).

Lives in the domain so the HQ server masks its logs with the very same rules as the laptop.
"""

from __future__ import annotations

import logging
import re

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


class MaskingFilter(logging.Filter):
    """Masks a record's message in place, for handlers whose formatter is not ours (uvicorn's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_identifiers(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
