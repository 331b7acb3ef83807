"""Raw answers to their stored form: one value at a time, by the field's kind.

A form gives strings, a spreadsheet numbers and datetimes, a push JSON values; ``coerce`` turns
each into what the database stores (ISO dates, UTC instants, whole rupiah, sorted choice lists,
zero-padded RT/RW) or ``None`` for empty, and raises ``CoerceError`` for a value that cannot be
one of its kind. Whether a well-formed value is *acceptable* is ``field_rules``'s question.
A message never repeats the value (see ``validation``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from desmig_desktop.domain.fields import FieldSpec, Kind
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.phone import check_phone, tidy

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_TRUE = {"1", "true", "ya", "y", "yes", "benar"}
_FALSE = {"0", "false", "tidak", "t", "no", "n", "salah"}
# Longer digit strings are no questionnaire answer, and ``int()`` refuses beyond 4,300 digits
# with a plain ValueError (Python's int_max_str_digits).
_MAX_DIGITS = 40


class CoerceError(ValueError):
    """A raw value that cannot be one of its field's kind; the message is for the officer."""


def parse_date(raw: Any) -> dt.date:
    """Accept ISO ``YYYY-MM-DD`` or the displayed ``dd/mm/yyyy``; a datetime gives its date."""
    if isinstance(raw, dt.datetime):  # a date cell with a time: a datetime is also a dt.date
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw).strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return dt.date.fromisoformat(text)  # the stored form: fast path (no strptime)
        except ValueError:
            raise CoerceError(_("Tanggal tidak valid; gunakan format hh/bb/tttt.")) from None
    for fmt in ("%d/%m/%Y",):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CoerceError(_("Tanggal tidak valid; gunakan format hh/bb/tttt."))


def parse_instant(raw: Any) -> str:
    """A moment as stored: UTC ``YYYY-MM-DDTHH:MM:SSZ``. ISO text with an offset (or ``Z``), or a
    datetime; one without an offset is taken as UTC (the app writes UTC); a date is its midnight."""
    if isinstance(raw, dt.datetime):
        moment = raw
    elif isinstance(raw, dt.date):
        moment = dt.datetime(raw.year, raw.month, raw.day)
    else:
        text = str(raw).strip()
        if _CONTROL_RE.search(text):
            raise CoerceError(_("Berisi karakter kontrol yang tidak diizinkan."))
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise CoerceError(_("Waktu tidak valid; gunakan format ISO 8601, misalnya 2026-03-01T08:30:00Z.")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError):  # year 1 with a positive offset, year 9999 with a negative one
        raise CoerceError(_("Waktu tidak valid; gunakan format ISO 8601, misalnya 2026-03-01T08:30:00Z.")) from None


def parse_money(raw: Any) -> int:
    if isinstance(raw, bool):
        raise CoerceError(_("Jumlah uang harus bilangan bulat rupiah."))
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float):
        if not raw.is_integer():
            raise CoerceError(_("Jumlah uang harus bilangan bulat rupiah."))
        value = int(raw)
    else:
        text = str(raw).strip().replace("Rp", "").replace(" ", "").replace(".", "")
        if not text.lstrip("-").isdigit() or len(text) > _MAX_DIGITS:
            raise CoerceError(_("Jumlah uang harus bilangan bulat rupiah."))
        value = int(text)
    if value < 0:
        raise CoerceError(_("Jumlah uang tidak boleh negatif."))
    return value


def _coerce_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise CoerceError(_("Harus bilangan bulat."))
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    text = str(raw).strip()
    if not re.fullmatch(r"-?\d+", text) or len(text) > _MAX_DIGITS:
        raise CoerceError(_("Harus bilangan bulat."))
    return int(text)


def _coerce_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CoerceError(_("Harus Ya atau Tidak."))


# Kinds whose stored form is the stripped text itself (``coerce``'s fast path for string input).
_TEXT_KINDS = frozenset({Kind.TEXT, Kind.CHOICE, Kind.NIK, Kind.KK, Kind.REGION, Kind.DIGITS, Kind.REF})


def coerce(spec: FieldSpec, raw: Any) -> Any:
    """Normalise one raw value to its stored form; ``None`` for empty; ``CoerceError`` if malformed."""
    if raw is None:
        return None
    kind = spec.kind
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None
        if kind in _TEXT_KINDS:  # nearly every value validated: one strip and one regex scan
            if _CONTROL_RE.search(text):
                raise CoerceError(_("Berisi karakter kontrol yang tidak diizinkan."))
            return text if spec.zero_pad is None else zero_padded(spec, text)
    return _coerce_slow(spec, kind, raw)


def zero_padded(spec: FieldSpec, text: str) -> str:
    """RT and RW as written on the KTP (``006``), whether typed ``6`` in the form or in a spreadsheet."""
    width = spec.zero_pad or 0
    return text.zfill(width) if len(text) < width and text.isascii() and text.isdigit() else text


def _coerce_slow(spec: FieldSpec, kind: Kind, raw: Any) -> Any:
    """``coerce`` for the other kinds and non-string input (an empty string never gets here)."""
    if kind in (Kind.INT,):
        return _coerce_int(raw)
    if kind is Kind.MONEY:
        return parse_money(raw)
    if kind is Kind.FLOAT:
        try:
            value = float(str(raw).replace(",", ".")) if not isinstance(raw, (int, float)) else float(raw)
        except (ValueError, OverflowError):  # an integer beyond a float's range overflows
            raise CoerceError(_("Harus angka desimal.")) from None
        if not math.isfinite(value):  # NaN passes every bound check, then poisons every report
            raise CoerceError(_("Harus angka desimal."))
        return value
    if kind is Kind.DATE:
        return parse_date(raw).isoformat()
    if kind is Kind.DATETIME:
        return parse_instant(raw)
    if kind is Kind.BOOL:
        return _coerce_bool(raw)
    if kind is Kind.MULTI:
        parts = raw if isinstance(raw, (list, tuple, set)) else str(raw).split(",")
        items = sorted({str(p).strip() for p in parts if str(p).strip()})
        unknown = [p for p in items if p not in spec.choice_values]
        if unknown:
            raise CoerceError(_("Pilihan tidak dikenal."))
        return ",".join(items) or None
    if not isinstance(raw, str):
        if isinstance(raw, (int, float)) and kind in (Kind.DIGITS, Kind.TEXT, Kind.PHONE, Kind.CHOICE):
            raw = str(raw)
        else:
            raise CoerceError(_("Harus berupa teks."))
    text = raw.strip()
    if _CONTROL_RE.search(text.replace("\n", "").replace("\t", "") if kind is Kind.LONG_TEXT else text):
        raise CoerceError(_("Berisi karakter kontrol yang tidak diizinkan."))
    if kind is Kind.PHONE:
        # a foreign number in E.164, an Indonesian one as typed (the stored form needs no range check)
        text = check_phone(tidy(text), soft=False).value
    if spec.zero_pad is not None:
        text = zero_padded(spec, text)
    if kind is Kind.COUNTRY:
        text = text.upper()
    return text
